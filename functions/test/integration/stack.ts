/**
 * What the integration tests talk to: the running functions emulator and
 * Firestore (real emulator or stand-in, whichever with-emulators picked).
 */
import { randomBytes } from "node:crypto";
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { sign } from "../../src/ingest/webhook.js";

export const PROJECT = "demo-sheet-sync";
export const WEBHOOK_URL = `http://127.0.0.1:5001/${PROJECT}/us-central1/sheetWebhook`;
export const DEV_SECRET = "dev-secret";
export const SPREADSHEET_ID = "demo-spreadsheet";
export const SHEET_NAME = "Sheet1";
export const COLLECTION = "rows";

if (!process.env.FIRESTORE_EMULATOR_HOST) {
  throw new Error(
    "FIRESTORE_EMULATOR_HOST is not set: run integration tests through `npm run test:integration` at the root",
  );
}

export function db(): Firestore {
  if (!getApps().length) initializeApp({ projectId: PROJECT });
  return getFirestore();
}

/** A prefix no other test run uses: tests never see each other's rows. */
export function uniqueId(label: string): string {
  return `t_${label}_${randomBytes(4).toString("hex")}`;
}

export interface SendOptions {
  secret?: string;
  timestamp?: string;
  signature?: string | null;
  method?: string;
  contentType?: string;
  /** Appended to the webhook's URL: "/reconcile", "/describe". */
  path?: string;
}

export async function postRaw(raw: string, opts: SendOptions = {}): Promise<Response> {
  const timestamp = opts.timestamp ?? String(Date.now());
  const headers: Record<string, string> = {
    "content-type": opts.contentType ?? "application/json",
    "x-sheet-sync-timestamp": timestamp,
  };
  const signature =
    opts.signature === undefined ? sign(opts.secret ?? DEV_SECRET, timestamp, raw) : opts.signature;
  if (signature !== null) headers["x-sheet-sync-signature"] = signature;
  return fetch(WEBHOOK_URL + (opts.path ?? ""), {
    method: opts.method ?? "POST",
    headers,
    body: raw,
  });
}

export async function postBatch(body: unknown, opts: SendOptions = {}) {
  const res = await postRaw(JSON.stringify(body), opts);
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON: keep the text for the assertion message */
  }
  return { status: res.status, json: json as Record<string, unknown> | null, text };
}

export function batch(
  changes: unknown[],
  deletes: unknown[] = [],
  header = ["_id", "name", "qty", "due", "done", "_modified", "_rev"],
) {
  return { spreadsheetId: SPREADSHEET_ID, sheetName: SHEET_NAME, header, changes, deletes };
}

/** Polls until `probe` returns a value, or fails with `what` after the deadline. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  deadlineMs = 60_000,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** The functions emulator answers 404 until the code is loaded. */
export async function waitForWebhook(): Promise<void> {
  await waitFor("the sheetWebhook function to load", async () => {
    const res = await fetch(WEBHOOK_URL, { method: "GET" });
    return res.status === 405 ? true : undefined;
  });
}
