/**
 * Every setting of the deployment, declared once. `.value()` is only called
 * at run time (inside handlers), never at import: params are not resolved
 * while firebase-tools loads the code to discover functions.
 */
import { defineInt, defineSecret, defineString } from "firebase-functions/params";
import { z } from "zod";

export const REGION = "us-central1";
export const CONFLICTS_COLLECTION = "syncConflicts";
export const TOMBSTONES_COLLECTION = "syncTombstones";
/** Rows waiting to be flushed to their sheet, one document per row. */
export const OUTBOX_COLLECTION = "syncOutbox";
/** Per synced tab: its columns, layout cache and last flush error. */
export const SHEETS_COLLECTION = "syncSheets";
/** Webhook bodies above this get 413; ~100 bytes a cell, that is ~20,000 rows of 5 columns. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Rows per Firestore transaction: up to 2 writes a row stays well inside commit limits. */
export const ROWS_PER_COMMIT = 200;
/** Transactions in flight at once while ingesting one request. */
export const COMMITS_IN_FLIGHT = 4;

export const webhookSecret = defineSecret("SHEET_SYNC_SECRET");

/**
 * Firestore → sheet pacing. Sheets allows 60 write and 60 read requests per
 * minute per user (the functions' service account) and 300 per project. A
 * flush makes at most 2 reads (locate rows; read the cells it will change)
 * and 3 writes (values.batchUpdate, values.append, spreadsheets.batchUpdate),
 * so 0.3 dispatches/s = 18 flushes/min stays under 54 writes and 36 reads a
 * minute. One flush at a time keeps two flushes from racing on one sheet.
 */
export const FLUSH_RATE_LIMITS = { maxConcurrentDispatches: 1, maxDispatchesPerSecond: 0.3 };
/**
 * A 429 or 5xx is retried with backoff (5 s, 10 s, … up to 5 min) for at
 * least 12 attempts and an hour before Cloud Tasks gives up; the rows stay in
 * the outbox either way and go with the next flush.
 */
export const FLUSH_RETRY = {
  maxAttempts: 12,
  maxRetrySeconds: 3600,
  minBackoffSeconds: 5,
  maxBackoffSeconds: 300,
  maxDoublings: 5,
};
/** Changes within one window share one flush task (the task id is per sheet and window). */
export const FLUSH_WINDOW_MS = 2_000;
/** A flush waits until no row changed for this long... */
export const FLUSH_QUIET_MS = 1_000;
/** ...but never delays a row more than this: a long burst flushes every 15 s. */
export const FLUSH_MAX_WAIT_MS = 15_000;
/** Rows one flush takes; more wait for the next (they stay in the outbox). */
export const FLUSH_MAX_ROWS = 5_000;

/**
 * A trigger's path is fixed when the function is deployed, before params are
 * resolved; firebase-tools puts functions/.env* into the environment while it
 * reads the code, so the same setting is read from there.
 */
export const ROWS_TRIGGER_DOCUMENT = `${process.env.SHEET_SYNC_COLLECTION || "rows"}/{rowId}`;

const collection = defineString("SHEET_SYNC_COLLECTION", {
  default: "rows",
  description: "Firestore collection that holds one document per sheet row",
});
const spreadsheetId = defineString("SHEET_SYNC_SPREADSHEET_ID", {
  description: "Id of the synced spreadsheet (from its URL: /spreadsheets/d/<id>/edit)",
});
const sheetName = defineString("SHEET_SYNC_SHEET_NAME", {
  default: "Sheet1",
  description: "Name of the synced tab of the spreadsheet",
});
const tombstoneDays = defineInt("SHEET_SYNC_TOMBSTONE_DAYS", {
  default: 30,
  description:
    "Days a deleted row's tombstone is kept, so that an older update arriving later cannot bring the row back",
});

const sheetsApiRootUrl = defineString("SHEETS_API_ROOT_URL", {
  default: "",
  description:
    "Root URL of the Sheets API; empty for Google's (with Application Default Credentials), e.g. http://127.0.0.1:4100/ for the local emulator (no credentials)",
});

const syncConfigSchema = z.object({
  collection: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, "SHEET_SYNC_COLLECTION must be a top-level collection id"),
  spreadsheetId: z.string().min(1, "SHEET_SYNC_SPREADSHEET_ID is not set"),
  sheetName: z.string().min(1, "SHEET_SYNC_SHEET_NAME is empty"),
  tombstoneRetentionMs: z.number().int().positive("SHEET_SYNC_TOMBSTONE_DAYS must be at least 1"),
  sheetsApiRootUrl: z.union([z.literal(""), z.url("SHEETS_API_ROOT_URL must be empty or a URL")]),
});

export type SyncConfig = z.infer<typeof syncConfigSchema>;

export function syncConfig(): SyncConfig {
  return syncConfigSchema.parse({
    collection: collection.value(),
    spreadsheetId: spreadsheetId.value(),
    sheetName: sheetName.value(),
    tombstoneRetentionMs: tombstoneDays.value() * 24 * 60 * 60 * 1000,
    sheetsApiRootUrl: sheetsApiRootUrl.value(),
  });
}

/** One synced tab, as a document id and task-payload key. */
export function sheetKey(spreadsheetId: string, sheetName: string): string {
  return `${spreadsheetId}:${encodeURIComponent(sheetName)}`;
}
