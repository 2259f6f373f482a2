/**
 * The HTTP edge of the sync: the script's signed batches (POST /), the
 * signed reconcile request (POST /reconcile) and the signed describe request
 * (POST /describe: what the flush wrote into rows the script has not scanned). Method, size and signature are
 * checked before anything is parsed, the envelope is validated with zod, and
 * each row is checked on its own: a bad row is refused alone, with its
 * reason, and the others apply. A refused request writes nothing.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Request } from "firebase-functions/v2/https";
import type { Response } from "express";
import {
  parseDescribeBody,
  parseWebhookBody,
  type SheetBatch,
} from "../../../contract/src/schema.js";
import {
  SIGNATURE_HEADER,
  SIGNATURE_VERSION,
  signedMessage,
  TIMESTAMP_HEADER,
} from "../../../contract/src/signature.js";
import { SIGNATURE_TOLERANCE_MS } from "../../../contract/src/limits.js";
import {
  countOutcomes,
  type BatchResponse,
  type DescribedRow,
  type DescribeResponse,
  type RowResult,
} from "../../../contract/src/wire.js";
import type { ReconcileReport } from "../sync/ports.js";
import * as logs from "../logs.js";

export interface WebhookSheet {
  spreadsheetId: string;
  sheetName: string;
}

export interface WebhookDeps {
  secret: () => string;
  /** The synced tab; a batch for another one is refused. */
  sheet: () => WebhookSheet;
  ingest: (batch: SheetBatch) => Promise<RowResult[]>;
  reconcile: () => Promise<ReconcileReport>;
  describe: (ids: readonly string[]) => Promise<DescribedRow[]>;
  now: () => number;
  maxBodyBytes: number;
}

export interface WebhookRequest {
  method: string;
  path: string;
  header: (name: string) => string | undefined;
  rawBody: Buffer;
}

export interface WebhookReply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export function sign(secret: string, timestamp: string, body: Buffer | string): string {
  const mac = createHmac("sha256", secret);
  mac.update(signedMessage(timestamp, ""));
  mac.update(body);
  return `${SIGNATURE_VERSION}=${mac.digest("hex")}`;
}

export type SignatureCheck =
  | { ok: true }
  | {
      ok: false;
      reason:
        | "missing_signature"
        | "missing_timestamp"
        | "bad_timestamp"
        | "stale_timestamp"
        | "bad_signature";
    };

export function verifySignature(opts: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Buffer;
  now: number;
}): SignatureCheck {
  const { secret, timestamp, signature, body, now } = opts;
  if (!timestamp) return { ok: false, reason: "missing_timestamp" };
  if (!signature) return { ok: false, reason: "missing_signature" };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: "bad_timestamp" };
  if (Math.abs(now - Number(timestamp)) > SIGNATURE_TOLERANCE_MS) {
    return { ok: false, reason: "stale_timestamp" };
  }
  const expected = Buffer.from(sign(secret, timestamp, body));
  // A header may carry several comma-separated versions (key rotation); any may match.
  const matches = signature
    .split(",")
    .map((s) => Buffer.from(s.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
  return matches ? { ok: true } : { ok: false, reason: "bad_signature" };
}

/** The whole request → reply, with no HTTP framework: the model test calls this too. */
export async function processWebhook(
  deps: WebhookDeps,
  req: WebhookRequest,
): Promise<WebhookReply> {
  const reject = (status: number, error: string, extra: Record<string, unknown> = {}) => {
    logs.webhookRejected(status, error, extra);
    return { status, body: { error, ...extra } };
  };
  if (req.method !== "POST") {
    return {
      ...reject(405, "method_not_allowed", { message: "use POST" }),
      headers: { Allow: "POST" },
    };
  }
  const declared = Number(req.header("content-length") ?? 0);
  if (declared > deps.maxBodyBytes || req.rawBody.length > deps.maxBodyBytes) {
    return reject(413, "body_too_large", { limitBytes: deps.maxBodyBytes });
  }
  const now = deps.now();
  const timestamp = req.header(TIMESTAMP_HEADER);
  const check = verifySignature({
    secret: deps.secret(),
    timestamp,
    signature: req.header(SIGNATURE_HEADER),
    body: req.rawBody,
    now,
  });
  if (!check.ok) return reject(401, "unauthorized", { reason: check.reason });
  if (!/^application\/json\b/i.test(req.header("content-type") ?? "")) {
    return reject(400, "invalid_body", { issues: ["Content-Type: must be application/json"] });
  }
  let body: unknown;
  try {
    body = JSON.parse(req.rawBody.toString("utf8"));
  } catch (err) {
    return reject(400, "invalid_body", { issues: [`(body): not JSON: ${(err as Error).message}`] });
  }
  const sheet = deps.sheet();
  const wrongSheet = (b: unknown): string[] => {
    const { spreadsheetId, sheetName } = (b ?? {}) as Record<string, unknown>;
    const issues: string[] = [];
    if (spreadsheetId !== sheet.spreadsheetId) {
      issues.push(
        `spreadsheetId: "${String(spreadsheetId)}" is not the synced spreadsheet (SHEET_SYNC_SPREADSHEET_ID)`,
      );
    }
    if (sheetName !== sheet.sheetName) {
      issues.push(
        `sheetName: "${String(sheetName)}" is not the synced tab (SHEET_SYNC_SHEET_NAME)`,
      );
    }
    return issues;
  };

  if (req.path.replace(/\/+$/, "").endsWith("/reconcile")) {
    const issues = wrongSheet(body);
    if (issues.length) return reject(400, "invalid_body", { issues });
    try {
      return { status: 200, body: await deps.reconcile() };
    } catch (err) {
      logs.reconcileFailed(err);
      return { status: 500, body: { error: "internal", message: "reconcile failed; retry later" } };
    }
  }

  if (req.path.replace(/\/+$/, "").endsWith("/describe")) {
    const asked = parseDescribeBody(body);
    if (!asked.ok) return reject(400, "invalid_body", { issues: asked.issues });
    const issues = wrongSheet(asked.request);
    if (issues.length) return reject(400, "invalid_body", { issues });
    try {
      const reply: DescribeResponse = { rows: await deps.describe(asked.request.ids) };
      return { status: 200, body: reply };
    } catch (err) {
      logs.describeFailed(err);
      return { status: 500, body: { error: "internal", message: "describe failed; retry later" } };
    }
  }

  const parsed = parseWebhookBody(body, { now, timestamp: Number(timestamp) });
  if (!parsed.ok) return reject(400, "invalid_body", { issues: parsed.issues });
  const issues = wrongSheet(parsed.batch);
  if (issues.length) return reject(400, "invalid_body", { issues });

  const { batch } = parsed;
  let results: RowResult[];
  try {
    results = [...(await deps.ingest(batch)), ...batch.rejected];
  } catch (err) {
    logs.ingestFailed(err);
    // 5xx: the sender keeps the batch in its outbox and retries; a retry changes nothing twice.
    return { status: 500, body: { error: "internal", message: "ingest failed; retry later" } };
  }
  const reply: BatchResponse = {
    results,
    counts: countOutcomes(results),
    warnings: batch.warnings,
  };
  logs.batchIngested({
    spreadsheetId: batch.spreadsheetId,
    sheetName: batch.sheetName,
    rows: results.length,
    counts: reply.counts,
    rejected: batch.rejected.slice(0, 5),
    ms: deps.now() - now,
  });
  return { status: 200, body: reply };
}

/** The Cloud Functions (Express) adapter. */
export function createWebhookHandler(deps: WebhookDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const reply = await processWebhook(deps, {
      method: req.method,
      path: req.path ?? "/",
      header: (name) => req.get(name),
      rawBody: req.rawBody ?? Buffer.alloc(0),
    });
    if (reply.headers) res.set(reply.headers);
    res.status(reply.status).json(reply.body);
  };
}
