// Moving rows the way Sheets does: cells move with their rows, and every formula that
// refers to a moved row follows it (a reference to a deleted row becomes #REF!), so
// `=E7*F7` keeps multiplying its own row's cells after an insert, delete or sort.

import type { Sheet, Spreadsheet } from "./model.js";

/** Where each old row index went; null for a deleted row. */
export interface RowMap {
  to(row: number): number | null;
  /** New index of the nearest surviving row at or after `row` (for a range's start). */
  after(row: number): number;
  /** New index of the nearest surviving row at or before `row` (for a range's end). */
  before(row: number): number;
}

export function insertedRowsMap(at: number, count: number): RowMap {
  const to = (r: number) => (r >= at ? r + count : r);
  return { to, after: to, before: to };
}

export function deletedRowsMap(start: number, end: number): RowMap {
  const n = end - start;
  return {
    to: (r) => (r < start ? r : r >= end ? r - n : null),
    after: (r) => (r < start ? r : r >= end ? r - n : start),
    before: (r) => (r < start ? r : r >= end ? r - n : start - 1),
  };
}

// A sheet prefix (quoted or bare), then a cell or a cell range. Boundaries are checked by hand
// so function names such as LOG10( are not taken for references.
const REF =
  /((?:'(?:[^']|'')+'|[A-Za-z0-9_.]+)!)?(\$?)([A-Za-z]{1,4})(\$?)([0-9]+)(?::(\$?)([A-Za-z]{1,4})(\$?)([0-9]+))?/g;

function unquote(prefix: string): string {
  const t = prefix.slice(0, -1);
  return t.startsWith("'") ? t.slice(1, -1).replace(/''/g, "'") : t;
}

/**
 * Rewrites the row numbers of references that point into `target` (the sheet the rows
 * moved in). `own` is the sheet the formula lives in; text inside string literals is kept.
 */
export function remapFormula(
  formula: string,
  own: Sheet,
  target: Sheet,
  findSheet: (title: string) => Sheet | undefined,
  map: RowMap,
): string {
  // Split on string literals ("…" with "" escapes) and rewrite only the code between them.
  return formula
    .split(/("(?:[^"]|"")*")/)
    .map((part, i) => (i % 2 === 1 ? part : remapCode(part, own, target, findSheet, map)))
    .join("");
}

function remapCode(
  code: string,
  own: Sheet,
  target: Sheet,
  findSheet: (title: string) => Sheet | undefined,
  map: RowMap,
): string {
  return code.replace(REF, (match, prefix: string | undefined, ...rest: unknown[]) => {
    const offset = rest[rest.length - 2] as number;
    if (!isReference(code, offset, match)) return match;
    const sheet = prefix ? findSheet(unquote(prefix)) : own;
    if (sheet !== target) return match;
    const [d1, col1, r1d, row1, d2, col2, r2d, row2] = rest as string[];
    const first = Number(row1) - 1;
    const cell = (dc: string, col: string, dr: string, row: number) => `${dc}${col}${dr}${row + 1}`;
    if (row2 === undefined) {
      const moved = map.to(first);
      return moved === null ? "#REF!" : `${prefix ?? ""}${cell(d1!, col1!, r1d!, moved)}`;
    }
    const last = Number(row2) - 1;
    const [lo, hi] = first <= last ? [first, last] : [last, first];
    const start = map.after(lo);
    const end = map.before(hi);
    if (start > end) return "#REF!";
    return `${prefix ?? ""}${cell(d1!, col1!, r1d!, start)}:${cell(d2!, col2!, r2d!, end)}`;
  });
}

/**
 * A formula copied `delta` rows down (negative: up): relative row numbers move, `$`-anchored
 * ones stay. Sorting moves formulas this way; references from elsewhere keep their cells.
 */
export function shiftFormula(formula: string, delta: number): string {
  return formula
    .split(/("(?:[^"]|"")*")/)
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part.replace(REF, (match, prefix: string | undefined, ...rest: unknown[]) => {
            const offset = rest[rest.length - 2] as number;
            if (!isReference(part, offset, match)) return match;
            const [d1, c1, r1d, row1, d2, c2, r2d, row2] = rest as string[];
            const row = (dr: string, n: string) => (dr ? Number(n) : Number(n) + delta);
            const a = row(r1d!, row1!);
            const b = row2 === undefined ? 1 : row(r2d!, row2);
            if (a < 1 || b < 1) return "#REF!";
            const first = `${prefix ?? ""}${d1}${c1}${r1d}${a}`;
            return row2 === undefined ? first : `${first}:${d2}${c2}${r2d}${b}`;
          }),
    )
    .join("");
}

function isReference(code: string, offset: number, match: string): boolean {
  const before = code[offset - 1] ?? "";
  const next = code[offset + match.length] ?? "";
  return !/[A-Za-z0-9_.$]/.test(before) && !/[A-Za-z0-9_(]/.test(next);
}

/** Applies `map` to every formula in the spreadsheet that refers to `target`. */
export function remapFormulas(ss: Spreadsheet, target: Sheet, map: RowMap): void {
  const find = (title: string) => ss.findSheet(title);
  for (const sheet of ss.sheets) {
    for (const row of sheet.rows) {
      row?.forEach((cell) => {
        if (cell?.formula !== undefined) {
          cell.formula = remapFormula(cell.formula, sheet, target, find, map);
        }
      });
    }
  }
}
