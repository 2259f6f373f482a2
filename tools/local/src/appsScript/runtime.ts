/**
 * The sheet's side of `npm start`: a person's edits go into the Sheets
 * emulator at once (no API request, no quota), then the bound script's
 * trigger runs in the worker on the sheet's current cells, and the cells the
 * script wrote (new `_id`s, `_modified` times) are written back as the
 * script's own writes. Runs are serial, like one script's executions under
 * its lock; the time-driven trigger runs flushOutbox every minute.
 */
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { RawRow, SheetsEmulator } from "@sheet-sync/sheets-emulator";
import type {
  CellValue,
  CellWrite,
  Entry,
  FromWorker,
  RunResult,
  ScriptConfig,
  ToWorker,
} from "./protocol.js";

export type TriggerName = "onEdit" | "onChange" | "time-driven" | "Set up" | "Sync now";

export interface RunReport extends RunResult {
  trigger: TriggerName;
  entry: Entry["fn"];
  /** Script writes that could not be placed because their row moved or changed meanwhile. */
  skippedWrites: number;
}

export interface AppsScriptRuntimeOptions extends ScriptConfig {
  sheets: SheetsEmulator;
  bundlePath: string;
  /** flushOutbox period (the real trigger: every minute). */
  timerMs?: number;
}

const TRIGGER: Record<Entry["fn"], TriggerName> = {
  handleEdit: "onEdit",
  handleChange: "onChange",
  flushOutbox: "time-driven",
  setUp: "Set up",
  syncNow: "Sync now",
};

/** The script's hidden columns: a person sorting "the data" selects around them. */
const BOOKKEEPING = new Set(["_id", "_modified", "_rev"]);

/** Rows a person deleted, kept for Edit → Undo. */
export interface DeletedRows {
  /** 1-based row they were deleted at. */
  row: number;
  rows: RawRow[];
  /** Their `_id` cells, to say which rows Undo brings back. */
  ids: string[];
}

const RUN_DEADLINE_MS = 5 * 60_000;

/** Emits "report" (RunReport) after every run and "error" (Error) when a run fails. */
export class AppsScriptRuntime extends EventEmitter {
  private worker: Worker | null = null;
  private nextId = 1;
  private pending = new Map<number, { resolve(r: RunResult): void; reject(e: Error): void }>();
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private deleted: DeletedRows | null = null;

  constructor(private readonly options: AppsScriptRuntimeOptions) {
    super();
  }

  async start(): Promise<void> {
    if (!existsSync(this.options.bundlePath)) {
      throw new Error(
        `${this.options.bundlePath} is missing: run \`npm run build -w apps-script\` (npm start builds it)`,
      );
    }
    // tsx's hooks are per thread: register them before loading the TypeScript worker.
    const entry = new URL("./worker.ts", import.meta.url).href;
    const boot = `require("tsx/cjs/api").register();
import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
    const worker = new Worker(boot, { eval: true });
    this.worker = worker;
    worker.on("message", (m: FromWorker) => {
      const waiter = this.pending.get(m.id);
      if (!waiter) return;
      this.pending.delete(m.id);
      if (m.ok) waiter.resolve(m.result);
      else waiter.reject(new Error(m.error));
    });
    worker.on("error", (e) => this.failAll(e));
    worker.on("exit", (code) => {
      this.worker = null;
      if (!this.stopped) this.failAll(new Error(`the Apps Script worker exited (${code})`));
    });
    const { sheets: _s, bundlePath: _b, timerMs: _t, ...config } = this.options;
    await this.send({ id: 0, type: "init", config });
  }

  /** Runs Set up (as the menu item does: imports every row), then the timer. */
  async setUp(): Promise<RunReport> {
    const report = await this.enqueue({ fn: "setUp" });
    const every = this.options.timerMs ?? 60_000;
    this.timer = setInterval(() => {
      // One waiting flush is enough; a busy runtime would only pile them up.
      if (this.queued === 0) void this.enqueue({ fn: "flushOutbox" }).catch(() => {});
    }, every);
    this.timer.unref();
    return report;
  }

  /** A person types `values` at 1-based (row, column) of the synced tab. */
  edit(row: number, column: number, values: string[][]): Promise<RunReport> {
    const { sheets, spreadsheetId, sheetName } = this.options;
    const before = sheets.scriptValues(spreadsheetId, sheetName);
    const oldValue = before[row - 1]?.[column - 1];
    sheets.userSetValues(spreadsheetId, sheetName, row - 1, column - 1, values);
    const single = values.length === 1 && values[0]?.length === 1;
    return this.enqueue({
      fn: "handleEdit",
      row,
      column,
      numRows: values.length,
      numColumns: Math.max(...values.map((r) => r.length)),
      ...(single && oldValue !== undefined && oldValue !== "" ? { oldValue } : {}),
    });
  }

  /** Inserts `count` empty rows before 1-based `row`. */
  insertRows(row: number, count = 1): Promise<RunReport> {
    const { sheets, spreadsheetId, sheetName } = this.options;
    sheets.userInsertRows(spreadsheetId, sheetName, row - 1, count);
    return this.enqueue({ fn: "handleChange", changeType: "INSERT_ROW" });
  }

  deleteRows(row: number, count = 1): Promise<RunReport> {
    const { sheets, spreadsheetId, sheetName } = this.options;
    const before = sheets.scriptValues(spreadsheetId, sheetName);
    const idColumn = (before[0] ?? []).indexOf("_id");
    const rows = sheets.userDeleteRows(spreadsheetId, sheetName, row - 1, count);
    const ids = before.slice(row - 1, row - 1 + count).map((r) => String(r[idColumn] ?? ""));
    this.deleted = { row, rows, ids };
    return this.enqueue({ fn: "handleChange", changeType: "REMOVE_ROW" });
  }

  /** What Undo would bring back; null when nothing was deleted since the last undo. */
  lastDeleted(): DeletedRows | null {
    return this.deleted;
  }

  /**
   * Edit → Undo of the last delete: the rows come back where they were, hidden `_id` included,
   * so the script sees a deleted row reappear. Google reports that as an inserted row.
   */
  async undoDelete(): Promise<RunReport> {
    const deleted = this.deleted;
    if (!deleted) throw Object.assign(new Error("no deleted rows to bring back"), { status: 409 });
    const { sheets, spreadsheetId, sheetName } = this.options;
    sheets.userRestoreRows(spreadsheetId, sheetName, deleted.row - 1, deleted.rows);
    this.deleted = null;
    return this.enqueue({ fn: "handleChange", changeType: "INSERT_ROW" });
  }

  /** Sorts the data rows by a 1-based column. */
  sort(column: number, ascending: boolean): Promise<RunReport> {
    const { sheets, spreadsheetId, sheetName } = this.options;
    sheets.userSortRows(spreadsheetId, sheetName, column - 1, ascending);
    return this.enqueue({ fn: "handleChange", changeType: "OTHER" });
  }

  /**
   * Data → Sort range on the visible columns only (B2:I31 in the demo): the hidden `_id`,
   * `_modified` and `_rev` cells stay in their rows while the content moves, and the script
   * must move the ids after their content. Google does not document which trigger a sort
   * fires; this runs onChange (OTHER), as for a whole-row sort: a sort types no cell, and
   * onChange's scan moves ids without taking moved rows for edits of the sorted columns.
   */
  async sortVisibleColumns(column: number, ascending: boolean): Promise<RunReport> {
    const { sheets, spreadsheetId, sheetName } = this.options;
    const grid = sheets.scriptValues(spreadsheetId, sheetName);
    const header = (grid[0] ?? []).map(String);
    const visible = header.flatMap((h, c) => (BOOKKEEPING.has(h) ? [] : [c]));
    if (visible.length === 0 || grid.length < 2) {
      throw Object.assign(new Error("no data rows to sort"), { status: 409 });
    }
    // The selection a person drags: first to last visible column (hidden ones between move too).
    const box = {
      startRow: 1,
      endRow: grid.length,
      startColumn: Math.min(...visible),
      endColumn: Math.max(...visible) + 1,
    };
    sheets.userSortRange(spreadsheetId, sheetName, box, column - 1, ascending);
    return this.enqueue({ fn: "handleChange", changeType: "OTHER" });
  }

  /** The menu's Sync now: send what is pending, then the signed reconcile request. */
  syncNow(): Promise<RunReport> {
    return this.enqueue({ fn: "syncNow" });
  }

  /** The time-driven trigger, now. */
  flushOutbox(): Promise<RunReport> {
    return this.enqueue({ fn: "flushOutbox" });
  }

  /** Resolves once no run is queued or running. */
  async idle(): Promise<void> {
    while (this.queued > 0) await this.queue.catch(() => {});
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.failAll(new Error("the stack is stopping"));
    await this.worker?.terminate();
  }

  private enqueue(entry: Entry): Promise<RunReport> {
    this.queued += 1;
    const run = this.queue.then(() => this.run(entry));
    this.queue = run.catch(() => {});
    return run.finally(() => (this.queued -= 1));
  }

  private async run(entry: Entry): Promise<RunReport> {
    const { sheets, spreadsheetId, sheetName } = this.options;
    // The trigger reads the sheet as it is when it runs, not when it was queued.
    const grid = sheets.scriptValues(spreadsheetId, sheetName);
    let result: RunResult;
    try {
      result = await this.send({ id: 0, type: "run", entry, grid });
    } catch (error) {
      this.emit("error", error);
      throw error;
    }
    const skipped = this.applyWrites(grid, result.writes);
    const report: RunReport = {
      ...result,
      trigger: TRIGGER[entry.fn],
      entry: entry.fn,
      skippedWrites: skipped,
    };
    this.emit("report", report);
    return report;
  }

  /**
   * Writes the script's changes into the sheet as it is now. While the script ran, the
   * functions may have appended or deleted rows through the API, so each written row is
   * found again by its `_id` (or, for a row that had none yet, by its other cells).
   */
  private applyWrites(sent: CellValue[][], writes: CellWrite[]): number {
    if (writes.length === 0) return 0;
    const { sheets, spreadsheetId, sheetName } = this.options;
    const now = sheets.scriptValues(spreadsheetId, sheetName);
    const idColumn = (sent[0] ?? []).indexOf("_id");
    const byRow = new Map<number, CellWrite[]>();
    for (const w of writes) byRow.set(w.row, [...(byRow.get(w.row) ?? []), w]);
    let skipped = 0;
    for (const [row, cells] of byRow) {
      const target = findRow(sent, now, row - 1, new Set(cells.map((c) => c.column - 1)), idColumn);
      if (target === null) {
        skipped += cells.length;
        continue;
      }
      // Range.setValues parses text as typed input, like USER_ENTERED.
      for (const cell of cells) {
        sheets.userSetValues(
          spreadsheetId,
          sheetName,
          target,
          cell.column - 1,
          [[cell.value]],
          "script",
        );
      }
    }
    return skipped;
  }

  private send(message: ToWorker): Promise<RunResult> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error("the Apps Script worker is not running"));
    const id = this.nextId++;
    return new Promise<RunResult>((resolve, reject) => {
      const timeout = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the Apps Script run did not finish in ${RUN_DEADLINE_MS / 1000} s`));
      }, RUN_DEADLINE_MS);
      this.pending.set(id, {
        resolve: (r) => (clearTimeout(timeout), resolve(r)),
        reject: (e) => (clearTimeout(timeout), reject(e)),
      });
      worker.postMessage({ ...message, id });
    });
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

const same = (a: CellValue | undefined, b: CellValue | undefined) =>
  a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : (a ?? "") === (b ?? "");

function findRow(
  sent: CellValue[][],
  now: CellValue[][],
  row: number,
  written: Set<number>,
  idColumn: number,
): number | null {
  const before = sent[row] ?? [];
  const id = idColumn >= 0 && !written.has(idColumn) ? before[idColumn] : "";
  if (id !== undefined && id !== "") {
    const found = now.findIndex((r) => r[idColumn] === id);
    return found >= 0 ? found : null;
  }
  const matches = (r: CellValue[] | undefined) =>
    r !== undefined &&
    before.every((v, c) => written.has(c) || same(v, r[c])) &&
    r.every((v, c) => written.has(c) || same(v, before[c]));
  if (matches(now[row])) return row;
  const found = now.findIndex((r) => matches(r));
  return found >= 0 ? found : null;
}
