/**
 * One mapping per kind of cell, both ways:
 *
 * | sheet cell       | webhook JSON                         | Firestore  | core value |
 * | ---------------- | ------------------------------------ | ---------- | ---------- |
 * | text             | string                               | string     | string     |
 * | number           | number (finite)                      | number     | number     |
 * | TRUE / FALSE     | boolean                              | boolean    | boolean    |
 * | empty            | null                                 | null       | null       |
 * | date / date-time | {"$date": "2026-11-21T10:00:00.000Z"} | timestamp  | Date       |
 */
import { MAX_CELL_TEXT, MAX_DATE_MS, MIN_DATE_MS } from "./limits.js";

export type WireCell = string | number | boolean | null | { $date: string };
/** A cell as the sync's cores see it. */
export type CellValue = string | number | boolean | null | Date;
export type RowValues = Record<string, CellValue>;

/** The wire form of a value `Range.getValues()` returned (Apps Script side). */
export function encodeCell(value: unknown): WireCell {
  if (value === "" || value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "boolean") return value;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : { $date: value.toISOString() };
  }
  return String(value);
}

export function toWire(value: CellValue): WireCell {
  if (value instanceof Date) return { $date: value.toISOString() };
  return value;
}

/** Why a wire cell cannot be stored, or null when it can. */
export function wireCellProblem(cell: unknown): string | null {
  if (cell === null || typeof cell === "boolean") return null;
  if (typeof cell === "string") {
    return cell.length > MAX_CELL_TEXT
      ? `text of ${cell.length} characters; a cell holds at most ${MAX_CELL_TEXT}`
      : null;
  }
  if (typeof cell === "number") return Number.isFinite(cell) ? null : "must be a finite number";
  if (typeof cell === "object" && cell !== null && !Array.isArray(cell)) {
    const keys = Object.keys(cell);
    const iso = (cell as { $date?: unknown }).$date;
    if (keys.length !== 1 || typeof iso !== "string") {
      return 'must be text, a number, a boolean, null or {"$date": "<ISO 8601>"}';
    }
    const ms = Date.parse(iso);
    if (!/^[+-]?\d{4,6}-\d{2}-\d{2}T/.test(iso) || Number.isNaN(ms)) {
      return `"${iso.slice(0, 40)}" is not an ISO 8601 date-time such as 2026-11-21T10:00:00.000Z`;
    }
    if (ms < MIN_DATE_MS || ms > MAX_DATE_MS) {
      return `date ${iso.slice(0, 40)} is outside what Firestore stores (years 1 to 9999); a number typed into a date cell is the usual cause`;
    }
    return null;
  }
  return 'must be text, a number, a boolean, null or {"$date": "<ISO 8601>"}';
}

/** A wire cell that passed `wireCellProblem`. */
export function fromWire(cell: WireCell): CellValue {
  if (cell !== null && typeof cell === "object") return new Date(cell.$date);
  return cell;
}

/**
 * JSON with every non-ASCII UTF-16 code unit escaped as \uXXXX: the same value,
 * but bytes == chars, so the HMAC cannot depend on a charset and lengths are
 * byte counts.
 */
export function toAsciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}
