import { analyzeHeader, type HeaderInfo } from "./core/header";
import { ID_HEADER, MODIFIED_HEADER } from "../../contract/src/limits";
import { rowIdFromUuid } from "./core/ids";
import { makeBatches, type Envelope } from "./core/payload";
import { planFlush } from "./core/plan";
import { modifiedCellToMs, rowHasContent, scanSheet, type ScanMode } from "./core/scan";
import { sendBatches, type SendReport, type WebhookResponse } from "./core/send";
import { signBody } from "../../contract/src/signature";
import { HANDLER, PROPERTY, readConfig, type Config } from "./config";
import { readSheet, writeColumnCells } from "./sheet";
import * as state from "./state";

type Sheet = GoogleAppsScript.Spreadsheet.Sheet;

const LOCK_WAIT_MS = 30_000;
/** Rounds one flush may run to pick up rows edited while it was sending. */
const MAX_FLUSH_ROUNDS = 5;

const config = (): Config => readConfig(PropertiesService.getScriptProperties().getProperties());

/** Runs `fn` under the script lock; undefined if the lock was not obtained. */
function withLock<T>(fn: () => T): T | undefined {
  const lock = LockService.getScriptLock();
  if (!lock.tryLock(LOCK_WAIT_MS)) {
    state.recordError("Another Sheet Sync run held the lock; changes will be picked up later");
    return undefined;
  }
  try {
    return fn();
  } finally {
    lock.releaseLock();
  }
}

function syncedSheet(cfg: Config): Sheet | null {
  const sheet = SpreadsheetApp.getActive().getSheetByName(cfg.sheetName);
  if (!sheet) state.recordError(`Sheet "${cfg.sheetName}" not found (${PROPERTY.sheetName})`);
  return sheet;
}

function usableHeader(headerRow: unknown[]): HeaderInfo | null {
  const header = analyzeHeader(headerRow);
  if (header.idColumn < 0) {
    state.recordError(`No "${ID_HEADER}" column in row 1: run Sheet Sync → Set up`);
    return null;
  }
  return header;
}

/** Reads the sheet, fixes ids, queues what changed, and records what it saw. */
function scanAndQueue(sheet: Sheet, mode: ScanMode): void {
  withLock(() => {
    const { headerRow, rows } = readSheet(sheet);
    const header = usableHeader(headerRow);
    if (!header) return;
    const seen = state.loadSnapshot();
    const result = scanSheet({
      header,
      rows,
      snapshot: seen.snapshot,
      now: Date.now(),
      newId: () => rowIdFromUuid(Utilities.getUuid()),
      mode,
    });
    writeColumnCells(sheet, header.idColumn, result.idWrites);
    writeColumnCells(sheet, header.modifiedColumn, result.modifiedWrites);

    const outbox = state.loadOutbox();
    for (const u of result.upserts) outbox.upsert(u.id, u.modifiedAt, u.fields);
    for (const d of result.deletes) outbox.delete(d.id, d.modifiedAt);
    if (result.resyncAt !== null) outbox.requestResync(result.resyncAt);
    const changed = result.upserts.length + result.deletes.length > 0 || result.resyncAt !== null;
    // Outbox first: if it cannot be stored, the old snapshot makes the next scan find it all again.
    if (changed && state.saveOutbox(outbox) === "failed") return;
    state.saveSnapshot(result.snapshot, seen.text);
  });
}

function poster(cfg: Config): (body: string) => WebhookResponse {
  const hmac = (message: string, key: string): number[] =>
    Utilities.computeHmacSha256Signature(message, key, Utilities.Charset.UTF_8);
  return (body) => {
    state.takeLease();
    const timestamp = String(Date.now());
    const response = UrlFetchApp.fetch(cfg.webhookUrl, {
      method: "post",
      contentType: "application/json",
      headers: {
        "X-Sheet-Sync-Timestamp": timestamp,
        "X-Sheet-Sync-Signature": signBody(hmac, cfg.secret, timestamp, body),
      },
      payload: body,
      muteHttpExceptions: true,
      followRedirects: false,
    });
    return { status: response.getResponseCode(), body: response.getContentText() };
  };
}

/**
 * Sends the outbox. The lock is held only while reading and committing, not
 * during HTTP, so edits are recorded meanwhile; a lease keeps a second flush
 * from sending the same rows, and the running flush loops to pick them up.
 */
export function flush(): void {
  const cfg = config();
  if (!cfg.webhookUrl || !cfg.secret) {
    state.recordError(`Set ${PROPERTY.webhookUrl} and ${PROPERTY.secret} in script properties`);
    return;
  }
  const sheet = syncedSheet(cfg);
  if (!sheet) return;
  const post = poster(cfg);

  for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
    const prepared = withLock(() => {
      if (state.leaseHeld()) return null;
      const outbox = state.loadOutbox();
      if (outbox.isEmpty) return null;
      const { headerRow, rows } = readSheet(sheet);
      const header = usableHeader(headerRow);
      if (!header) return null;
      if (header.duplicates.length > 0) {
        state.recordError(`Duplicate column names in row 1: ${header.duplicates.join(", ")}`);
        return null;
      }
      const plan = planFlush(header, rows, outbox, Date.now());
      if (plan.outboxChanged && state.saveOutbox(outbox) === "failed") return null;
      state.takeLease();
      const envelope: Envelope = {
        spreadsheetId: sheet.getParent().getId(),
        sheetName: sheet.getName(),
        header: header.texts,
      };
      return { plan, envelope };
    });
    if (!prepared) return;

    const { plan, envelope } = prepared;
    let report: SendReport;
    try {
      report = sendBatches(envelope, makeBatches(envelope, plan.changes, plan.deletes), post);
    } catch (error) {
      withLock(() => state.releaseLease());
      throw error;
    }

    const accepted = new Map([...plan.sent].filter(([id]) => report.accepted.has(id)));
    const more = withLock(() => {
      const outbox = state.loadOutbox();
      outbox.acknowledge(accepted, report.complete ? plan.resyncSeq : null);
      state.saveOutbox(outbox);
      state.releaseLease();
      if (report.errors.length > 0) state.recordError(report.errors.join("; "));
      if (report.accepted.size > 0 || report.complete) state.recordSuccess(report.accepted.size);
      return report.complete && !outbox.isEmpty;
    });
    if (!more) return;
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

export function handleEdit(e: GoogleAppsScript.Events.SheetsOnEdit): void {
  const range = e.range;
  const sheet = range.getSheet();
  const cfg = config();
  if (sheet.getName() !== cfg.sheetName) return;
  scanAndQueue(sheet, {
    kind: "edit",
    headerEdited: range.getRow() === 1,
    firstRow: range.getRow() - 2,
    lastRow: range.getLastRow() - 2,
    firstColumn: range.getColumn() - 1,
    lastColumn: range.getLastColumn() - 1,
  });
  flush();
}

export function handleChange(e: GoogleAppsScript.Events.SheetsOnChange): void {
  // Formatting never changes values; everything else might have removed rows.
  if (e.changeType === "FORMAT") return;
  const sheet = syncedSheet(config());
  if (!sheet) return;
  scanAndQueue(sheet, { kind: "change" });
  flush();
}

/** Time-driven trigger: catch edits made without onEdit (scripts, API), then send. */
export function flushOutbox(): void {
  const sheet = syncedSheet(config());
  if (!sheet) return;
  scanAndQueue(sheet, { kind: "reconcile" });
  flush();
}

export function syncNow(): void {
  flushOutbox();
  SpreadsheetApp.getActive().toast(statusSummary().split("\n")[0] ?? "", "Sheet Sync");
}

function ensureBookkeepingColumns(sheet: Sheet): void {
  const headerOf = (): HeaderInfo =>
    analyzeHeader(sheet.getRange(1, 1, 1, Math.max(sheet.getLastColumn(), 1)).getValues()[0] ?? []);
  if (headerOf().idColumn < 0) {
    sheet.insertColumnBefore(1);
    sheet.getRange(1, 1).setValue(ID_HEADER);
  }
  if (headerOf().modifiedColumn < 0) {
    const last = sheet.getLastColumn();
    sheet.insertColumnAfter(last);
    sheet.getRange(1, last + 1).setValue(MODIFIED_HEADER);
  }
  const header = headerOf();
  sheet.hideColumns(header.idColumn + 1);
  sheet.hideColumns(header.modifiedColumn + 1);

  // Rows that predate Set up get a time now, so every later send of them
  // carries the same modifiedAt (a resend is then a duplicate, not a new edit).
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
  const cfg = config();
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
  withLock(() => ensureBookkeepingColumns(sheet));
  scanAndQueue(sheet, { kind: "reconcile" });
  // (Re)import every row: harmless for rows the server already has (last write wins).
  withLock(() => {
    const outbox = state.loadOutbox();
    outbox.requestResync(0);
    state.saveOutbox(outbox);
  });
  installTriggers(spreadsheet);
  flush();
  ui.alert("Sheet Sync", `Set up "${cfg.sheetName}".\n\n${statusSummary()}`, ui.ButtonSet.OK);
}

function formatTime(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString() : "never";
}

export function statusSummary(): string {
  const cfg = config();
  const outbox = state.loadOutbox();
  const status = state.loadStatus();
  const pending = outbox.resync
    ? `all rows (resync requested) + ${outbox.size} queued`
    : String(outbox.size);
  const lines = [
    `Pending rows: ${pending}`,
    `Last success: ${formatTime(status.lastSuccessAt)}${status.lastSuccessAt ? ` (${status.lastSuccessRows ?? 0} rows)` : ""}`,
    `Last error: ${status.lastError ? `${formatTime(status.lastErrorAt)}: ${status.lastError}` : "none"}`,
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

export function showStatus(): void {
  const ui = SpreadsheetApp.getUi();
  ui.alert("Sheet Sync status", statusSummary(), ui.ButtonSet.OK);
}
