// The emulator: spreadsheets in memory, the API methods' dispatch with per-user quotas,
// injected faults, latency and stats, the /__emulator/ admin endpoints, and the changes a
// person or the bound script makes in the sheet itself. HTTP plumbing lives in http.ts.

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
  type WriteInput,
} from "./api.js";
import { instantFromSerial, isValidTimeZone } from "./dates.js";
import { CellError } from "./formula.js";
import { insertedRowsMap, remapFormulas } from "./rows.js";
import { applyFields, parseFields, selects, type FieldTree } from "./fields.js";
import {
  BASE_URL,
  boolParam,
  checkBodyKeys,
  enumParam,
  errorBody,
  faultError,
  isEmulatorPath,
  quotaError,
  readBody,
  reply,
  responseOptions,
  reviveDates,
  route,
  send,
  sleep,
  SYSTEM_PARAMS,
  valueInputOption,
  VALUE_RANGE_KEYS,
  type EmulatorRequest,
  type EmulatorResponse,
  type Incoming,
  type Kind,
  type Reply,
  type Route,
} from "./http.js";
import { ApiError, DEFAULT_COLUMNS, DEFAULT_ROWS, invalid, Sheet, Spreadsheet } from "./model.js";
import {
  deleteRows,
  isRawRows,
  lastContentRow,
  pasteRows,
  restoreRows,
  sortBox,
  type RawRow,
} from "./userEdits.js";
import {
  applyInput,
  isTemporal,
  parseInput,
  renderCell,
  type DateTimeRenderOption,
  type ValueRenderOption,
} from "./values.js";

export type { EmulatorRequest, EmulatorResponse } from "./http.js";

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
  /** Only requests whose body contains this text (one poison row among many). */
  bodyIncludes?: string;
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
  /** 0-based first row (and column for edits and range sorts) the change touched. */
  row: number;
  column?: number;
  /** Rows (and columns for edits and range sorts) touched. */
  rows: number;
  columns?: number;
}

/** A block of cells for userSortRange: 0-based, ends exclusive. */
export interface SortBox {
  startRow: number;
  endRow: number;
  startColumn: number;
  endColumn: number;
}

/** What Apps Script's Range.getValues() returns for a cell. */
export type ScriptValue = string | number | boolean | Date;

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

  /**
   * Deletes 0-based rows [start, start + count); formulas naming them become #REF!. Returns the
   * removed rows' raw cells (JSON-serializable) for userRestoreRows.
   */
  userDeleteRows(spreadsheetId: string, sheetTitle: string, start: number, count = 1): RawRow[] {
    const { ss, sheet } = this.sheetOf(spreadsheetId, sheetTitle);
    if (start < 0 || count < 1 || start + count > sheet.rowCount || count === sheet.rowCount) {
      throw new Error(`cannot delete rows ${start + 1}-${start + count} of "${sheet.title}"`);
    }
    const removed = deleteRows(ss, sheet, start, count);
    this.emitSheetChange(ss, sheet, "user", "deleteRows", start, count);
    return removed;
  }

  /**
   * Ctrl-Z of a userDeleteRows: inserts `rows` (what it returned) before 0-based row `at`,
   * cells and formula text as they were. References elsewhere that the delete turned into
   * #REF! stay so (Google's undo would restore them; see restoreRows).
   */
  userRestoreRows(spreadsheetId: string, sheetTitle: string, at: number, rows: RawRow[]): void {
    const { ss, sheet } = this.sheetOf(spreadsheetId, sheetTitle);
    if (!isRawRows(rows) || rows.length === 0) {
      throw new Error("rows must be userDeleteRows' result");
    }
    if (at < 0 || at > sheet.rowCount) throw new Error(`cannot restore rows at ${at}`);
    if (rows.some((row) => row.length > sheet.columnCount)) {
      throw new Error(`the rows are wider than "${sheet.title}"`);
    }
    restoreRows(ss, sheet, at, rows);
    this.emitSheetChange(ss, sheet, "user", "insertRows", at, rows.length);
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
    const box = { startRow: headerRows, endRow: end, startCol: 0, endCol: sheet.columnCount };
    sortBox(ss, sheet, box, column, ascending);
    this.emitSheetChange(ss, sheet, "user", "sort", headerRows, end - headerRows);
  }

  /**
   * Data → Sort range on a selection: sorts only the cells inside `box` (0-based, ends
   * exclusive) by absolute column `sortColumn`, with userSortRows' ordering. Columns outside
   * the box (say, hidden bookkeeping columns) stay where they are.
   */
  userSortRange(
    spreadsheetId: string,
    sheetTitle: string,
    box: SortBox,
    sortColumn: number,
    ascending = true,
  ): void {
    const { ss, sheet } = this.sheetOf(spreadsheetId, sheetTitle);
    const { startRow, endRow, startColumn, endColumn } = box;
    if (
      !(0 <= startRow && startRow < endRow && endRow <= sheet.rowCount) ||
      !(0 <= startColumn && startColumn < endColumn && endColumn <= sheet.columnCount)
    ) {
      throw new Error(`the sort range is outside "${sheet.title}"`);
    }
    if (sortColumn < startColumn || sortColumn >= endColumn) {
      throw new Error(`sort column ${sortColumn} is outside the sort range`);
    }
    const grid = { startRow, endRow, startCol: startColumn, endCol: endColumn };
    sortBox(ss, sheet, grid, sortColumn, ascending);
    const [rows, columns] = [endRow - startRow, endColumn - startColumn];
    this.emitSheetChange(ss, sheet, "user", "sort", startRow, rows, startColumn, columns);
  }

  /**
   * Ctrl-C of whole rows [fromRow, fromRow + count) and Ctrl-V at `toRow`: the destination rows
   * are overwritten in every column (hidden ones too) with values, formats and formulas, the
   * formulas' relative rows shifted by toRow - fromRow.
   */
  userPasteRows(
    spreadsheetId: string,
    sheetTitle: string,
    fromRow: number,
    count: number,
    toRow: number,
  ): void {
    const { ss, sheet } = this.sheetOf(spreadsheetId, sheetTitle);
    if (count < 1 || fromRow < 0 || toRow < 0) throw new Error("cannot paste an empty row range");
    if (fromRow + count > sheet.rowCount || toRow + count > sheet.rowCount) {
      throw new Error(`rows ${toRow + 1}-${toRow + count} are outside "${sheet.title}"`);
    }
    pasteRows(sheet, fromRow, count, toRow);
    this.emitSheetChange(ss, sheet, "user", "edit", toRow, count, 0, sheet.columnCount);
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

  /**
   * Serves /v4/… and /__emulator/…; returns false (and does nothing) for any other path.
   * Everything after reading the body is request()'s code path.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? "/", BASE_URL);
    if (!isEmulatorPath(url.pathname)) return false;
    readBody(req)
      .then((text) =>
        this.dispatch({
          httpMethod: req.method ?? "GET",
          url,
          text,
          authorization: req.headers.authorization,
        }),
      )
      .then(
        ({ status, body }) => send(res, status, body),
        (e: unknown) => {
          console.error("sheets-emulator: request failed", e);
          if (!res.headersSent) {
            send(res, 500, errorBody(new ApiError(500, "INTERNAL", "Internal error encountered.")));
          }
        },
      );
    return true;
  }

  /**
   * Runs one request in-process, through exactly what an HTTP request goes through (routing,
   * faults, quota, stats, events, latency), and returns the status and the JSON body the wire
   * would carry. Paths outside /v4/ and /__emulator/ get the standalone server's 404.
   */
  async request(req: EmulatorRequest): Promise<EmulatorResponse> {
    const url = new URL(req.path, BASE_URL);
    const query = req.query ?? {};
    const entries: [string, string][] =
      query instanceof URLSearchParams
        ? [...query.entries()]
        : Object.entries(query).flatMap(([name, v]) =>
            v === undefined
              ? []
              : (Array.isArray(v) ? v : [v]).map((x): [string, string] => [name, String(x)]),
          );
    for (const [name, v] of entries) url.searchParams.append(name, v);
    const text =
      req.body === undefined
        ? ""
        : typeof req.body === "string"
          ? req.body
          : JSON.stringify(req.body);
    const { status, body } = isEmulatorPath(url.pathname)
      ? await this.dispatch({
          httpMethod: (req.method ?? "GET").toUpperCase(),
          url,
          text,
          authorization: req.headers?.authorization,
        })
      : { status: 404, body: { error: { code: 404, message: "Not found", status: "NOT_FOUND" } } };
    // What the client would parse: undefined members dropped, Dates as strings, and no
    // objects shared with the emulator's state.
    return { status, body: JSON.parse(JSON.stringify(body)) as unknown };
  }

  private dispatch(req: Incoming): Promise<Reply> {
    if (req.url.pathname.startsWith("/v4/")) return this.serveApi(req);
    return this.serveAdmin(req).catch((e: unknown) => ({
      status: 400,
      body: {
        error: {
          code: 400,
          message: String((e as Error).message ?? e),
          status: "INVALID_ARGUMENT",
        },
      },
    }));
  }

  private record(event: RequestEvent): void {
    if (event.status >= 300) {
      const key = String(event.status);
      this.counters.errorsByStatus[key] = (this.counters.errorsByStatus[key] ?? 0) + 1;
    }
    this.emit("request", event);
  }

  private takeFault(method: string, body: string): Fault | undefined {
    const fault = this.faults.find(
      (f) =>
        (!f.methods || f.methods.includes(method)) &&
        (f.bodyIncludes === undefined || body.includes(f.bodyIncludes)),
    );
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

  private async serveApi({ httpMethod, url, text, authorization }: Incoming): Promise<Reply> {
    const started = Date.now();
    const found = route(httpMethod, url.pathname);
    const base = { at: this.now(), httpMethod, path: safeDecode(url.pathname) };
    if (!found) {
      const err = new ApiError(404, "NOT_FOUND", `Method not found: ${httpMethod} ${url.pathname}`);
      this.record({
        ...base,
        method: "unknown",
        status: 404,
        outcome: "error",
        durationMs: Date.now() - started,
        message: err.message,
      });
      return { status: 404, body: errorBody(err) };
    }
    const { method, kind } = found;
    this.counters.byMethod[method] = (this.counters.byMethod[method] ?? 0) + 1;
    this.counters.total += 1;
    let status = 200;
    let outcome: RequestEvent["outcome"] = "ok";
    let message: string | undefined;
    let out: unknown;
    try {
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      const fault = this.takeFault(method, text);
      if (fault) {
        outcome = "fault";
        throw faultError(fault, kind, this.quota[kind]);
      }
      const user = url.searchParams.get("quotaUser") ?? authorization ?? "anonymous";
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
      const result = this.execute(found, url.searchParams, body, mask);
      out = mask ? applyFields(result, mask) : result;
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
      out = errorBody(err);
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
    return { status, body: out };
  }

  private execute(
    found: Route,
    query: URLSearchParams,
    body: Record<string, unknown>,
    mask: FieldTree | undefined,
  ): unknown {
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
        const includeGridData = boolParam("includeGridData", q("includeGridData"));
        boolParam("excludeTablesInBandedRanges", q("excludeTablesInBandedRanges"));
        return spreadsheetResource(ss, {
          ranges: query.getAll("ranges"),
          // Google ignores includeGridData when there is a field mask: the mask decides.
          includeGridData: mask ? selects(mask, ["sheets", "data"]) : includeGridData,
        });
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

  private async serveAdmin({ httpMethod: method, url, text }: Incoming): Promise<Reply> {
    const path = url.pathname.replace(/\/+$/, "");
    const body: unknown = text.trim() === "" ? {} : reviveDates(JSON.parse(text));
    const obj = (body ?? {}) as Record<string, unknown>;
    const ss = /^\/__emulator\/spreadsheets\/([^/]+)$/.exec(path);
    if (ss) {
      const id = decodeURIComponent(ss[1] ?? "");
      if (method === "POST" || method === "PUT") {
        this.seed(id, obj as unknown as SeedSpreadsheet);
        return reply(200, { spreadsheetId: id });
      }
      if (method === "GET") {
        const snap = this.snapshot(id);
        return snap
          ? reply(200, snap)
          : reply(404, {
              error: { code: 404, message: "Requested entity was not found.", status: "NOT_FOUND" },
            });
      }
    }
    const key = `${method} ${path}`;
    switch (key) {
      case "GET /__emulator/spreadsheets":
        return reply(200, { spreadsheetIds: this.spreadsheetIds() });
      case "GET /__emulator/stats":
        return reply(200, this.stats());
      case "POST /__emulator/stats/reset":
        this.resetStats();
        return reply(200, {});
      case "GET /__emulator/faults":
        return reply(200, { faults: this.pendingFaults() });
      case "POST /__emulator/faults": {
        const list = Array.isArray(body) ? body : (obj["faults"] ?? []);
        this.injectFaults(list as Fault[]);
        return reply(200, { faults: this.pendingFaults() });
      }
      case "DELETE /__emulator/faults":
        this.clearFaults();
        return reply(200, {});
      case "POST /__emulator/latency":
        this.setLatency(Number(obj["ms"] ?? 0));
        return reply(200, { ms: this.latencyMs });
      case "POST /__emulator/quota": {
        const n = (v: unknown) => (v === undefined ? undefined : Number(v));
        this.setQuota({
          writesPerMinute: n(obj["writesPerMinute"]),
          readsPerMinute: n(obj["readsPerMinute"]),
        });
        return reply(200, {
          writesPerMinute: this.quota.write,
          readsPerMinute: this.quota.read,
        });
      }
      case "POST /__emulator/reset":
        this.reset();
        return reply(200, {});
      default:
        return reply(404, {
          error: { code: 404, message: `No admin endpoint ${key}`, status: "NOT_FOUND" },
        });
    }
  }
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
