/**
 * What one flush does to a sheet, decided without touching it. Two steps,
 * because the second read depends on the first:
 *  1. `planLocate`: from row 1 and the `_id`/`_modified` columns, find each
 *     pending row, apply the per-row conflict check, and sort the rest into
 *     updates, appends and deletes;
 *  2. `planCellWrites`: from the current cells of the rows to update (read
 *     with their formulas), write only the cells that differ and are not
 *     formulas, plus `_modified`.
 */
import { ID_COLUMN, MODIFIED_COLUMN } from "./batch.js";
import { cellShows, isFormula, toSheetInput, type SheetCell, type SheetInput } from "./cells.js";
import type { SyncMeta } from "./echo.js";
import type { OutboxEntry } from "./outbox.js";
import { MAX_CELL_TEXT, type RowValues } from "./values.js";

export interface PendingRow {
  entry: OutboxEntry;
  /** The document now; null if it no longer exists. */
  doc: { values: RowValues; sync: SyncMeta | null } | null;
}

export interface SheetIndex {
  /** Row 1 as text. */
  header: string[];
  /** Column `_id`, from row 2 down (index 0 = row 2). */
  ids: SheetCell[];
  /** Column `_modified`, from row 2 down. */
  modified: SheetCell[];
}

export interface RowUpdate {
  rowId: string;
  /** 1-based sheet row. */
  rowNumber: number;
  entry: OutboxEntry;
  values: RowValues;
}

export interface FlushConflict {
  rowId: string;
  reason: "sheet_newer" | "deleted_in_sheet" | "too_long_for_sheet";
  sheetModifiedAt: number | null;
  entry: OutboxEntry;
  values: RowValues | null;
}

export interface LocatePlan {
  updates: RowUpdate[];
  appends: Array<{ rowId: string; entry: OutboxEntry; values: RowValues }>;
  /** 1-based rows to delete, each with its entry. */
  deletes: Array<{ rowId: string; rowNumber: number; entry: OutboxEntry }>;
  conflicts: FlushConflict[];
  /** Entries that need no sheet write (already there, already gone, superseded by the sheet). */
  settled: OutboxEntry[];
}

export class SheetLayoutError extends Error {}

export function columnIndex(header: readonly string[], name: string): number {
  return header.findIndex((h) => h.trim() === name);
}

/** The `_modified` cell as ms; 0 when empty or not a time. */
export function modifiedMs(cell: SheetCell): number {
  const n =
    typeof cell === "number"
      ? cell
      : typeof cell === "string" && cell.trim() !== ""
        ? Number(cell)
        : NaN;
  return Number.isFinite(n) && n > 0 ? Math.trunc(n) : 0;
}

function rowIdOf(cell: SheetCell): string {
  return cell === undefined ? "" : String(cell).trim();
}

export function planLocate(index: SheetIndex, pending: readonly PendingRow[]): LocatePlan {
  if (columnIndex(index.header, ID_COLUMN) < 0) {
    throw new SheetLayoutError(
      `row 1 has no "${ID_COLUMN}" column: run Sheet Sync → Set up in the sheet`,
    );
  }
  if (columnIndex(index.header, MODIFIED_COLUMN) < 0) {
    throw new SheetLayoutError(
      `row 1 has no "${MODIFIED_COLUMN}" column: run Sheet Sync → Set up in the sheet`,
    );
  }
  // First occurrence wins: a pasted duplicate id is re-keyed by the script on its next edit or scan.
  const rowOf = new Map<string, number>();
  index.ids.forEach((cell, i) => {
    const id = rowIdOf(cell);
    if (id && !rowOf.has(id)) rowOf.set(id, i + 2);
  });

  const plan: LocatePlan = { updates: [], appends: [], deletes: [], conflicts: [], settled: [] };
  for (const { entry, doc } of pending) {
    const rowNumber = rowOf.get(entry.rowId);
    const sheetModifiedAt = rowNumber ? modifiedMs(index.modified[rowNumber - 2]) : null;
    const sheetIsNewer = sheetModifiedAt !== null && sheetModifiedAt > entry.changedAt;
    const sheetWins = (values: RowValues | null) =>
      plan.conflicts.push({
        rowId: entry.rowId,
        reason: "sheet_newer",
        sheetModifiedAt,
        entry,
        values,
      });

    if (entry.op === "delete") {
      if (doc && doc.sync && doc.sync.modifiedAt > entry.changedAt) {
        plan.settled.push(entry); // recreated since; that change has its own entry or came from the sheet
      } else if (!rowNumber) {
        plan.settled.push(entry);
      } else if (sheetIsNewer) {
        sheetWins(null);
      } else {
        plan.deletes.push({ rowId: entry.rowId, rowNumber, entry });
      }
      continue;
    }

    // An upsert: push the document as it is now.
    if (!doc || (doc.sync?.origin === "sheet" && doc.sync.modifiedAt >= entry.changedAt)) {
      plan.settled.push(entry); // deleted since, or a later sheet edit already holds the row
    } else if (
      Object.values(doc.values).some((v) => typeof v === "string" && v.length > MAX_CELL_TEXT)
    ) {
      // One such row would fail the whole batch on every try: record it and let the rest through.
      plan.conflicts.push({
        rowId: entry.rowId,
        reason: "too_long_for_sheet",
        sheetModifiedAt,
        entry,
        values: null,
      });
    } else if (!rowNumber) {
      if (doc.sync?.inSheet) {
        // It was in the sheet and is gone: the person deleted it there, and that delete is on its way.
        plan.conflicts.push({
          rowId: entry.rowId,
          reason: "deleted_in_sheet",
          sheetModifiedAt: null,
          entry,
          values: doc.values,
        });
      } else {
        plan.appends.push({ rowId: entry.rowId, entry, values: doc.values });
      }
    } else if (sheetIsNewer) {
      sheetWins(doc.values);
    } else {
      plan.updates.push({ rowId: entry.rowId, rowNumber, entry, values: doc.values });
    }
  }
  return plan;
}

/** A1 column letters for a 0-based index. */
export function columnLetter(index: number): string {
  let n = index + 1;
  let s = "";
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

export function quoteSheetName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`;
}

/**
 * Blocks of rows to read before writing (whole header width). Nearby rows
 * share a block: a few extra cells cost less than another request.
 */
export function readBlocks(rowNumbers: readonly number[], maxGap = 20): Array<[number, number]> {
  const sorted = [...new Set(rowNumbers)].sort((a, b) => a - b);
  const blocks: Array<[number, number]> = [];
  for (const r of sorted) {
    const last = blocks[blocks.length - 1];
    if (last && r - last[1] <= maxGap) last[1] = r;
    else blocks.push([r, r]);
  }
  return blocks;
}

export interface CellWrite {
  range: string;
  values: SheetInput[][];
}

export interface CellPlan {
  writes: CellWrite[];
  /** Rows whose `_id` cell no longer holds their id (rows moved since the locate read): left queued. */
  moved: string[];
  /** Cells left alone because they hold a formula: rowId → column names. */
  formulaSkips: Map<string, string[]>;
  /** Rows whose cells already showed the document: nothing written. */
  unchanged: string[];
}

/**
 * `current(rowNumber)` gives the row's cells as read (FORMULA render), from
 * column A. Only data columns the document has are written; a cell with a
 * formula is never overwritten.
 */
export function planCellWrites(
  sheetName: string,
  header: readonly string[],
  updates: readonly RowUpdate[],
  current: (rowNumber: number) => readonly SheetCell[],
  timeZone: string,
): CellPlan {
  const modCol = columnIndex(header, MODIFIED_COLUMN);
  const dataCols = header
    .map((name, i) => ({ name: name.trim(), i }))
    .filter((c) => c.name !== "" && c.name !== ID_COLUMN && c.name !== MODIFIED_COLUMN);
  const sheet = quoteSheetName(sheetName);
  const idCol = columnIndex(header, ID_COLUMN);
  const plan: CellPlan = { writes: [], moved: [], formulaSkips: new Map(), unchanged: [] };

  for (const u of updates) {
    const cells = current(u.rowNumber);
    if (rowIdOf(cells[idCol]) !== u.rowId) {
      plan.moved.push(u.rowId);
      continue;
    }
    const changed = new Map<number, SheetInput>();
    for (const { name, i } of dataCols) {
      if (!(name in u.values)) continue;
      const value = u.values[name] ?? null;
      if (isFormula(cells[i])) {
        if (!cellShows(cells[i], value, timeZone))
          plan.formulaSkips.set(u.rowId, [...(plan.formulaSkips.get(u.rowId) ?? []), name]);
        continue;
      }
      if (!cellShows(cells[i], value, timeZone)) changed.set(i, toSheetInput(value, timeZone));
    }
    if (changed.size === 0) {
      plan.unchanged.push(u.rowId);
      continue;
    }
    changed.set(modCol, u.entry.changedAt);
    // One range per run of adjacent columns.
    const cols = [...changed.keys()].sort((a, b) => a - b);
    let start = 0;
    for (let k = 1; k <= cols.length; k++) {
      if (k < cols.length && cols[k] === cols[k - 1]! + 1) continue;
      const from = cols[start]!;
      const to = cols[k - 1]!;
      plan.writes.push({
        range: `${sheet}!${columnLetter(from)}${u.rowNumber}:${columnLetter(to)}${u.rowNumber}`,
        values: [cols.slice(start, k).map((c) => changed.get(c)!)],
      });
      start = k;
    }
  }
  return plan;
}

/** New rows in header order: `_id`, `_modified` and the document's columns. */
export function appendRows(
  header: readonly string[],
  appends: LocatePlan["appends"],
  timeZone: string,
): SheetInput[][] {
  return appends.map(({ rowId, entry, values }) =>
    header.map((raw) => {
      const name = raw.trim();
      if (name === ID_COLUMN) return `'${rowId}`;
      if (name === MODIFIED_COLUMN) return entry.changedAt;
      if (name === "" || !(name in values)) return "";
      return toSheetInput(values[name] ?? null, timeZone);
    }),
  );
}

/** Row deletions as 0-based [start, end) ranges, bottom first so earlier ones do not shift later ones. */
export function deleteRanges(
  rowNumbers: readonly number[],
): Array<{ startIndex: number; endIndex: number }> {
  const sorted = [...new Set(rowNumbers)].sort((a, b) => b - a);
  const ranges: Array<{ startIndex: number; endIndex: number }> = [];
  for (const r of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && last.startIndex === r) last.startIndex = r - 1;
    else ranges.push({ startIndex: r - 1, endIndex: r });
  }
  return ranges;
}
