/**
 * Messages between the stack and the Apps Script runtime worker. The worker
 * owns the script's state (outbox, snapshot, status) for the life of the
 * stack; the stack owns the spreadsheet and sends its cells for each run.
 */

/** A cell as Apps Script's getValues() returns it. */
export type CellValue = string | number | boolean | Date;

export interface ScriptConfig {
  spreadsheetId: string;
  sheetName: string;
  webhookUrl: string;
  secret: string;
}

/** Which bundle entry point runs, with what trigger event. */
export type Entry =
  | {
      fn: "handleEdit";
      /** 1-based, as in an onEdit event's range. */
      row: number;
      column: number;
      numRows: number;
      numColumns: number;
      oldValue?: CellValue;
    }
  | { fn: "handleChange"; changeType: "INSERT_ROW" | "REMOVE_ROW" | "OTHER" | "EDIT" }
  | { fn: "flushOutbox" }
  | { fn: "setUp" }
  /** The menu's "Sync now": send what is pending, then ask for a reconcile. */
  | { fn: "syncNow" };

export type ToWorker =
  | { id: number; type: "init"; config: ScriptConfig }
  | { id: number; type: "run"; entry: Entry; grid: CellValue[][] };

/** One webhook POST the script made during a run. */
export interface WebhookCall {
  at: number;
  /** batch: rows to store (POST /); reconcile: the menu's Sync now (POST /reconcile). */
  kind: "batch" | "reconcile";
  /** HTTP status, or null when the request failed (network error). */
  status: number | null;
  error?: string;
  changes: number;
  deletes: number;
  /** Outcome counts from a 200 reply ({applied: 3, duplicate: 1…}). */
  outcomes?: Record<string, number>;
  /** Row ids and their outcome, first few only. */
  rows?: RowOutcome[];
  /** Every row the functions refused, with the reason (the script sets them aside). */
  rejected?: RowOutcome[];
  /** Fields that lost a conflict, over all rows of the batch. */
  conflicts?: number;
  /** What the functions want a person to see (e.g. a header text that cannot be a field). */
  warnings?: string[];
  /** A reconcile's report (kind "reconcile", 200). */
  report?: unknown;
  durationMs: number;
}

export interface RowOutcome {
  id: string;
  op: string;
  outcome: string;
  conflicts?: number;
  reason?: string;
}

/** A cell the script wrote (1-based), found by comparing its sheet before and after the run. */
export interface CellWrite {
  row: number;
  column: number;
  value: CellValue;
}

export interface RunResult {
  writes: CellWrite[];
  webhooks: WebhookCall[];
  /** The script's lastError if this run recorded a new one. */
  error?: string;
  durationMs: number;
}

export type FromWorker =
  { id: number; ok: true; result: RunResult } | { id: number; ok: false; error: string };
