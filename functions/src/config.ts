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
/** Webhook bodies above this get 413; ~100 bytes a cell, that is ~20,000 rows of 5 columns. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Rows per Firestore transaction: up to 2 writes a row stays well inside commit limits. */
export const ROWS_PER_COMMIT = 200;
/** Transactions in flight at once while ingesting one request. */
export const COMMITS_IN_FLIGHT = 4;

export const webhookSecret = defineSecret("SHEET_SYNC_SECRET");

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

const syncConfigSchema = z.object({
  collection: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, "SHEET_SYNC_COLLECTION must be a top-level collection id"),
  spreadsheetId: z.string().min(1, "SHEET_SYNC_SPREADSHEET_ID is not set"),
  sheetName: z.string().min(1, "SHEET_SYNC_SHEET_NAME is empty"),
  tombstoneRetentionMs: z.number().int().positive("SHEET_SYNC_TOMBSTONE_DAYS must be at least 1"),
});

export type SyncConfig = z.infer<typeof syncConfigSchema>;

export function syncConfig(): SyncConfig {
  return syncConfigSchema.parse({
    collection: collection.value(),
    spreadsheetId: spreadsheetId.value(),
    sheetName: sheetName.value(),
    tombstoneRetentionMs: tombstoneDays.value() * 24 * 60 * 60 * 1000,
  });
}
