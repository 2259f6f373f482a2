/**
 * A conflict: the same thing changed on both sides since they last agreed,
 * and one change was kept. Both are recorded, with the rule that decided, so
 * a person can look (and undo). The id is derived from the rejected change,
 * so deciding the same conflict again (a redelivery) records nothing new.
 */
import type { Side } from "./rowState.js";
import { hashRow, valueKey, type CellValue, type RowValues } from "./values.js";

export type ConflictRule =
  /** Both sides changed it; the later change won. */
  | "last-write-wins"
  /** The app wrote a column whose cell is a formula: the sheet computes it. */
  | "formula-owns-column"
  /** The value cannot go into a cell (text over 50,000 characters). */
  | "too-long-for-a-cell"
  /** The Sheets API refused the row's write (400); it waits, recorded, while the others go on. */
  | "refused-by-the-sheet";

export interface ConflictSide {
  side: Side;
  op: "update" | "delete";
  /** When that change was made (ms), when known. */
  at: number | null;
  /** The field's value (`field` set) or the row's values; null for a delete. */
  values: RowValues | null;
}

export interface Conflict {
  id: string;
  rowId: string;
  /** The column; null when whole rows conflicted (a delete against an edit). */
  field: string | null;
  rule: ConflictRule;
  kept: ConflictSide;
  rejected: ConflictSide;
}

export function conflict(
  rowId: string,
  field: string | null,
  rule: ConflictRule,
  kept: ConflictSide,
  rejected: ConflictSide,
): Conflict {
  const what = rejected.values ? hashRow(rejected.values).slice(0, 12) : "deleted";
  const id = `${rowId}:${field ?? "row"}:${rejected.side}:${rejected.at ?? "?"}:${what}`;
  return { id, rowId, field, rule, kept, rejected };
}

export const fieldValue = (field: string, value: CellValue | undefined): RowValues => ({
  [field]: value ?? null,
});

/**
 * Last write wins, one rule for the webhook and the flush: the later change; in the same
 * millisecond, the same value whichever side is looked at first.
 */
export function sheetIsLater(
  sheetAt: number,
  sheet: CellValue,
  docAt: number,
  doc: CellValue,
): boolean {
  return sheetAt !== docAt ? sheetAt > docAt : valueKey(sheet) > valueKey(doc);
}
