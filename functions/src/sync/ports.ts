/**
 * What the sync's use cases (ingest, trigger, flush, reconcile) need from the
 * outside, in the sync's own words. The Firestore and Sheets API adapters
 * implement these for production; the model-based test implements them in
 * memory, so the very same use-case code runs under its faults and races.
 */
import type { Conflict } from "../core/conflicts.js";
import type { DocWrite } from "../core/merge.js";
import type { OutboxEntry } from "../core/outbox.js";
import type { Finding } from "../core/reconcile.js";
import type { DocSnapshot, RowState } from "../core/rowState.js";

/** Everything stored about one row: its document, its sync state, its outbox entry. */
export interface RowRecord {
  rowId: string;
  doc: DocSnapshot | null;
  state: RowState | null;
  outbox: OutboxEntry | null;
}

/** What to write for one row; an absent key leaves that part alone. */
export interface RowUpdate {
  doc?: DocWrite;
  state?: RowState;
  /** null removes the entry. */
  outbox?: OutboxEntry | null;
  conflicts?: Conflict[];
}

export type Decide<T> = (rows: ReadonlyMap<string, RowRecord>) => {
  updates: ReadonlyMap<string, RowUpdate>;
  result: T;
};

/** Per synced tab: what the functions last learnt of it. */
export interface SheetInfo {
  /** The synced columns as the sheet last sent or showed them (null: not known yet). */
  columns: string[] | null;
  sheetId?: number;
  timeZone?: string;
  /** Where the `_id` column was (0-based), so locating rows is one request. */
  idColumn?: number;
  lastError?: { at: number; status: number | null; reason: string } | null;
  lastFlushAt?: number;
  lastReconcile?: ReconcileSummary;
  /**
   * The latest read of the sheet the script reported with nothing left to send (a webhook
   * without rows, sent from an idle minute run): rows' own webhooks say the same per row.
   */
  scriptReadAt?: number;
}

export interface ReconcileSummary {
  at: number;
  trigger: ReconcileTrigger;
  rows: number;
  counts: Partial<Record<Finding, number>>;
  conflicts: number;
  sheetsRequests: { reads: number; writes: number };
  durationMs: number;
}

export type ReconcileTrigger = "schedule" | "request" | "recovery";

export interface ReconcileReport extends ReconcileSummary {
  /** Up to 100 row ids per finding other than in-sync. */
  ids: Partial<Record<Finding, string[]>>;
  /** Sheet rows whose id appears more than once (the script re-keys the copies). */
  duplicateIds: string[];
}

/** The rows of one synced tab and their collection. */
export interface SyncStore {
  readonly collection: string;
  readonly sheetKey: string;
  read(rowIds: readonly string[]): Promise<Map<string, RowRecord>>;
  /**
   * Reads the rows in one transaction, lets `decide` choose the writes and
   * commits them with the reads' isolation. `decide` may run more than once
   * (contention), so it must be pure.
   */
  update<T>(rowIds: readonly string[], decide: Decide<T>): Promise<T>;
  /** Outbox entries of this tab, oldest first. */
  queued(limit: number): Promise<OutboxEntry[]>;
  sheet(): Promise<SheetInfo>;
  /** Merges `patch` into the tab's info; a key set to undefined is removed. */
  saveSheet(patch: Partial<SheetInfo>): Promise<void>;
  /** Every row the collection holds or the sync remembers for this tab. */
  allRows(): Promise<Map<string, RowRecord>>;
  saveReport(report: ReconcileReport): Promise<void>;
}

/** Flushes of one tab go through Cloud Tasks; `id` dedups, `runAt` schedules. */
export type ScheduleFlush = (id: string, runAt: number) => Promise<unknown>;
