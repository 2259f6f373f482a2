import { createHmac } from "node:crypto";
import {
  installFakeAppsScript,
  type FakeAppsScript,
  type FakeAppsScriptOptions,
  type HttpRequest,
} from "./fakes";
import type { WebhookBody } from "../../contract/src/wire";
import { ScriptState } from "../src/state";

export const WEBHOOK_URL = "https://hooks.example.test/sheetWebhook";
export const SECRET = "test-secret-ü";

/** Deterministic UUIDs whose first 12 hex digits differ: ids r_000000010aaa, r_000000020aaa… */
export function counterUuids(): () => string {
  let n = 0;
  return () => `${(++n).toString(16).padStart(8, "0")}-0aaa-4bbb-8ccc-dddddddddddd`;
}

export function installSheet(
  rows: unknown[][],
  options: FakeAppsScriptOptions = {},
): FakeAppsScript {
  return installFakeAppsScript({
    rows,
    webhookUrl: WEBHOOK_URL,
    secret: SECRET,
    uuids: counterUuids(),
    ...options,
  });
}

export function parseBody(request: HttpRequest): WebhookBody {
  return JSON.parse(request.body) as WebhookBody;
}

/** Removes and returns the requests made so far, parsed. */
export function takeBodies(fakes: FakeAppsScript): WebhookBody[] {
  return fakes.urlFetch.requests.splice(0).map(parseBody);
}

export function expectedSignature(request: HttpRequest, secret = SECRET): string {
  const timestamp = request.headers["X-Sheet-Sync-Timestamp"] ?? "";
  return `v1=${createHmac("sha256", secret).update(`${timestamp}.${request.body}`).digest("hex")}`;
}

/** Column values of the synced sheet (1-based column), data rows only. */
export function column(fakes: FakeAppsScript, header: string): unknown[] {
  const [head = [], ...rows] = fakes.sheet.dump();
  const index = head.indexOf(header);
  if (index < 0) throw new Error(`No column ${header}`);
  return rows.map((r) => r[index]);
}

export function columnIndex(fakes: FakeAppsScript, header: string): number {
  const index = (fakes.sheet.dump()[0] ?? []).indexOf(header);
  if (index < 0) throw new Error(`No column ${header}`);
  return index + 1;
}

/** The script's stored state (outbox, status, snapshot) on the installed fake services. */
export function scriptState(): ScriptState {
  return new ScriptState(
    PropertiesService.getScriptProperties(),
    PropertiesService.getDocumentProperties(),
    () => Date.now(),
  );
}
