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
