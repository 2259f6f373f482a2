/**
 * The entry points Apps Script calls (triggers and menu items), on the real
 * services: SpreadsheetApp, PropertiesService, LockService, UrlFetchApp,
 * Utilities, ScriptApp. The logic is in engine.ts.
 */
import { ID_HEADER, MODIFIED_HEADER, REV_HEADER } from "../../contract/src/limits";
import { analyzeHeader, type HeaderInfo } from "./core/header";
import { modifiedCellToMs, rowHasContent, type ScanMode } from "./core/scan";
import { sendAll, type PostResult } from "./core/send";
import { HANDLER, PROPERTY } from "./config";
import { MAX_FLUSH_ROUNDS, SyncEngine, type SignedRequest } from "./engine";
import type { ScriptEnv, SheetPort } from "./env";
import { readSheet, readSheetRow, writeColumnCells } from "./sheet";

type Sheet = GoogleAppsScript.Spreadsheet.Sheet;

const LOCK_WAIT_MS = 30_000;

function sheetPort(sheet: Sheet): SheetPort {
  return {
    getName: () => sheet.getName(),
    readAll: () => readSheet(sheet),
    readRow: (row) => readSheetRow(sheet, row),
    writeColumn: (column, cells) => writeColumnCells(sheet, column, cells),
    getNote: (row, column) => sheet.getRange(row + 2, column + 1).getNote(),
    setNote: (row, column, note) => {
      sheet.getRange(row + 2, column + 1).setNote(note);
    },
  };
}

function appsScriptEnv(): ScriptEnv {
  return {
    now: () => Date.now(),
    uuid: () => Utilities.getUuid(),
    withLock: (fn) => {
      const lock = LockService.getScriptLock();
      if (!lock.tryLock(LOCK_WAIT_MS)) return undefined;
      try {
        return fn();
      } finally {
        // Apps Script may hold sheet writes back until the execution ends: make them land before
        // another execution, waiting on the lock, reads the sheet.
        SpreadsheetApp.flush();
        lock.releaseLock();
      }
    },
    scriptProperties: PropertiesService.getScriptProperties(),
    documentProperties: PropertiesService.getDocumentProperties(),
    cache: CacheService.getDocumentCache(),
    sheet: (name) => {
      const sheet = SpreadsheetApp.getActive().getSheetByName(name);
      return sheet ? sheetPort(sheet) : null;
    },
    spreadsheetId: () => SpreadsheetApp.getActive().getId(),
    hmac: (message, key) =>
      Utilities.computeHmacSha256Signature(message, key, Utilities.Charset.UTF_8),
    fetch: (request) => post(request),
  };
}

const engine = (): SyncEngine => new SyncEngine(appsScriptEnv());

function post(request: SignedRequest): PostResult {
  try {
    const response = UrlFetchApp.fetch(request.url, {
      method: "post",
      contentType: "application/json",
      headers: request.headers,
      payload: request.body,
      muteHttpExceptions: true,
      followRedirects: false,
    });
    return { status: response.getResponseCode(), body: response.getContentText() };
  } catch (error) {
    return { networkError: error instanceof Error ? error.message : String(error) };
  }
}

/** Sends the outbox, in rounds, until it is empty or a round fails. */
export function flush(sync = engine()): void {
  const cfg = sync.config();
  if (!cfg.webhookUrl || !cfg.secret) {
    sync.state.recordError(
      `Set ${PROPERTY.webhookUrl} and ${PROPERTY.secret} in script properties`,
    );
    return;
  }
  const sheet = sync.syncedSheet();
  if (!sheet) return;
  for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
    const prepared = sync.prepareRound(sheet);
    if (!prepared) return;
    let report;
    try {
      report = sendAll(prepared.envelope, prepared.batches, (body) => {
        sync.renewLease();
        return post(sync.signed(body));
      });
    } catch (error) {
      sync.abandonRound();
      throw error;
    }
    if (!sync.finishRound(sheet, prepared, report)) return;
  }
}

// ---- Entry points (called through the global functions in the bundle) ----

export function onOpen(): void {
  SpreadsheetApp.getUi()
    .createMenu("Sheet Sync")
    .addItem("Set up", HANDLER.setUp)
    .addItem("Sync now", HANDLER.syncNow)
    .addItem("Status", HANDLER.status)
    .addToUi();
}

function scan(sync: SyncEngine, mode: ScanMode): void {
  const sheet = sync.syncedSheet();
  if (sheet) sync.scanAndQueue(sheet, mode);
}

export function handleEdit(e: GoogleAppsScript.Events.SheetsOnEdit): void {
  const range = e.range;
  const sync = engine();
  if (range.getSheet().getName() !== sync.config().sheetName) return;
  scan(sync, {
    kind: "edit",
    headerEdited: range.getRow() === 1,
    firstRow: range.getRow() - 2,
    lastRow: range.getLastRow() - 2,
    firstColumn: range.getColumn() - 1,
    lastColumn: range.getLastColumn() - 1,
    // Only a single cell's edit has one. Clearing a cell gives none (or an object): "", which
    // counts only where the cell is empty when read (showsEventValue).
    ...(typeof e.value === "string"
      ? { value: e.value }
      : range.getNumRows() === 1 && range.getNumColumns() === 1
        ? { value: "" }
        : {}),
    ...(typeof e.oldValue === "string" ? { oldValue: e.oldValue } : {}),
  });
  flush(sync);
}

export function handleChange(e: GoogleAppsScript.Events.SheetsOnChange): void {
  // Formatting never changes values; everything else might have removed rows.
  if (e.changeType === "FORMAT") return;
  const sync = engine();
  scan(sync, { kind: "change" });
  flush(sync);
}

/** Time-driven trigger: catch edits made without onEdit (scripts, API), then send. */
export function flushOutbox(): void {
  const sync = engine();
  scan(sync, { kind: "reconcile" });
  flush(sync);
  reportRead(sync);
}

/** Tells the functions, every ten minutes while idle, that the script has read the sheet. */
function reportRead(sync: SyncEngine): void {
  const sheet = sync.syncedSheet();
  const body = sheet && sync.readReport(sheet);
  if (!body) return;
  const result = post(sync.signed(body));
  // A refusal (functions from before read reports: 400) waits as long as a report taken.
  if ("status" in result && result.status < 500) sync.readReported();
}

/** Menu: send what is pending, then ask the functions to compare the whole tab with Firestore. */
export function syncNow(): void {
  const sync = engine();
  scan(sync, { kind: "reconcile" });
  flush(sync);
  const sheet = sync.syncedSheet();
  const cfg = sync.config();
  let reconcile = "not run (the webhook is not set up)";
  if (sheet && cfg.webhookUrl && cfg.secret) {
    reconcile = sync.recordReconcile(post(sync.reconcileRequest(sheet)));
  }
  SpreadsheetApp.getActive().toast(
    `${statusSummary().split("\n")[0] ?? ""}\nReconcile: ${reconcile}`,
    "Sheet Sync",
  );
}

function ensureBookkeepingColumns(sheet: Sheet): void {
  const headerOf = (): HeaderInfo =>
    analyzeHeader(sheet.getRange(1, 1, 1, Math.max(sheet.getLastColumn(), 1)).getValues()[0] ?? []);
  if (headerOf().idColumn < 0) {
    sheet.insertColumnBefore(1);
    sheet.getRange(1, 1).setValue(ID_HEADER);
  }
  for (const name of [MODIFIED_HEADER, REV_HEADER]) {
    const h = headerOf();
    if ((name === MODIFIED_HEADER ? h.modifiedColumn : h.revColumn) >= 0) continue;
    const last = sheet.getLastColumn();
    sheet.insertColumnAfter(last);
    sheet.getRange(1, last + 1).setValue(name);
  }
  const header = headerOf();
  for (const column of [header.idColumn, header.modifiedColumn, header.revColumn]) {
    sheet.hideColumns(column + 1);
  }

  // Rows that predate Set up get a time now: when a person last changed them is unknown.
  const { rows } = readSheet(sheet);
  const now = Date.now();
  const stamps = new Map<number, number>();
  rows.forEach((row, i) => {
    if (rowHasContent(header, row) && modifiedCellToMs(row[header.modifiedColumn]) === 0)
      stamps.set(i, now);
  });
  writeColumnCells(sheet, header.modifiedColumn, stamps);
}

function installTriggers(spreadsheet: GoogleAppsScript.Spreadsheet.Spreadsheet): void {
  const ours = new Set<string>([HANDLER.edit, HANDLER.change, HANDLER.timer]);
  for (const trigger of ScriptApp.getProjectTriggers()) {
    if (ours.has(trigger.getHandlerFunction())) ScriptApp.deleteTrigger(trigger);
  }
  ScriptApp.newTrigger(HANDLER.edit).forSpreadsheet(spreadsheet).onEdit().create();
  ScriptApp.newTrigger(HANDLER.change).forSpreadsheet(spreadsheet).onChange().create();
  ScriptApp.newTrigger(HANDLER.timer).timeBased().everyMinutes(1).create();
}

export function setUp(): void {
  const sync = engine();
  const cfg = sync.config();
  const ui = SpreadsheetApp.getUi();
  const spreadsheet = SpreadsheetApp.getActive();
  const sheet = spreadsheet.getSheetByName(cfg.sheetName);
  if (!sheet) {
    ui.alert(
      "Sheet Sync",
      `There is no tab named "${cfg.sheetName}". Rename the tab or set the script property ${PROPERTY.sheetName}.`,
      ui.ButtonSet.OK,
    );
    return;
  }
  sync.withLock(() => ensureBookkeepingColumns(sheet));
  scan(sync, { kind: "reconcile" });
  // (Re)import every row: harmless for rows the server already has (a duplicate changes nothing).
  sync.withLock(() => {
    const outbox = sync.state.loadOutbox();
    outbox.requestResync(0);
    sync.state.saveOutbox(outbox);
  });
  installTriggers(spreadsheet);
  flush(sync);
  ui.alert("Sheet Sync", `Set up "${cfg.sheetName}".\n\n${statusSummary()}`, ui.ButtonSet.OK);
}

function formatTime(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString() : "never";
}

export function statusSummary(): string {
  const sync = engine();
  const cfg = sync.config();
  const outbox = sync.state.loadOutbox();
  const status = sync.state.loadStatus();
  const letters = sync.state.loadDeadLetters();
  const pending = outbox.resync
    ? `all rows (resync requested) + ${outbox.size} queued`
    : String(outbox.size);
  const lines = [
    `Pending rows: ${pending}`,
    `Last success: ${formatTime(status.lastSuccessAt)}${status.lastSuccessAt ? ` (${status.lastSuccessRows ?? 0} rows)` : ""}`,
    `Last error: ${status.lastError ? `${formatTime(status.lastErrorAt)}: ${status.lastError}` : "none"}`,
    `Rows the server refused: ${letters.size === 0 ? "none" : letters.size}`,
    ...letters
      .entries()
      .slice(0, 10)
      .map(([id, l]) => `  ${id}: ${l.reason}`),
    ...(status.warnings ?? []).map((w) => `Warning: ${w}`),
    ...headerProblems(sync).map((w) => `Warning: ${w}`),
    `Last reconcile: ${status.lastReconcile ? `${formatTime(status.lastReconcile.at)}: ${status.lastReconcile.summary}` : "never"}`,
    `Tab: ${cfg.sheetName}`,
    `Webhook: ${cfg.webhookUrl || `not set (${PROPERTY.webhookUrl})`}`,
    `Secret: ${cfg.secret ? "set" : `not set (${PROPERTY.secret})`}`,
    `Triggers: ${
      ScriptApp.getProjectTriggers()
        .map((t) => t.getHandlerFunction())
        .join(", ") || "none (run Set up)"
    }`,
  ];
  return lines.join("\n");
}

/** Row-1 cells that name no column (a date or number typed as a header), read as Status opens. */
function headerProblems(sync: SyncEngine): string[] {
  const sheet = sync.syncedSheet();
  if (!sheet) return [];
  const { headerRow } = sheet.readRow(0);
  return analyzeHeader(headerRow).unusable.map((u) => `header ${u.name}: ${u.problem}`);
}

export function showStatus(): void {
  const ui = SpreadsheetApp.getUi();
  ui.alert("Sheet Sync status", statusSummary(), ui.ButtonSet.OK);
}
