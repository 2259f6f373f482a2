/** What the stack sends the page (JSON over /api/state and Server-Sent Events). */

export interface SheetView {
  title: string;
  sheetName: string;
  timeZone: string;
  /** What the sheet shows (FORMATTED_VALUE), row 1 = header. */
  formatted: string[][];
  /** Formula text where a cell has one. */
  formulas: (string | null)[][];
  /** The last rows a person deleted, while Undo can still put them back. */
  undo: { row: number; count: number; ids: string[] } | null;
}

/**
 * The sync's record of one row (`syncRows/{collection}:{rowId}` and its
 * `syncOutbox` entry) in a few words, for a person to read.
 */
export interface SyncView {
  kind: "in-sync" | "to-sheet" | "waiting" | "deleted" | "unknown";
  /** "in sync", "→ sheet: qty", "waiting for the sheet", "deleted in the sheet"… */
  label: string;
  /** The raw state and outbox entry, as JSON, for a tooltip. */
  raw: string;
}

export interface Doc {
  id: string;
  /** Fields as JSON; timestamps as {"$date": iso}. */
  data: Record<string, unknown>;
  sync: SyncView;
}

/** A row the sync remembers as deleted (its document is gone). */
export interface GoneRow {
  id: string;
  sync: SyncView;
}

export interface ActivityEntry {
  id: number;
  at: number;
  /** to-firestore: sheet → webhook; to-sheet: functions → Sheets API; page: a page edit. */
  dir: "to-firestore" | "to-sheet" | "retry" | "conflict" | "page" | "info" | "error" | "reconcile";
  title: string;
  detail?: string;
}

/** One `syncConflicts` document. */
export interface ConflictView {
  id: string;
  rowId: string;
  /** null: the whole row (a delete against an update). */
  field: string | null;
  rule: string;
  kept: ConflictSideView;
  rejected: ConflictSideView;
  detectedAt: number;
}

export interface ConflictSideView {
  side: string;
  op: string;
  at: number | null;
  /** The side's values as JSON text (null for a delete). */
  values: string | null;
}

/** A reconcile's report, as the webhook's /reconcile answers and syncReconciles stores it. */
export interface ReconcileView {
  at: number;
  trigger: string;
  rows: number;
  counts: Record<string, number>;
  conflicts: number;
  sheetsRequests: { reads: number; writes: number };
  durationMs: number;
  ids: Record<string, string[]>;
  duplicateIds: string[];
}

/** The local stand-in for Cloud Scheduler running `scheduledReconcile`. */
export interface ScheduleView {
  /** 0: off (SHEET_SYNC_LOCAL_RECONCILE_MS=0). */
  everyMs: number;
  nextAt: number | null;
  /** The deployed schedule, as the function declares it ("every 60 minutes"). */
  deployed: string | null;
  /** How the last run reached the function. */
  via: string;
  last: { at: number; ok: boolean; text: string } | null;
}

export interface PageInfo {
  firestore: "real" | "standin";
  webhook: string;
  functions: string;
  firestoreHost: string;
  collection: string;
  spreadsheetId: string;
}

export interface Stats {
  total: number;
  reads: number;
  writes: number;
  rejected: number;
  byMethod: Record<string, number>;
  errorsByStatus: Record<string, number>;
}
