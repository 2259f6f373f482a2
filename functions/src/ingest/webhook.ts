/**
 * The HTTP edge of Sheet → Firestore: checks method, size and signature
 * before it parses anything, validates the body, and only then writes. Every
 * rejection happens before the first write, so a rejected request writes
 * nothing.
 */
import type { Request } from "firebase-functions/v2/https";
import type { Response } from "express";
import { parseSheetBatch, type SheetBatch } from "../core/batch.js";
import type { Outcome, RowResult } from "../core/ingest.js";
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from "../core/signature.js";
import type { SyncConfig } from "../config.js";
import * as logs from "../logs.js";

export interface WebhookDeps {
  secret: () => string;
  config: () => SyncConfig;
  ingest: (batch: SheetBatch, config: SyncConfig, now: number) => Promise<RowResult[]>;
  now: () => number;
  maxBodyBytes: number;
}

export function createWebhookHandler(deps: WebhookDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const reject = (status: number, error: string, extra: Record<string, unknown> = {}) => {
      logs.webhookRejected(status, error, extra);
      res.status(status).json({ error, ...extra });
    };

    if (req.method !== "POST") {
      res.set("Allow", "POST");
      return reject(405, "method_not_allowed", { message: "use POST" });
    }
    const declared = Number(req.get("content-length") ?? 0);
    const raw = req.rawBody;
    if (declared > deps.maxBodyBytes || (raw && raw.length > deps.maxBodyBytes)) {
      return reject(413, "body_too_large", { limitBytes: deps.maxBodyBytes });
    }
    const now = deps.now();
    const check = verifySignature({
      secret: deps.secret(),
      timestamp: req.get(TIMESTAMP_HEADER),
      signature: req.get(SIGNATURE_HEADER),
      body: raw ?? Buffer.alloc(0),
      now,
    });
    if (!check.ok) return reject(401, "unauthorized", { reason: check.reason });

    if (!req.is("application/json")) {
      return reject(400, "invalid_body", { issues: ["Content-Type: must be application/json"] });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw!.toString("utf8"));
    } catch (err) {
      return reject(400, "invalid_body", {
        issues: [`(body): not JSON: ${(err as Error).message}`],
      });
    }
    const parsed = parseSheetBatch(body, now);
    if (!parsed.ok) return reject(400, "invalid_body", { issues: parsed.issues });

    const config = deps.config();
    const { batch } = parsed;
    const wrongSheet: string[] = [];
    if (batch.spreadsheetId !== config.spreadsheetId) {
      wrongSheet.push(
        `spreadsheetId: "${batch.spreadsheetId}" is not the synced spreadsheet (SHEET_SYNC_SPREADSHEET_ID)`,
      );
    }
    if (batch.sheetName !== config.sheetName) {
      wrongSheet.push(
        `sheetName: "${batch.sheetName}" is not the synced tab (SHEET_SYNC_SHEET_NAME)`,
      );
    }
    if (wrongSheet.length) return reject(400, "invalid_body", { issues: wrongSheet });

    let results: RowResult[];
    try {
      results = await deps.ingest(batch, config, now);
    } catch (err) {
      logs.ingestFailed(err);
      // 5xx: the sender keeps the batch in its outbox and retries; LWW makes a retry harmless.
      res.status(500).json({ error: "internal", message: "ingest failed; retry later" });
      return;
    }
    const counts: Record<Outcome, number> = { applied: 0, duplicate: 0, skipped_older: 0 };
    for (const r of results) counts[r.outcome]++;
    logs.batchIngested({
      spreadsheetId: batch.spreadsheetId,
      sheetName: batch.sheetName,
      rows: results.length,
      counts,
      ms: deps.now() - now,
    });
    res.status(200).json({ results, counts });
  };
}
