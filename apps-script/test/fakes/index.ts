/**
 * Installs faithful fakes of the Apps Script services the script uses, so
 * tests (unit and the repo's integration tests) can call the same entry
 * functions Apps Script calls, against the modules or the built bundle.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";
import { FakeCacheService } from "./cache";
import { FakeLockService } from "./lock";
import { FakeProperties, FakePropertiesService } from "./properties";
import { AuthMode, FakeScriptApp } from "./script";
import { FakeRange, FakeSheet, FakeSpreadsheet, FakeSpreadsheetApp } from "./spreadsheet";
import { FakeUrlFetchApp, ScriptedTransport, type Transport } from "./urlfetch";
import { FakeUtilities } from "./utilities";

export * from "./cache";
export * from "./lock";
export * from "./properties";
export * from "./script";
export * from "./spreadsheet";
export * from "./urlfetch";
export * from "./utilities";

export interface FakeAppsScriptOptions {
  /** Name of the synced tab (default "Sheet1"); also set as SHEET_SYNC_SHEET_NAME if given. */
  sheetName?: string;
  /** Initial cells of the synced tab, row 1 = header. */
  rows?: unknown[][];
  /** More tabs, by name. */
  otherSheets?: Record<string, unknown[][]>;
  spreadsheetId?: string;
  /** Sets SHEET_SYNC_WEBHOOK_URL and SHEET_SYNC_SECRET. */
  webhookUrl?: string;
  secret?: string;
  /** Any other script properties. */
  scriptProperties?: Record<string, string>;
  /** Default: a ScriptedTransport that accepts everything (see `scripted`). */
  transport?: Transport;
  /** UUID source for Utilities.getUuid (default crypto.randomUUID). */
  uuids?: () => string;
}

export interface FakeAppsScript {
  readonly spreadsheet: FakeSpreadsheet;
  /** The synced tab. */
  readonly sheet: FakeSheet;
  readonly spreadsheetApp: FakeSpreadsheetApp;
  readonly urlFetch: FakeUrlFetchApp;
  /** The default transport (unused when `transport` was given). */
  readonly scripted: ScriptedTransport;
  readonly properties: FakePropertiesService;
  readonly scriptProperties: FakeProperties;
  readonly documentProperties: FakeProperties;
  readonly cache: FakeCacheService;
  readonly lock: FakeLockService;
  readonly utilities: FakeUtilities;
  readonly scriptApp: FakeScriptApp;
  /** The Apps Script globals, e.g. to build a vm context. */
  readonly globals: Record<string, unknown>;
  /** Removes the globals installed by installFakeAppsScript (no-op otherwise). */
  uninstall(): void;
}

export function createFakeAppsScript(options: FakeAppsScriptOptions = {}): FakeAppsScript {
  const spreadsheet = new FakeSpreadsheet(options.spreadsheetId);
  const sheet = spreadsheet.insertSheet(options.sheetName ?? "Sheet1", options.rows ?? []);
  for (const [name, rows] of Object.entries(options.otherSheets ?? {})) {
    spreadsheet.insertSheet(name, rows);
  }
  const initial: Record<string, string> = { ...options.scriptProperties };
  if (options.sheetName) initial.SHEET_SYNC_SHEET_NAME = options.sheetName;
  if (options.webhookUrl !== undefined) initial.SHEET_SYNC_WEBHOOK_URL = options.webhookUrl;
  if (options.secret !== undefined) initial.SHEET_SYNC_SECRET = options.secret;

  const scripted = new ScriptedTransport();
  const properties = new FakePropertiesService(new FakeProperties(initial));
  const spreadsheetApp = new FakeSpreadsheetApp(spreadsheet);
  const urlFetch = new FakeUrlFetchApp(options.transport ?? scripted.handle);
  const lock = new FakeLockService();
  const cache = new FakeCacheService();
  const utilities = new FakeUtilities(options.uuids);
  const scriptApp = new FakeScriptApp();
  const globals: Record<string, unknown> = {
    SpreadsheetApp: spreadsheetApp,
    UrlFetchApp: urlFetch,
    PropertiesService: properties,
    CacheService: cache,
    LockService: lock,
    Utilities: utilities,
    ScriptApp: scriptApp,
  };
  return {
    spreadsheet,
    sheet,
    spreadsheetApp,
    urlFetch,
    scripted,
    properties,
    scriptProperties: properties.script,
    documentProperties: properties.document,
    cache,
    lock,
    utilities,
    scriptApp,
    globals,
    uninstall: () => {},
  };
}

/** createFakeAppsScript + assigns the services on globalThis until uninstall(). */
export function installFakeAppsScript(options: FakeAppsScriptOptions = {}): FakeAppsScript {
  const fakes = createFakeAppsScript(options);
  const target = globalThis as Record<string, unknown>;
  const saved = Object.keys(fakes.globals).map(
    (k) => [k, Object.getOwnPropertyDescriptor(target, k)] as const,
  );
  Object.assign(target, fakes.globals);
  return {
    ...fakes,
    uninstall: () => {
      for (const [key, descriptor] of saved) {
        if (descriptor) Object.defineProperty(target, key, descriptor);
        else delete target[key];
      }
    },
  };
}

const USER = { getEmail: () => "editor@example.com", getNickname: () => "editor" };

/**
 * Writes `values` at (row, column) as a user would (typing or pasting) and
 * returns the onEdit event Sheets would deliver for it.
 */
export function userEdit(
  sheet: FakeSheet,
  row: number,
  column: number,
  values: unknown[][],
): GoogleAppsScript.Events.SheetsOnEdit {
  const range = sheet.getRange(row, column, values.length, values[0]?.length ?? 1);
  const oldValue = range.getValue();
  range.setValues(values);
  return editEvent(range, values.length === 1 && values[0]?.length === 1 ? { oldValue } : {});
}

/** The onEdit event for `range`; value/oldValue only for single cells, as in Sheets. */
export function editEvent(
  range: FakeRange,
  extra: { oldValue?: unknown } = {},
): GoogleAppsScript.Events.SheetsOnEdit {
  const event: Record<string, unknown> = {
    range,
    source: range.getSheet().getParent(),
    triggerUid: "trigger-edit",
    authMode: AuthMode.FULL,
    user: USER,
  };
  if (range.getNumRows() === 1 && range.getNumColumns() === 1) {
    const value = range.getValue();
    if (value !== "") event.value = String(value);
    if (extra.oldValue !== undefined && extra.oldValue !== "")
      event.oldValue = String(extra.oldValue);
  }
  return event as unknown as GoogleAppsScript.Events.SheetsOnEdit;
}

export function changeEvent(
  spreadsheet: FakeSpreadsheet,
  changeType: GoogleAppsScript.Events.SheetsOnChangeChangeType | "OTHER",
): GoogleAppsScript.Events.SheetsOnChange {
  return {
    changeType,
    source: spreadsheet,
    triggerUid: "trigger-change",
    authMode: AuthMode.FULL,
    user: USER,
  } as unknown as GoogleAppsScript.Events.SheetsOnChange;
}

/** The global functions dist/Code.js declares for Apps Script. */
export interface BundleGlobals {
  onOpen(e?: unknown): void;
  handleEdit(e: GoogleAppsScript.Events.SheetsOnEdit): void;
  handleChange(e: GoogleAppsScript.Events.SheetsOnChange): void;
  flushOutbox(): void;
  setUp(): void;
  syncNow(): void;
  showStatus(): void;
}

export const BUNDLE_PATH = join(__dirname, "..", "..", "dist", "Code.js");

/**
 * Runs the built bundle in a fresh vm context whose globals are the fakes (as
 * Apps Script would) and returns its global functions. Run `npm run build` first.
 */
export function loadBundle(fakes: FakeAppsScript, path = BUNDLE_PATH): BundleGlobals & vm.Context {
  // Host Date, so `instanceof Date` holds for values coming from the fake sheet.
  const context = vm.createContext({ ...fakes.globals, Date });
  vm.runInContext(readFileSync(path, "utf8"), context, { filename: "Code.js" });
  return context as BundleGlobals & vm.Context;
}
