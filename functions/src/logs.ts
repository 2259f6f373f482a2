/** Every log line of the sync, named, with structured fields. */
import * as logger from "firebase-functions/logger";
import type { RowOutcome, RowResult } from "../../contract/src/wire.js";

export const webhookRejected = (status: number, reason: string, detail?: unknown) =>
  logger.warn("sheet webhook rejected", { status, reason, detail });

export const batchIngested = (fields: {
  spreadsheetId: string;
  sheetName: string;
  rows: number;
  counts: Record<RowOutcome, number>;
  rejected: RowResult[];
  ms: number;
}) => logger.info("sheet batch ingested", fields);

export const ingestFailed = (err: unknown) =>
  logger.error("sheet batch ingest failed", {
    error: err instanceof Error ? err.stack : String(err),
  });

export const docEventHandled = (fields: { rowId: string; outcome: string; isDelete: boolean }) =>
  logger.info("row document event handled", fields);

export const flushFinished = (fields: Record<string, unknown>) =>
  logger.info("sheet flush finished", fields);

export const flushFailedPermanently = (fields: { sheet: string; reason: string }) =>
  logger.error("sheet flush failed permanently; rows stay queued", fields);

export const flushWillRetry = (fields: { sheet: string; error: string; retryCount: number }) =>
  logger.warn("sheet flush failed; Cloud Tasks will retry", fields);

export const reconcileFinished = (fields: Record<string, unknown>) =>
  logger.info("reconcile finished", fields);

export const reconcileFailed = (err: unknown) =>
  logger.error("reconcile failed", { error: err instanceof Error ? err.stack : String(err) });

export const describeFailed = (err: unknown) =>
  logger.error("describe failed", { error: err instanceof Error ? err.stack : String(err) });

export const outboxSwept = (fields: { sheet: string; rows: number }) =>
  logger.warn("rows were waiting without a flush; a flush is scheduled", fields);

export const rowIdUnusable = (fields: { rowId: string }) =>
  logger.warn(
    "document id is not a usable row id (A-Z a-z 0-9 _ -, 1-128, not __x__); not synced to the sheet",
    fields,
  );
