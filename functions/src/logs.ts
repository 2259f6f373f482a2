/** Every log line of the sync, named, with structured fields. */
import * as logger from "firebase-functions/logger";
import type { Outcome } from "./core/ingest.js";

export const webhookRejected = (status: number, reason: string, detail?: unknown) =>
  logger.warn("sheet webhook rejected", { status, reason, detail });

export const batchIngested = (fields: {
  spreadsheetId: string;
  sheetName: string;
  rows: number;
  counts: Record<Outcome, number>;
  ms: number;
}) => logger.info("sheet batch ingested", fields);

export const ingestFailed = (err: unknown) =>
  logger.error("sheet batch ingest failed", {
    error: err instanceof Error ? err.stack : String(err),
  });

export const rowChangeRecorded = (fields: { rowId: string; outcome: string; changedAt?: number }) =>
  logger.info("row change recorded", fields);

export const flushFinished = (fields: Record<string, unknown>) =>
  logger.info("sheet flush finished", fields);

export const flushFailedPermanently = (fields: { sheet: string; reason: string }) =>
  logger.error("sheet flush failed permanently; rows stay queued", fields);

export const flushWillRetry = (fields: { sheet: string; error: string; retryCount: number }) =>
  logger.warn("sheet flush failed; Cloud Tasks will retry", fields);

export const outboxSwept = (fields: { sheets: string[] }) =>
  logger.warn("rows were waiting without a flush; flushes scheduled", fields);

export const rowIdUnusable = (fields: { rowId: string }) =>
  logger.warn(
    "document id is not a usable row id (A-Z a-z 0-9 _ -, 1-128); not synced to the sheet",
    fields,
  );
