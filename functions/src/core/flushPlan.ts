/**
 * What one flush does to a row of the sheet, decided without touching it:
 * from the row's state, the document and the sheet row as just read (typed
 * values, which cells hold formulas, its `_rev`). A column goes to the sheet
 * only where the sheet still holds the base; a formula cell is never
 * overwritten (its value goes back to the document); a column the sheet
 * changed too waits for the sheet's webhook, which knows when that edit was
 * made. The planned write is recorded as in flight before the Sheets call, so
 * a webhook read before it landed cannot undo it.
 */
import {
  MODIFIED_HEADER,
  ID_HEADER,
  MAX_CELL_TEXT,
  REV_HEADER,
} from "../../../contract/src/limits.js";
import {
  conflict,
  fieldValue,
  sheetIsLater,
  type Conflict,
  type ConflictSide,
} from "./conflicts.js";
import type { DocWrite } from "./merge.js";
import {
  emptyRowState,
  IN_FLIGHT_EXPIRY_MS,
  looksLikeAnotherItem,
  matchesBaseRow,
  nextRev,
  observeDoc,
  setBase,
  settleInFlight,
  type DocSnapshot,
  type RowState,
} from "./rowState.js";
import { baseKey, normalize, sameValue, toBase, type CellValue, type RowValues } from "./values.js";

export class SheetLayoutError extends Error {}

/** Row 1 of the synced tab, read into what the flush needs. */
export interface SheetLayout {
  header: string[];
  /** 0-based positions of the bookkeeping columns. */
  idColumn: number;
  modifiedColumn: number;
  revColumn: number;
  /** The synced columns in sheet order, with their 0-based positions. */
  columns: string[];
  position: ReadonlyMap<string, number>;
}

export function readLayout(
  header: readonly string[],
  isSynced: (name: string) => boolean = () => true,
): SheetLayout {
  const texts = header.map((h) => String(h ?? "").trim());
  const find = (name: string) => {
    const i = texts.indexOf(name);
    if (i < 0) {
      throw new SheetLayoutError(
        `row 1 has no "${name}" column: run Sheet Sync → Set up in the sheet`,
      );
    }
    return i;
  };
  const idColumn = find(ID_HEADER);
  const modifiedColumn = find(MODIFIED_HEADER);
  const revColumn = find(REV_HEADER);
  const position = new Map<string, number>();
  const columns: string[] = [];
  texts.forEach((name, i) => {
    if (name === "" || i === idColumn || i === modifiedColumn || i === revColumn) return;
    if (name === ID_HEADER || name === MODIFIED_HEADER || name === REV_HEADER) return;
    if (position.has(name) || !isSynced(name)) return;
    position.set(name, i);
    columns.push(name);
  });
  return { header: texts, idColumn, modifiedColumn, revColumn, columns, position };
}

/** A cell as the flush reads it: its value (a formula's result) and whether it is a formula. */
export interface SheetCell {
  value: CellValue;
  formula: boolean;
}

/** A located sheet row, read just now. */
export interface SheetRowCells {
  /** 1-based row number. */
  rowNumber: number;
  rev: number;
  /** The `_modified` cell (ms), 0 when empty. */
  modifiedAt: number;
  /** By column name. */
  cells: Record<string, SheetCell>;
}

export type FlushAction =
  | { kind: "none" }
  | { kind: "write"; rowNumber: number; cells: RowValues; rev: number }
  | { kind: "append"; values: RowValues; rev: number }
  | { kind: "delete"; rowNumber: number };

export interface FlushRowPlan {
  rowId: string;
  action: FlushAction;
  /** The state to commit with the plan (the write recorded as in flight). */
  state: RowState;
  /** Document fields given back from the sheet (formula cells, values no cell can hold). */
  doc: DocWrite | null;
  conflicts: Conflict[];
}

const tooLongForCell = (v: CellValue) => typeof v === "string" && v.length > MAX_CELL_TEXT;

export function planFlushRow(input: {
  rowId: string;
  state: RowState | null;
  doc: DocSnapshot | null;
  layout: SheetLayout;
  /** The row in the sheet, or null when its id is not there. */
  sheetRow: SheetRowCells | null;
  now: number;
}): FlushRowPlan {
  const { rowId, doc, layout, sheetRow, now } = input;
  const columns = layout.columns;
  let s = observeDoc(input.state ?? emptyRowState(), doc, columns);
  const conflicts: Conflict[] = [];
  const docSet: RowValues = {};
  const unreadEdits = new Map<string, number>();
  // Cells edited again since a webhook read them under the write: their own webhook decides.
  const editedSinceRead = new Set<string>();
  if (sheetRow) {
    s = settleInFlight(s, sheetRow.rev);
    // Flushes run one at a time: an earlier flush's write the sheet does not show never landed.
    // Its revision stays taken, in case it lands after all. Webhooks read its cells as not yet
    // written: a person's edit there that a webhook brought is decided now, by time, as that
    // webhook would have; one no webhook brought yet waits for it (or the reconcile).
    if (s.inFlight) {
      const { cells, unread = {} } = s.inFlight;
      s = {
        ...s,
        rev: Math.max(s.rev, s.inFlight.rev),
        inFlight: null,
        base: { ...s.base },
        baseRev: { ...s.baseRev },
        docEdits: { ...s.docEdits },
      };
      // A cell that holds something else now was edited again: that edit's webhook decides.
      for (const [c, read] of Object.entries(unread)) {
        if (baseKey(read.value) === baseKey(toBase(sheetRow.cells[c]?.value ?? null)))
          unreadEdits.set(c, read.at);
        else editedSinceRead.add(c);
      }
      const waiting = Object.keys(cells).some(
        (c) =>
          editedSinceRead.has(c) ||
          (!unreadEdits.has(c) &&
            !s.docEdits[c] &&
            !matchesBaseRow(s, [c], () => sheetRow.cells[c]?.value ?? null)),
      );
      if (waiting) s = { ...s, parked: true };
    }
  } else if (s.inFlight && now - s.inFlight.since > IN_FLIGHT_EXPIRY_MS) {
    s = { ...s, inFlight: null };
  }
  const plan = (action: FlushAction): FlushRowPlan => ({
    rowId,
    action,
    state: s,
    doc: Object.keys(docSet).length ? { kind: "set", values: docSet } : null,
    conflicts,
  });
  const cellOf = (c: string): SheetCell => sheetRow?.cells[c] ?? { value: null, formula: false };

  if (!doc) {
    if (s.deleted?.by !== "firestore") return plan({ kind: "none" }); // the trigger or the sheet decides
    if (!sheetRow) {
      s = { ...s, inSheet: false, base: {}, baseRev: {} };
      return plan({ kind: "none" });
    }
    // A row with sheet edits the sync has not seen waits for them: they may be newer than the delete.
    if (
      !matchesBaseRow(s, columns, (c) => cellOf(c).value) ||
      unsentEditAfter(s, sheetRow, s.deleted.at)
    ) {
      s = { ...s, parked: true };
      return plan({ kind: "none" });
    }
    return plan({ kind: "delete", rowNumber: sheetRow.rowNumber });
  }

  if (!sheetRow) {
    if (s.inSheet) {
      // Deleted in the sheet: that delete is on its way (or the reconcile finds it) and decides.
      s = { ...s, parked: true };
      return plan({ kind: "none" });
    }
    const values: RowValues = {};
    for (const c of columns) {
      const v = normalize(doc.values[c]);
      if (tooLongForCell(v)) {
        giveBack(c, null, v, s.docEdits[c]?.at ?? doc.updateTime, 0);
        values[c] = null;
      } else values[c] = v;
    }
    const rev = nextRev(s);
    s = { ...s, inFlight: { rev, cells: baseCells(values), since: now } };
    return plan({ kind: "append", values, rev });
  }

  s = {
    ...s,
    inSheet: true,
    base: { ...s.base },
    baseRev: { ...s.baseRev },
    docEdits: { ...s.docEdits },
  };
  // Writing into a row that holds another item's content would put this item's values on that one.
  if (looksLikeAnotherItem(s, columns, cellOf)) {
    s.parked = true;
    return plan({ kind: "none" });
  }
  // Cells a webhook read under the write that never landed: decided by time, as it would have.
  for (const [c, at] of unreadEdits) {
    const sv = cellOf(c).value;
    const edit = s.docEdits[c];
    const dv = normalize(doc.values[c]);
    const sheetWins = !edit || sheetIsLater(at, sv, edit.at, dv);
    // Either way the base takes the sheet's value: the app's, if later, then reads as the change
    // to write below, over the person's.
    setBase(s, c, toBase(sv), sheetRow.rev);
    if (sheetWins) {
      docSet[c] = sv;
      delete s.docEdits[c];
    }
    if (edit && !sameValue(sv, dv)) {
      const sheetSide: ConflictSide = {
        side: "sheet",
        op: "update",
        at,
        values: fieldValue(c, sv),
      };
      const docSide: ConflictSide = {
        side: "firestore",
        op: "update",
        at: edit.at,
        values: fieldValue(c, dv),
      };
      conflicts.push(
        sheetWins
          ? conflict(rowId, c, "last-write-wins", sheetSide, docSide)
          : conflict(rowId, c, "last-write-wins", docSide, sheetSide),
      );
    }
  }
  const write: RowValues = {};
  for (const c of columns) {
    const edit = s.docEdits[c];
    if (!edit) continue;
    const cell = cellOf(c);
    const dv = normalize(doc.values[c]);
    if (sameValue(cell.value, dv)) {
      setBase(s, c, toBase(dv), sheetRow.rev);
      delete s.docEdits[c];
      continue;
    }
    if (cell.formula || tooLongForCell(dv)) {
      giveBack(c, cell.value, dv, edit.at, sheetRow.modifiedAt);
      continue;
    }
    if (
      editedSinceRead.has(c) ||
      !matchesBaseRow(s, [c], () => cell.value) ||
      unsentEditAfter(s, sheetRow, edit.at)
    ) {
      s.parked = true; // the sheet changed it too: its webhook carries when, and decides
      continue;
    }
    write[c] = dv;
  }
  if (Object.keys(write).length === 0) return plan({ kind: "none" });
  const rev = nextRev(s, sheetRow.rev);
  s.inFlight = { rev, cells: baseCells(write), since: now };
  return plan({ kind: "write", rowNumber: sheetRow.rowNumber, cells: write, rev });

  /** The sheet keeps its value and the document takes it back; the app's value is on record. */
  function giveBack(
    c: string,
    sheetValue: CellValue,
    docValue: CellValue,
    docAt: number,
    sheetAt: number,
  ) {
    docSet[c] = sheetValue;
    setBase(s, c, toBase(sheetValue), sheetRow?.rev ?? 0);
    delete s.docEdits[c];
    conflicts.push(
      conflict(
        rowId,
        c,
        tooLongForCell(docValue) ? "too-long-for-a-cell" : "formula-owns-column",
        { side: "sheet", op: "update", at: sheetAt || null, values: fieldValue(c, sheetValue) },
        { side: "firestore", op: "update", at: docAt, values: fieldValue(c, docValue) },
      ),
    );
  }
}

/**
 * The row carries a stamp no webhook has brought yet, later than the app's change: a person edited
 * it since, perhaps typing the base value back (A→B→A), which no cell comparison can see.
 */
function unsentEditAfter(s: RowState, sheetRow: SheetRowCells, at: number): boolean {
  return sheetRow.modifiedAt > s.sheetAt && sheetRow.modifiedAt > at;
}

function baseCells(values: RowValues) {
  return Object.fromEntries(Object.entries(values).map(([c, v]) => [c, toBase(v)]));
}

/** The state after the planned action reached the sheet. */
export function afterFlushAction(state: RowState, action: FlushAction): RowState {
  switch (action.kind) {
    case "none":
      return state;
    case "write":
      return settleInFlight(state, action.rev);
    case "append":
      return { ...settleInFlight(state, action.rev), inSheet: true };
    case "delete":
      return { ...state, inSheet: false, base: {}, baseRev: {}, inFlight: null };
  }
}

// ---- Sheets requests ---------------------------------------------------------------------------

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

/** Blocks of rows to read (whole header width). Nearby rows share a block. */
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

/** Runs of adjacent 0-based columns: one A1 range each. */
export function columnRuns(columns: readonly number[]): Array<[number, number]> {
  const sorted = [...new Set(columns)].sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const c of sorted) {
    const last = runs[runs.length - 1];
    if (last && c === last[1] + 1) last[1] = c;
    else runs.push([c, c]);
  }
  return runs;
}
