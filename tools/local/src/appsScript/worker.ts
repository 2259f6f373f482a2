/**
 * The Apps Script runtime of `npm start`, in a worker thread: the built bundle
 * (apps-script/dist/Code.js) on the faked Apps Script services, with real,
 * synchronous HTTP to the webhook. UrlFetchApp blocks this thread, not the
 * stack's, so the Firestore stand-in and the Sheets emulator keep answering.
 * Script and document properties live as long as the worker does.
 */
import { createRequire } from "node:module";
import { parentPort } from "node:worker_threads";
import type * as Fakes from "../../../../apps-script/test/fakes/index.js";
import type {
  BundleGlobals,
  FakeAppsScript,
  FakeSheet,
  Transport,
} from "../../../../apps-script/test/fakes/index.js";
import type {
  CellValue,
  CellWrite,
  Entry,
  FromWorker,
  RowOutcome,
  ToWorker,
  WebhookCall,
} from "./protocol.js";

// The fakes are CommonJS with `export *` re-exports, which ESM named imports cannot see.
const { changeEvent, createFakeAppsScript, editEvent, loadBundle, realHttpTransport } =
  createRequire(import.meta.url)("../../../../apps-script/test/fakes/index.ts") as typeof Fakes;

const port = parentPort;
if (!port) throw new Error("worker.ts runs as a worker thread");

let fakes: FakeAppsScript | null = null;
let bundle: BundleGlobals | null = null;
let sheetName = "Sheet1";
let calls: WebhookCall[] = [];

const MAX_ROWS_SHOWN = 5;
const MAX_REJECTED_SHOWN = 50;

/** Real HTTP, recording what each webhook call carried and what came back. */
function recordingTransport(real: Transport): Transport {
  return (request) => {
    const started = Date.now();
    const body = JSON.parse(request.body || "{}") as { changes?: unknown[]; deletes?: unknown[] };
    const call: WebhookCall = {
      at: started,
      kind: /\/reconcile\/?$/.test(new URL(request.url).pathname) ? "reconcile" : "batch",
      status: null,
      changes: body.changes?.length ?? 0,
      deletes: body.deletes?.length ?? 0,
      durationMs: 0,
    };
    calls.push(call);
    try {
      const response = real(request);
      call.status = response.status;
      if (response.status !== 200) call.error = response.body.slice(0, 300);
      else if (call.kind === "reconcile") call.report = JSON.parse(response.body) as unknown;
      else recordOutcomes(call, response.body);
      return response;
    } catch (error) {
      call.error = (error as Error).message;
      throw error;
    } finally {
      call.durationMs = Date.now() - started;
    }
  };
}

/** The webhook's per-row answer: {results: [{id, op, outcome, conflicts?, reason?}], counts, warnings}. */
function recordOutcomes(call: WebhookCall, text: string): void {
  const reply = JSON.parse(text) as { results?: RowOutcome[]; warnings?: string[] };
  const results = reply.results ?? [];
  const outcomes: Record<string, number> = {};
  let conflicts = 0;
  for (const r of results) {
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    conflicts += r.conflicts ?? 0;
  }
  call.outcomes = outcomes;
  call.rows = results.slice(0, MAX_ROWS_SHOWN);
  const rejected = results.filter((r) => r.outcome === "rejected");
  if (rejected.length) call.rejected = rejected.slice(0, MAX_REJECTED_SHOWN);
  if (conflicts) call.conflicts = conflicts;
  if (reply.warnings?.length) call.warnings = reply.warnings;
}

/** Puts the stack's cells into the fake sheet (a fresh tab: nothing stale survives). */
function loadGrid(grid: CellValue[][]): FakeSheet {
  const spreadsheet = fakes!.spreadsheet;
  const old = spreadsheet.getSheetByName(sheetName);
  if (old) spreadsheet.deleteSheet(old);
  return spreadsheet.insertSheet(sheetName, grid);
}

const same = (a: CellValue | undefined, b: CellValue | undefined) =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : (a ?? "") === (b ?? "");

function diff(before: CellValue[][], after: CellValue[][]): CellWrite[] {
  const writes: CellWrite[] = [];
  const rows = Math.max(before.length, after.length);
  for (let r = 0; r < rows; r++) {
    const columns = Math.max(before[r]?.length ?? 0, after[r]?.length ?? 0);
    for (let c = 0; c < columns; c++) {
      const value = after[r]?.[c] ?? "";
      if (!same(before[r]?.[c], value)) writes.push({ row: r + 1, column: c + 1, value });
    }
  }
  return writes;
}

function lastError(): { at?: number; text?: string } {
  const raw = fakes!.scriptProperties.getProperty("sheetSync.status");
  const status = raw ? (JSON.parse(raw) as { lastErrorAt?: number; lastError?: string }) : {};
  return { at: status.lastErrorAt, text: status.lastError };
}

function run(entry: Entry, grid: CellValue[][]) {
  const started = Date.now();
  const sheet = loadGrid(grid);
  const errorBefore = lastError().at;
  calls = [];
  const gs = bundle!;
  let thrown: string | undefined;
  // Like Apps Script, cells written before an exception stay written.
  try {
    call(gs, sheet, entry);
  } catch (e) {
    thrown = `the script threw: ${(e as Error).message}`;
  }
  const after = fakes!.spreadsheet.getSheetByName(sheetName)!.getDataRange().getValues();
  const error = lastError();
  const recorded = error.at !== undefined && error.at !== errorBefore ? error.text : undefined;
  return {
    writes: diff(grid, after),
    webhooks: calls,
    ...(thrown || recorded ? { error: thrown ?? recorded } : {}),
    durationMs: Date.now() - started,
  };
}

function call(gs: BundleGlobals, sheet: FakeSheet, entry: Entry): void {
  switch (entry.fn) {
    case "handleEdit": {
      const range = sheet.getRange(entry.row, entry.column, entry.numRows, entry.numColumns);
      gs.handleEdit(
        editEvent(range, entry.oldValue === undefined ? {} : { oldValue: entry.oldValue }),
      );
      break;
    }
    case "handleChange":
      gs.handleChange(changeEvent(fakes!.spreadsheet, entry.changeType));
      break;
    case "flushOutbox":
      gs.flushOutbox();
      break;
    case "setUp":
      gs.setUp();
      break;
    case "syncNow":
      gs.syncNow();
      break;
  }
}

port.on("message", (message: ToWorker) => {
  let reply: FromWorker;
  try {
    if (message.type === "init") {
      const { config } = message;
      sheetName = config.sheetName;
      fakes = createFakeAppsScript({
        spreadsheetId: config.spreadsheetId,
        sheetName: config.sheetName,
        webhookUrl: config.webhookUrl,
        secret: config.secret,
        transport: recordingTransport(realHttpTransport({ timeoutMs: 60_000 })),
      });
      bundle = loadBundle(fakes);
      reply = { id: message.id, ok: true, result: { writes: [], webhooks: [], durationMs: 0 } };
    } else {
      if (!fakes || !bundle) throw new Error("the runtime was not initialised");
      reply = { id: message.id, ok: true, result: run(message.entry, message.grid) };
    }
  } catch (error) {
    reply = { id: message.id, ok: false, error: (error as Error).stack ?? String(error) };
  }
  port.postMessage(reply);
});
