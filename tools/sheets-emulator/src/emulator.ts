// The HTTP face of the emulator: Google's URL layout under /v4/, query/body validation,
// per-user quotas, injected faults, latency, stats and the /__emulator/ admin endpoints.

import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  appendValues,
  batchUpdateSpreadsheet,
  batchUpdateValues,
  clearRange,
  newSheetId,
  readRange,
  spreadsheetResource,
  updateValues,
  type Dimension,
  type InsertDataOption,
  type ResponseOptions,
  type WriteInput,
} from "./api.js";
import { instantFromSerial, isValidTimeZone } from "./dates.js";
import { CellError } from "./formula.js";
import { deletedRowsMap, insertedRowsMap, remapFormulas, shiftFormula } from "./rows.js";
import { applyFields, parseFields } from "./fields.js";
import { ApiError, DEFAULT_COLUMNS, DEFAULT_ROWS, invalid, Sheet, Spreadsheet } from "./model.js";
import {
  applyInput,
  isTemporal,
  parseInput,
  renderCell,
  type DateTimeRenderOption,
  type ValueInputOption,
  type ValueRenderOption,
} from "./values.js";

export interface SheetsEmulatorOptions {
  /** Write requests allowed per user in any 60 s window (Google's default: 60). */
  quotaWritesPerMinute?: number;
  /** Read requests allowed per user in any 60 s window (Google's default: 60). */
  quotaReadsPerMinute?: number;
  /** Clock for quotas and NOW(); inject one to test quota windows without waiting. */
  now?: () => number;
}

export interface SeedSheet {
  title: string;
  sheetId?: number;
  /** Values as a user would type them: "=…" is a formula, Date objects become dates. */
  rows?: unknown[][];
  rowCount?: number;
  columnCount?: number;
}

export interface SeedSpreadsheet {
  title?: string;
  timeZone?: string;
  sheets: SeedSheet[];
}

export type FaultStatus = 400 | 403 | 404 | 429 | 500 | 503;

export interface Fault {
  status: FaultStatus;
  /** How many matching requests fail before the fault is used up. */
  count: number;
  /** API method names (e.g. "values.batchUpdate"); all methods when absent. */
  methods?: string[];
  message?: string;
}

export interface EmulatorStats {
  /** Every API request by method name, rejected ones included. */
  byMethod: Record<string, number>;
  total: number;
  /** Requests counted against the read / write quotas (not the ones rejected by it). */
  reads: number;
  writes: number;
  /** Requests answered with a 429 by the quota or with an injected fault, by method. */
  rejectedByMethod: Record<string, number>;
  rejected: number;
  /** Non-2xx responses by HTTP status. */
  errorsByStatus: Record<string, number>;
}

export interface RequestEvent {
  at: number;
  /** API method name (`values.get`…), or "unknown" for unrouted paths. */
  method: string;
  httpMethod: string;
  path: string;
  spreadsheetId?: string;
  status: number;
  outcome: "ok" | "error" | "quota" | "fault";
  durationMs: number;
  message?: string;
}

export interface SheetSnapshot {
  sheetId: number;
  title: string;
  index: number;
  rowCount: number;
  columnCount: number;
  /** Effective values (UNFORMATTED_VALUE: dates as serials), trimmed like values.get. */
  values: unknown[][];
  /** What the UI shows (FORMATTED_VALUE). */
  formatted: unknown[][];
  /** Formula text where a cell has one, null elsewhere; same shape as `values`. */
  formulas: (string | null)[][];
}

export interface SpreadsheetSnapshot {
  spreadsheetId: string;
  title: string;
  timeZone: string;
  sheets: SheetSnapshot[];
}

/** A change made in the sheet itself (a person, or the bound script), not through the API. */
export interface SheetChangeEvent {
  at: number;
  source: "user" | "script";
  kind: "edit" | "insertRows" | "deleteRows" | "sort";
  spreadsheetId: string;
  sheetTitle: string;
  /** 0-based first row (and column for edits) the change touched. */
  row: number;
  column?: number;
  /** Rows (and columns for edits) touched. */
  rows: number;
  columns?: number;
}

/** What Apps Script's Range.getValues() returns for a cell. */
export type ScriptValue = string | number | boolean | Date;

type Kind = "read" | "write";

interface Route {
  method: string;
  kind: Kind;
  httpMethod: string;
  spreadsheetId: string;
  range?: string;
  params: readonly string[];
}

const SYSTEM_PARAMS = new Set([
  "fields",
  "alt",
  "prettyPrint",
  "key",
  "quotaUser",
  "$.xgafv",
  "callback",
  "access_token",
  "oauth_token",
  "upload_protocol",
  "uploadType",
]);

const READ_PARAMS = ["majorDimension", "valueRenderOption", "dateTimeRenderOption"] as const;
const WRITE_PARAMS = [
  "valueInputOption",
  "includeValuesInResponse",
  "responseValueRenderOption",
  "responseDateTimeRenderOption",
] as const;

function route(httpMethod: string, path: string): Route | undefined {
  const m = /^\/v4\/spreadsheets\/([^/:]+)(.*)$/.exec(path);
  if (!m) return undefined;
  const id = decodeURIComponent(m[1] ?? "");
  const rest = m[2] ?? "";
  const r = (
    method: string,
    kind: Kind,
    verb: string,
    params: readonly string[],
    range?: string,
  ) =>
    httpMethod === verb
      ? {
          method,
          kind,
          httpMethod: verb,
          spreadsheetId: id,
          params,
          ...(range === undefined ? {} : { range }),
        }
      : undefined;
  if (rest === "")
    return r("spreadsheets.get", "read", "GET", [
      "ranges",
      "includeGridData",
      "excludeTablesInBandedRanges",
    ]);
  if (rest === ":batchUpdate") return r("spreadsheets.batchUpdate", "write", "POST", []);
  if (rest === "/values:batchGet")
    return r("values.batchGet", "read", "GET", ["ranges", ...READ_PARAMS]);
  if (rest === "/values:batchUpdate") return r("values.batchUpdate", "write", "POST", []);
  if (rest === "/values:batchClear") return r("values.batchClear", "write", "POST", []);
  const v = /^\/values\/([^/]+)$/.exec(rest);
  if (!v) return undefined;
  // The client percent-encodes the range, so a literal ':' can only be the custom verb.
  const raw = v[1] ?? "";
  const decode = (s: string) => decodeURIComponent(s);
  if (raw.endsWith(":append")) {
    return r(
      "values.append",
      "write",
      "POST",
      [...WRITE_PARAMS, "insertDataOption"],
      decode(raw.slice(0, -7)),
    );
  }
  if (raw.endsWith(":clear"))
    return r("values.clear", "write", "POST", [], decode(raw.slice(0, -6)));
  if (httpMethod === "PUT") return r("values.update", "write", "PUT", WRITE_PARAMS, decode(raw));
  return r("values.get", "read", "GET", READ_PARAMS, decode(raw));
}

const ENUMS: Record<string, { type: string; values: string[] }> = {
  majorDimension: { type: "Dimension", values: ["ROWS", "COLUMNS", "DIMENSION_UNSPECIFIED"] },
  valueRenderOption: {
    type: "ValueRenderOption",
    values: ["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"],
  },
  responseValueRenderOption: {
    type: "ValueRenderOption",
    values: ["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"],
  },
  dateTimeRenderOption: {
    type: "DateTimeRenderOption",
    values: ["SERIAL_NUMBER", "FORMATTED_STRING"],
  },
  responseDateTimeRenderOption: {
    type: "DateTimeRenderOption",
    values: ["SERIAL_NUMBER", "FORMATTED_STRING"],
  },
  valueInputOption: {
    type: "ValueInputOption",
    values: ["RAW", "USER_ENTERED", "INPUT_VALUE_OPTION_UNSPECIFIED"],
  },
  insertDataOption: { type: "InsertDataOption", values: ["OVERWRITE", "INSERT_ROWS"] },
};

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Reads an enum from the query or body with Google's "Invalid value at" error. */
function enumParam(name: string, raw: unknown, where = snake(name)): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const spec = ENUMS[name];
  if (!spec || typeof raw !== "string" || !spec.values.includes(raw)) {
    throw invalid(
      `Invalid value at '${where}' (type.googleapis.com/google.apps.sheets.v4.${spec?.type ?? name}), ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

function boolParam(name: string, raw: unknown): boolean {
  if (raw === undefined || raw === null) return false;
  if (raw === true || raw === "true") return true;
  if (raw === false || raw === "false") return false;
  throw invalid(`Invalid value at '${snake(name)}' (TYPE_BOOL), ${JSON.stringify(raw)}`);
}

function valueInputOption(raw: unknown, requiredMessage: string): ValueInputOption {
  const v = enumParam("valueInputOption", raw);
  if (v === undefined) throw invalid(requiredMessage);
  if (v === "INPUT_VALUE_OPTION_UNSPECIFIED") {
    throw invalid("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED");
  }
  return v as ValueInputOption;
}

function responseOptions(get: (name: string) => unknown): ResponseOptions {
  return {
    includeValuesInResponse: boolParam("includeValuesInResponse", get("includeValuesInResponse")),
    render: {
      valueRenderOption: (enumParam(
        "responseValueRenderOption",
        get("responseValueRenderOption"),
      ) ?? "FORMATTED_VALUE") as ValueRenderOption,
      dateTimeRenderOption: (enumParam(
        "responseDateTimeRenderOption",
        get("responseDateTimeRenderOption"),
      ) ?? "SERIAL_NUMBER") as DateTimeRenderOption,
    },
  };
}

function checkBodyKeys(body: Record<string, unknown>, allowed: string[], where = ""): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) {
      const at = where ? ` at '${where}'` : "";
      throw invalid(`Invalid JSON payload received. Unknown name "${k}"${at}: Cannot find field.`);
    }
  }
}

const VALUE_RANGE_KEYS = ["range", "majorDimension", "values"];

function errorBody(e: ApiError) {
  return {
    error: {
      code: e.code,
      message: e.message,
      status: e.status,
      ...(e.details ? { details: e.details } : {}),
    },
  };
}

function quotaError(kind: Kind, limit: number): ApiError {
  const metric = kind === "read" ? "Read requests" : "Write requests";
  return new ApiError(
    429,
    "RESOURCE_EXHAUSTED",
    `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.`,
    [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "RATE_LIMIT_EXCEEDED",
        domain: "googleapis.com",
        metadata: {
          quota_metric: `sheets.googleapis.com/${kind}_requests`,
          quota_limit:
            kind === "read" ? "ReadRequestsPerMinutePerUser" : "WriteRequestsPerMinutePerUser",
          quota_limit_value: String(limit),
          quota_location: "global",
          consumer: "projects/000000000000",
          service: "sheets.googleapis.com",
        },
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [
          {
            description: "Request a higher quota limit.",
            url: "https://cloud.google.com/docs/quotas/help/request_increase",
          },
        ],
      },
    ],
  );
}

function faultError(fault: Fault, kind: Kind, limit: number): ApiError {
  const custom = (code: number, status: string, message: string) =>
    new ApiError(code, status, fault.message ?? message);
  switch (fault.status) {
    case 429:
      return fault.message
        ? custom(429, "RESOURCE_EXHAUSTED", fault.message)
        : quotaError(kind, limit);
    case 500:
      return custom(500, "INTERNAL", "Internal error encountered.");
    case 503:
      return custom(503, "UNAVAILABLE", "The service is currently unavailable.");
    case 403:
      return custom(403, "PERMISSION_DENIED", "The caller does not have permission");
    case 404:
      return custom(404, "NOT_FOUND", "Requested entity was not found.");
    default:
      return custom(400, "INVALID_ARGUMENT", "Request contains an invalid argument.");
  }
}

/** Admin JSON encodes dates as {"$date": iso}. */
function reviveDates(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reviveDates);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o["$date"] === "string" && Object.keys(o).length === 1) return new Date(o["$date"]);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, reviveDates(x)]));
  }
  return v;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function emptyStats(): EmulatorStats {
  return {
    byMethod: {},
    total: 0,
    reads: 0,
    writes: 0,
    rejectedByMethod: {},
    rejected: 0,
    errorsByStatus: {},
  };
}

export class SheetsEmulator extends EventEmitter {
  private spreadsheets = new Map<string, Spreadsheet>();
  private faults: Fault[] = [];
  private latencyMs = 0;
  private quota: { read: number; write: number };
  private windows = new Map<string, number[]>();
  private counters = emptyStats();
  readonly now: () => number;

  constructor(private readonly options: SheetsEmulatorOptions = {}) {
    super();
    this.now = options.now ?? Date.now;
    this.quota = {
      read: options.quotaReadsPerMinute ?? 60,
      write: options.quotaWritesPerMinute ?? 60,
    };
  }

  // ---- programmatic admin API -------------------------------------------------------------

  /** Creates (or replaces) a spreadsheet. */
  seed(spreadsheetId: string, input: SeedSpreadsheet): void {
    const timeZone = input.timeZone ?? "Etc/UTC";
    if (!isValidTimeZone(timeZone)) throw new Error(`Unknown time zone: ${timeZone}`);
    if (!input.sheets?.length) throw new Error("A spreadsheet needs at least one sheet");
    const ss = new Spreadsheet(
      spreadsheetId,
      input.title ?? "Untitled spreadsheet",
      timeZone,
      this.now,
    );
    input.sheets.forEach((s, index) => {
      if (ss.findSheet(s.title)) throw new Error(`Duplicate sheet title: ${s.title}`);
      const rows = s.rows ?? [];
      const width = rows.reduce((m, r) => Math.max(m, r.length), 0);
      const sheetId = s.sheetId ?? (index === 0 ? 0 : newSheetId(ss, index));
      if (ss.sheetById(sheetId)) throw new Error(`Duplicate sheetId: ${sheetId}`);
      const sheet = new Sheet(
        sheetId,
        s.title,
        s.rowCount ?? Math.max(DEFAULT_ROWS, rows.length),
        s.columnCount ?? Math.max(DEFAULT_COLUMNS, width),
      );
      rows.forEach((row, r) =>
        row.forEach((raw, c) => {
          const input = parseInput(raw, "USER_ENTERED", { timeZone });
          sheet.set(r, c, applyInput(sheet.get(r, c), input));
        }),
      );
      ss.sheets.push(sheet);
    });
    this.spreadsheets.set(spreadsheetId, ss);
  }

  snapshot(spreadsheetId: string): SpreadsheetSnapshot | undefined {
    const ss = this.spreadsheets.get(spreadsheetId);
    if (!ss) return undefined;
    return {
      spreadsheetId,
      title: ss.title,
      timeZone: ss.timeZone,
      sheets: ss.sheets.map((sheet, index) => {
        const grid = (render: ValueRenderOption) => {
          const rows: unknown[][] = [];
          sheet.rows.forEach((row, r) => {
            const line: unknown[] = [];
            row?.forEach((cell, c) => {
              const eff = cell ? ss.effective(sheet, r, c) : null;
              if (cell && eff) {
                line[c] = renderCell(cell, eff, {
                  valueRenderOption: render,
                  dateTimeRenderOption: "SERIAL_NUMBER",
                });
              }
            });
            rows[r] = Array.from(line, (v) => v ?? "");
          });
          return Array.from(rows, (r) => r ?? []);
        };
        const values = trimGrid(grid("UNFORMATTED_VALUE"));
        const formulas = values.map((line, r) =>
          line.map((_, c) => sheet.get(r, c)?.formula ?? null),
        );
        return {
          sheetId: sheet.sheetId,
          title: sheet.title,
          index,
          rowCount: sheet.rowCount,
          columnCount: sheet.columnCount,
          values,
          formatted: trimGrid(grid("FORMATTED_VALUE")),
          formulas,
        };
      }),
    };
  }

  spreadsheetIds(): string[] {
    return [...this.spreadsheets.keys()];
  }

  stats(): EmulatorStats {
    return structuredClone(this.counters);
  }

  resetStats(): void {
    this.counters = emptyStats();
  }

  /** Adds faults; each matching request consumes one until `count` is used up. */
  injectFaults(faults: Fault[]): void {
    for (const f of faults) {
      if (!Number.isInteger(f.count) || f.count < 1)
        throw new Error("fault count must be a positive integer");
      this.faults.push({ ...f, ...(f.methods ? { methods: [...f.methods] } : {}) });
    }
  }

  pendingFaults(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clearFaults(): void {
    this.faults = [];
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  setQuota(q: { writesPerMinute?: number; readsPerMinute?: number }): void {
    if (q.writesPerMinute !== undefined) this.quota.write = q.writesPerMinute;
    if (q.readsPerMinute !== undefined) this.quota.read = q.readsPerMinute;
    this.windows.clear();
  }

  /** Forgets every spreadsheet, stat, fault, quota window and latency. */
  reset(): void {
    this.spreadsheets.clear();
    this.faults = [];
    this.latencyMs = 0;
    this.windows.clear();
    this.quota = {
      read: this.options.quotaReadsPerMinute ?? 60,
      write: this.options.quotaWritesPerMinute ?? 60,
    };
    this.counters = emptyStats();
  }

  // ---- the sheet's own UI and its bound script ---------------------------------------------
  // A person typing, inserting, deleting or sorting rows, and a bound script's writes, are not
  // API requests: they spend no quota and are not counted in stats(). Each emits "sheetChange".

  /**
   * Writes `values` at 0-based (row, column) as if typed into the cells (USER_ENTERED: "=…" is
   * a formula, "12" a number, "2026-11-20" a date; "" empties a cell, null leaves it).
   */
  userSetValues(
    spreadsheetId: string,
    sheetTitle: string,
    row: number,
    column: number,
    values: unknown[][],
    source: "user" | "script" = "user",
  ): void {
    const { ss, sheet } = this.sheetOf(spreadsheetId, sheetTitle);
    const columns = values.reduce((m, r) => Math.max(m, r.length), 0);
    if (row < 0 || column < 0 || row + values.length > sheet.rowCount) {
      throw new Error(`rows ${row + 1}-${row + values.length} are outside "${sheet.title}"`);
    }
    if (column + columns > sheet.columnCount) {
      throw new Error(`columns ${column + 1}-${column + columns} are outside "${sheet.title}"`);
    }
    // Parse everything first so a bad value changes nothing.
    const inputs = values.map((line) =>
      line.map((raw) => parseInput(raw, "USER_ENTERED", { timeZone: ss.timeZone })),
    );
    inputs.forEach((line, i) =>
      line.forEach((input, j) =>
        sheet.set(row + i, column + j, applyInput(sheet.get(row + i, column + j), input)),
      ),
    );
    this.emitSheetChange(ss, sheet, source, "edit", row, values.length, column, columns);
  }

  /** Inserts `count` empty rows before 0-based row `at`; formulas follow the rows they name. */
  userInsertRows(spreadsheetId: string, sheetTitle: string, at: number, count = 1): void {
    const { ss, sheet } = this.sheetOf(spreadsheetId, sheetTitle);
    if (at < 0 || at > sheet.rowCount || count < 1) throw new Error(`cannot insert rows at ${at}`);
    sheet.insertRows(at, count, at > 0 ? at - 1 : undefined);
    remapFormulas(ss, sheet, insertedRowsMap(at, count));
    this.emitSheetChange(ss, sheet, "user", "insertRows", at, count);
  }

  /** Deletes 0-based rows [start, start + count); formulas naming them become #REF!. */
  userDeleteRows(spreadsheetId: string, sheetTitle: string, start: number, count = 1): void {
    const { ss, sheet } = this.sheetOf(spreadsheetId, sheetTitle);
    if (start < 0 || count < 1 || start + count > sheet.rowCount || count === sheet.rowCount) {
      throw new Error(`cannot delete rows ${start + 1}-${start + count} of "${sheet.title}"`);
    }
    sheet.deleteRows(start, start + count);
    remapFormulas(ss, sheet, deletedRowsMap(start, start + count));
    this.emitSheetChange(ss, sheet, "user", "deleteRows", start, count);
  }

  /**
   * Sorts the rows below `headerRows` by a 0-based column, as Data → Sort range does: numbers
   * and dates, then text (case-insensitive), then booleans; empty cells last either way. A
   * moved formula shifts like a copied one; references from other cells keep their cells.
   */
  userSortRows(
    spreadsheetId: string,
    sheetTitle: string,
    column: number,
    ascending = true,
    headerRows = 1,
  ): void {
    const { ss, sheet } = this.sheetOf(spreadsheetId, sheetTitle);
    const end = lastContentRow(ss, sheet) + 1;
    if (end <= headerRows) return;
    const rank = (v: unknown) =>
      typeof v === "number" ? 0 : typeof v === "string" ? 1 : typeof v === "boolean" ? 2 : 3;
    const keyed = [];
    for (let r = headerRows; r < end; r++) {
      const v = ss.effective(sheet, r, column)?.value;
      const key = v === undefined || v instanceof CellError || v === "" ? null : v;
      keyed.push({ r, key });
    }
    keyed.sort((a, b) => {
      const [x, y] = [a.key, b.key];
      if (rank(x ?? undefined) !== rank(y ?? undefined)) {
        // Empty cells stay last whatever the direction.
        if (x === null || y === null) return x === null ? 1 : -1;
        return ascending ? rank(x) - rank(y) : rank(y) - rank(x);
      }
      const vx = typeof x === "string" ? x.toLowerCase() : x;
      const vy = typeof y === "string" ? y.toLowerCase() : y;
      const order = vx! < vy! ? -1 : vx! > vy! ? 1 : 0;
      return ascending ? order : -order;
    });
    const order = [...Array.from({ length: headerRows }, (_, i) => i), ...keyed.map((k) => k.r)];
    const moved = order.map((r) => sheet.rows[r] ?? []);
    moved.forEach((cells, i) => {
      const delta = i - order[i]!;
      if (delta !== 0) {
        for (const cell of cells) {
          if (cell?.formula !== undefined) cell.formula = shiftFormula(cell.formula, delta);
        }
      }
      sheet.rows[i] = cells;
    });
    this.emitSheetChange(ss, sheet, "user", "sort", headerRows, end - headerRows);
  }

  /**
   * The sheet's data range as Apps Script's getDataRange().getValues() returns it: formulas
   * evaluated, dates and times as Date objects (from serials in the spreadsheet's zone),
   * errors as their text, '' for empty cells, rows padded to the same width.
   */
  scriptValues(spreadsheetId: string, sheetTitle: string): ScriptValue[][] {
    const { ss, sheet } = this.sheetOf(spreadsheetId, sheetTitle);
    const rows = Math.max(lastContentRow(ss, sheet) + 1, 1);
    let columns = 1;
    for (let r = 0; r < rows; r++) {
      (sheet.rows[r] ?? []).forEach((_, c) => {
        if (ss.effective(sheet, r, c) !== null) columns = Math.max(columns, c + 1);
      });
    }
    return Array.from({ length: rows }, (_, r) =>
      Array.from({ length: columns }, (_, c): ScriptValue => {
        const eff = ss.effective(sheet, r, c);
        if (!eff) return "";
        const v = eff.value;
        if (v instanceof CellError) return v.code;
        const format = sheet.get(r, c)?.format ?? eff.format;
        if (typeof v === "number" && isTemporal(format)) {
          return new Date(instantFromSerial(v, ss.timeZone));
        }
        return v;
      }),
    );
  }

  private sheetOf(spreadsheetId: string, sheetTitle: string) {
    const ss = this.spreadsheets.get(spreadsheetId);
    if (!ss) throw new Error(`No spreadsheet "${spreadsheetId}"`);
    const sheet = ss.findSheet(sheetTitle);
    if (!sheet) throw new Error(`No sheet "${sheetTitle}" in "${spreadsheetId}"`);
    return { ss, sheet };
  }

  private emitSheetChange(
    ss: Spreadsheet,
    sheet: Sheet,
    source: SheetChangeEvent["source"],
    kind: SheetChangeEvent["kind"],
    row: number,
    rows: number,
    column?: number,
    columns?: number,
  ): void {
    const event: SheetChangeEvent = {
      at: this.now(),
      source,
      kind,
      spreadsheetId: ss.spreadsheetId,
      sheetTitle: sheet.title,
      row,
      rows,
      ...(column === undefined ? {} : { column, columns: columns ?? 1 }),
    };
    this.emit("sheetChange", event);
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  /** Serves /v4/… and /__emulator/…; returns false (and does nothing) for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? "/", "http://emulator.local");
    if (url.pathname.startsWith("/v4/")) {
      void this.serveApi(req, res, url);
      return true;
    }
    if (url.pathname === "/__emulator" || url.pathname.startsWith("/__emulator/")) {
      void this.serveAdmin(req, res, url).catch((e: unknown) => {
        send(res, 400, {
          error: {
            code: 400,
            message: String((e as Error).message ?? e),
            status: "INVALID_ARGUMENT",
          },
        });
      });
      return true;
    }
    return false;
  }

  private record(event: RequestEvent): void {
    if (event.status >= 300) {
      const key = String(event.status);
      this.counters.errorsByStatus[key] = (this.counters.errorsByStatus[key] ?? 0) + 1;
    }
    this.emit("request", event);
  }

  private takeFault(method: string): Fault | undefined {
    const fault = this.faults.find((f) => !f.methods || f.methods.includes(method));
    if (!fault) return undefined;
    fault.count -= 1;
    if (fault.count <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  /** Sliding 60 s window per user and kind; returns false when the request is over quota. */
  private admit(user: string, kind: Kind): boolean {
    const key = `${kind}:${user}`;
    const now = this.now();
    const window = (this.windows.get(key) ?? []).filter((t) => t > now - 60_000);
    this.windows.set(key, window);
    if (window.length >= this.quota[kind]) return false;
    window.push(now);
    return true;
  }

  private async serveApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = Date.now();
    const httpMethod = req.method ?? "GET";
    const found = route(httpMethod, url.pathname);
    const base = { at: this.now(), httpMethod, path: safeDecode(url.pathname) };
    if (!found) {
      // Drain the body so keep-alive connections stay usable.
      await readBody(req).catch(() => "");
      const err = new ApiError(404, "NOT_FOUND", `Method not found: ${httpMethod} ${url.pathname}`);
      send(res, 404, errorBody(err));
      this.record({
        ...base,
        method: "unknown",
        status: 404,
        outcome: "error",
        durationMs: Date.now() - started,
        message: err.message,
      });
      return;
    }
    const { method, kind } = found;
    this.counters.byMethod[method] = (this.counters.byMethod[method] ?? 0) + 1;
    this.counters.total += 1;
    let status = 200;
    let outcome: RequestEvent["outcome"] = "ok";
    let message: string | undefined;
    try {
      const text = await readBody(req);
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      const fault = this.takeFault(method);
      if (fault) {
        outcome = "fault";
        throw faultError(fault, kind, this.quota[kind]);
      }
      const user = url.searchParams.get("quotaUser") ?? req.headers.authorization ?? "anonymous";
      if (!this.admit(user, kind)) {
        outcome = "quota";
        throw quotaError(kind, this.quota[kind]);
      }
      if (kind === "read") this.counters.reads += 1;
      else this.counters.writes += 1;
      let body: Record<string, unknown> = {};
      if (text.trim() !== "") {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw invalid(`Invalid JSON payload received. Unexpected token.\n${text.slice(0, 40)}`);
        }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
          throw invalid("Invalid JSON payload received. Expected an object.");
        }
        body = parsed as Record<string, unknown>;
      }
      for (const name of url.searchParams.keys()) {
        if (!SYSTEM_PARAMS.has(name) && !found.params.includes(name)) {
          throw invalid(
            `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter. Field '${name}' could not be found in request message.`,
          );
        }
      }
      const fields = url.searchParams.get("fields");
      let mask;
      try {
        mask = fields ? parseFields(fields) : undefined;
      } catch (e) {
        throw invalid((e as Error).message);
      }
      const result = this.execute(found, url.searchParams, body);
      send(res, 200, mask ? applyFields(result, mask) : result);
    } catch (e) {
      const err =
        e instanceof ApiError ? e : new ApiError(500, "INTERNAL", "Internal error encountered.");
      if (!(e instanceof ApiError)) console.error("sheets-emulator: internal error", e);
      if (outcome === "ok") outcome = "error";
      if (outcome === "fault" || outcome === "quota") {
        this.counters.rejected += 1;
        this.counters.rejectedByMethod[method] = (this.counters.rejectedByMethod[method] ?? 0) + 1;
      }
      status = err.code;
      message = err.message;
      send(res, err.code, errorBody(err));
    }
    this.record({
      ...base,
      method,
      spreadsheetId: found.spreadsheetId,
      status,
      outcome,
      durationMs: Date.now() - started,
      ...(message === undefined ? {} : { message }),
    });
  }

  private execute(found: Route, query: URLSearchParams, body: Record<string, unknown>): unknown {
    const ss = this.spreadsheets.get(found.spreadsheetId);
    if (!ss) throw new ApiError(404, "NOT_FOUND", "Requested entity was not found.");
    const q = (name: string) => query.get(name) ?? undefined;
    const readOptions = () => ({
      majorDimension: (enumParam("majorDimension", q("majorDimension")) === "COLUMNS"
        ? "COLUMNS"
        : "ROWS") as Dimension,
      valueRenderOption: (enumParam("valueRenderOption", q("valueRenderOption")) ??
        "FORMATTED_VALUE") as ValueRenderOption,
      dateTimeRenderOption: (enumParam("dateTimeRenderOption", q("dateTimeRenderOption")) ??
        "SERIAL_NUMBER") as DateTimeRenderOption,
    });
    const range = found.range ?? "";
    switch (found.method) {
      case "spreadsheets.get": {
        if (query.getAll("ranges").length > 0) {
          throw invalid(
            "The 'ranges' parameter of spreadsheets.get is not supported by the emulator.",
          );
        }
        if (boolParam("includeGridData", q("includeGridData"))) {
          throw invalid("includeGridData=true is not supported by the emulator.");
        }
        return spreadsheetResource(ss);
      }
      case "values.get":
        return readRange(ss, range, readOptions());
      case "values.batchGet": {
        const opts = readOptions();
        const ranges = query.getAll("ranges");
        if (ranges.length === 0) return { spreadsheetId: ss.spreadsheetId };
        return {
          spreadsheetId: ss.spreadsheetId,
          valueRanges: ranges.map((r) => readRange(ss, r, opts)),
        };
      }
      case "values.update": {
        checkBodyKeys(body, VALUE_RANGE_KEYS);
        if (typeof body["range"] === "string" && body["range"] !== range) {
          const a = ss.resolve(body["range"]);
          const b = ss.resolve(range);
          if (a.sheet !== b.sheet || JSON.stringify(a.box) !== JSON.stringify(b.box)) {
            throw invalid(`Requested range [${body["range"]}] does not match URL range [${range}]`);
          }
        }
        const option = valueInputOption(
          q("valueInputOption"),
          "'valueInputOption' is required but not specified",
        );
        return updateValues(ss, { ...body, range } as WriteInput, option, responseOptions(q));
      }
      case "values.append": {
        checkBodyKeys(body, VALUE_RANGE_KEYS);
        const option = valueInputOption(
          q("valueInputOption"),
          "'valueInputOption' is required but not specified",
        );
        const insert = (enumParam("insertDataOption", q("insertDataOption")) ??
          "OVERWRITE") as InsertDataOption;
        return appendValues(
          ss,
          { ...body, range } as WriteInput,
          option,
          insert,
          responseOptions(q),
        );
      }
      case "values.batchUpdate": {
        checkBodyKeys(body, [
          "valueInputOption",
          "data",
          "includeValuesInResponse",
          "responseValueRenderOption",
          "responseDateTimeRenderOption",
        ]);
        const option = valueInputOption(
          body["valueInputOption"],
          "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED",
        );
        const data = body["data"] ?? [];
        if (!Array.isArray(data))
          throw invalid("Invalid JSON payload received. Invalid value at 'data'");
        data.forEach((d: unknown, i) => {
          if (!d || typeof d !== "object")
            throw invalid(`Invalid JSON payload received. Invalid value at 'data[${i}]'`);
          checkBodyKeys(d as Record<string, unknown>, VALUE_RANGE_KEYS, `data[${i}]`);
        });
        return batchUpdateValues(
          ss,
          data as WriteInput[],
          option,
          responseOptions((n) => body[n]),
        );
      }
      case "values.clear":
        checkBodyKeys(body, []);
        return { spreadsheetId: ss.spreadsheetId, clearedRange: clearRange(ss, range) };
      case "values.batchClear": {
        checkBodyKeys(body, ["ranges"]);
        const ranges = body["ranges"] ?? [];
        if (!Array.isArray(ranges) || ranges.some((r) => typeof r !== "string")) {
          throw invalid("Invalid JSON payload received. Invalid value at 'ranges'");
        }
        // Resolve every range before clearing any, so a bad one leaves the sheet untouched.
        for (const r of ranges as string[]) ss.clip(ss.resolve(r));
        const cleared = (ranges as string[]).map((r) => clearRange(ss, r));
        return { spreadsheetId: ss.spreadsheetId, clearedRanges: cleared };
      }
      case "spreadsheets.batchUpdate":
        checkBodyKeys(body, [
          "requests",
          "includeSpreadsheetInResponse",
          "responseRanges",
          "responseIncludeGridData",
        ]);
        return batchUpdateSpreadsheet(ss, body);
      default:
        throw new ApiError(404, "NOT_FOUND", "Method not found.");
    }
  }

  private async serveAdmin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, "");
    const method = req.method ?? "GET";
    const text = await readBody(req);
    const body: unknown = text.trim() === "" ? {} : reviveDates(JSON.parse(text));
    const obj = (body ?? {}) as Record<string, unknown>;
    const ss = /^\/__emulator\/spreadsheets\/([^/]+)$/.exec(path);
    if (ss) {
      const id = decodeURIComponent(ss[1] ?? "");
      if (method === "POST" || method === "PUT") {
        this.seed(id, obj as unknown as SeedSpreadsheet);
        return send(res, 200, { spreadsheetId: id });
      }
      if (method === "GET") {
        const snap = this.snapshot(id);
        return snap
          ? send(res, 200, snap)
          : send(res, 404, {
              error: { code: 404, message: "Requested entity was not found.", status: "NOT_FOUND" },
            });
      }
    }
    const key = `${method} ${path}`;
    switch (key) {
      case "GET /__emulator/spreadsheets":
        return send(res, 200, { spreadsheetIds: this.spreadsheetIds() });
      case "GET /__emulator/stats":
        return send(res, 200, this.stats());
      case "POST /__emulator/stats/reset":
        this.resetStats();
        return send(res, 200, {});
      case "GET /__emulator/faults":
        return send(res, 200, { faults: this.pendingFaults() });
      case "POST /__emulator/faults": {
        const list = Array.isArray(body) ? body : (obj["faults"] ?? []);
        this.injectFaults(list as Fault[]);
        return send(res, 200, { faults: this.pendingFaults() });
      }
      case "DELETE /__emulator/faults":
        this.clearFaults();
        return send(res, 200, {});
      case "POST /__emulator/latency":
        this.setLatency(Number(obj["ms"] ?? 0));
        return send(res, 200, { ms: this.latencyMs });
      case "POST /__emulator/quota": {
        const n = (v: unknown) => (v === undefined ? undefined : Number(v));
        this.setQuota({
          writesPerMinute: n(obj["writesPerMinute"]),
          readsPerMinute: n(obj["readsPerMinute"]),
        });
        return send(res, 200, {
          writesPerMinute: this.quota.write,
          readsPerMinute: this.quota.read,
        });
      }
      case "POST /__emulator/reset":
        this.reset();
        return send(res, 200, {});
      default:
        return send(res, 404, {
          error: { code: 404, message: `No admin endpoint ${key}`, status: "NOT_FOUND" },
        });
    }
  }
}

/** 0-based index of the last row with a non-empty effective value; -1 when there is none. */
function lastContentRow(ss: Spreadsheet, sheet: Sheet): number {
  for (let r = sheet.rows.length - 1; r >= 0; r--) {
    const row = sheet.rows[r];
    if (row?.some((_, c) => ss.effective(sheet, r, c) !== null)) return r;
  }
  return -1;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function trimGrid(rows: unknown[][]): unknown[][] {
  const out = rows.map((r) => {
    let end = r.length;
    while (end > 0 && r[end - 1] === "") end -= 1;
    return r.slice(0, end);
  });
  while (out.length > 0 && (out[out.length - 1]?.length ?? 0) === 0) out.pop();
  return out;
}

export function createSheetsEmulator(options: SheetsEmulatorOptions = {}): SheetsEmulator {
  return new SheetsEmulator(options);
}
