// Row operations a person performs in the sheet's UI (sort, delete and its undo, copy-paste of
// whole rows), applied to the model. SheetsEmulator wraps them as user* methods.

import type { GridBox } from "./a1.js";
import { CellError, type Scalar } from "./formula.js";
import type { Sheet, Spreadsheet } from "./model.js";
import { deletedRowsMap, insertedRowsMap, remapFormulas, shiftFormula } from "./rows.js";
import type { Cell } from "./values.js";

/** A row's raw cells (value or formula text, and number format); null for an empty cell. */
export type RawRow = (Cell | null)[];

function copyCell(cell: Cell, rowDelta = 0): Cell {
  const out: Cell = { ...cell };
  if (cell.format) out.format = { ...cell.format };
  if (cell.formula !== undefined && rowDelta !== 0) {
    out.formula = shiftFormula(cell.formula, rowDelta);
  }
  return out;
}

/** 0-based index of the last row with a non-empty effective value; -1 when there is none. */
export function lastContentRow(ss: Spreadsheet, sheet: Sheet): number {
  for (let r = sheet.rows.length - 1; r >= 0; r--) {
    const row = sheet.rows[r];
    if (row?.some((_, c) => ss.effective(sheet, r, c) !== null)) return r;
  }
  return -1;
}

type Key = Exclude<Scalar, CellError> | null;

const rank = (v: Key) =>
  typeof v === "number" ? 0 : typeof v === "string" ? 1 : typeof v === "boolean" ? 2 : 3;

/**
 * Data → Sort range: numbers and dates, then text (case-insensitive), then booleans; empty
 * cells (and errors) last whatever the direction. Array.prototype.sort is stable.
 */
function compareKeys(x: Key, y: Key, ascending: boolean): number {
  if (rank(x) !== rank(y)) {
    if (x === null || y === null) return x === null ? 1 : -1;
    return ascending ? rank(x) - rank(y) : rank(y) - rank(x);
  }
  const vx = typeof x === "string" ? x.toLowerCase() : x;
  const vy = typeof y === "string" ? y.toLowerCase() : y;
  const order = vx! < vy! ? -1 : vx! > vy! ? 1 : 0;
  return ascending ? order : -order;
}

/**
 * Sorts the cells of `box` by the values in absolute column `column`, moving only the cells
 * inside the box between its rows; cells outside it stay where they are. A moved formula
 * shifts like a copied one; references from other cells keep pointing at the same cells.
 */
export function sortBox(
  ss: Spreadsheet,
  sheet: Sheet,
  box: GridBox,
  column: number,
  ascending: boolean,
): void {
  // Rows past the stored ones are empty: they sort last and, the sort being stable, stay put.
  const end = Math.min(box.endRow, sheet.rows.length);
  const keyed: { r: number; key: Key }[] = [];
  for (let r = box.startRow; r < end; r++) {
    const v = ss.effective(sheet, r, column)?.value;
    const key = v === undefined || v instanceof CellError || v === "" ? null : v;
    keyed.push({ r, key });
  }
  keyed.sort((a, b) => compareKeys(a.key, b.key, ascending));
  let width = 0;
  for (let r = box.startRow; r < end; r++) width = Math.max(width, sheet.rows[r]?.length ?? 0);
  const endCol = Math.min(box.endCol, width);
  // Take every cell out first, then put them back in their new rows.
  const taken = keyed.map(({ r }) => {
    const cells: (Cell | undefined)[] = [];
    for (let c = box.startCol; c < endCol; c++) cells.push(sheet.get(r, c));
    return cells;
  });
  taken.forEach((cells, i) => {
    const to = box.startRow + i;
    const delta = to - keyed[i]!.r;
    cells.forEach((cell, k) => {
      sheet.set(to, box.startCol + k, cell && delta !== 0 ? copyCell(cell, delta) : cell);
    });
  });
}

/** Deletes rows [start, start + count) and returns their raw cells for restoreRows. */
export function deleteRows(ss: Spreadsheet, sheet: Sheet, start: number, count: number): RawRow[] {
  const removed = Array.from({ length: count }, (_, i) =>
    Array.from(sheet.rows[start + i] ?? [], (cell) => (cell ? copyCell(cell) : null)),
  );
  sheet.deleteRows(start, start + count);
  remapFormulas(ss, sheet, deletedRowsMap(start, start + count));
  return removed;
}

/**
 * Inserts `rows` (from deleteRows) before row `at`, as undoing the delete would. The restored
 * cells come back verbatim, formulas with the text they had; formulas elsewhere that point at
 * or below `at` move down as for any insert. Not modelled: Google's undo also gives back the
 * references the delete turned into #REF! (or shrank, as SUM(A2:A9) → SUM(A2:A7)); here
 * those stay as the delete left them.
 */
export function restoreRows(ss: Spreadsheet, sheet: Sheet, at: number, rows: RawRow[]): void {
  sheet.insertRows(at, rows.length);
  remapFormulas(ss, sheet, insertedRowsMap(at, rows.length));
  rows.forEach((row, i) =>
    row.forEach((cell, c) => {
      if (cell) sheet.set(at + i, c, copyCell(cell));
    }),
  );
}

/**
 * Copies whole rows [from, from + count) over rows [to, to + count), every column: values,
 * formulas (relative row references shifted by to - from, as Sheets' paste does) and formats.
 * Cells empty in the source empty the destination. Overlapping ranges read the source first.
 */
export function pasteRows(sheet: Sheet, from: number, count: number, to: number): void {
  const delta = to - from;
  const copied = Array.from({ length: count }, (_, i) =>
    Array.from(sheet.rows[from + i] ?? [], (cell) => (cell ? copyCell(cell, delta) : undefined)),
  );
  while (sheet.rows.length < to) sheet.rows.push([]);
  copied.forEach((row, i) => {
    sheet.rows[to + i] = row;
  });
}

/** Checks that `rows` looks like deleteRows' result (it may have been through JSON). */
export function isRawRows(rows: unknown): rows is RawRow[] {
  return (
    Array.isArray(rows) &&
    rows.every(
      (row) =>
        Array.isArray(row) &&
        row.every(
          (cell: unknown) =>
            cell === null ||
            cell === undefined ||
            (typeof cell === "object" && !Array.isArray(cell)),
        ),
    )
  );
}
