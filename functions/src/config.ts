/**
 * Every setting of the deployment, declared once. `.value()` is only called
 * at run time (inside handlers), never at import: params are not resolved
 * while firebase-tools loads the code to discover functions.
 */
import { defineInt, defineSecret, defineString } from "firebase-functions/params";
import { z } from "zod";

export const REGION = "us-central1";
/** Webhook bodies above this get 413 (the contract's limit). */
export { MAX_BODY_BYTES } from "../../contract/src/limits.js";

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
/**
 * A trigger's path is fixed when the function is deployed, before params are
 * resolved; firebase-tools puts functions/.env* into the environment while it
 * reads the code, so the same setting is read from there.
 */
export const ROWS_TRIGGER_DOCUMENT = `${process.env.SHEET_SYNC_COLLECTION || "rows"}/{rowId}`;

/**
 * How often the reconcile compares the whole tab with Firestore (a Cloud
 * Scheduler schedule, fixed at deploy like the trigger's path). Each run
 * reads the tab once and every row's document and state: see the README's
 * cost table before making it more frequent.
 */
export const RECONCILE_SCHEDULE = process.env.SHEET_SYNC_RECONCILE_SCHEDULE || "every 60 minutes";

/** The reconcile queue: one at a time; a reconcile asked for again within a minute is the same task. */
export const RECONCILE_RATE_LIMITS = { maxConcurrentDispatches: 1, maxDispatchesPerSecond: 0.1 };
export const RECONCILE_RETRY = { maxAttempts: 5, minBackoffSeconds: 30, maxBackoffSeconds: 600 };

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
