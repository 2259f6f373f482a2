/**
 * One mapping per kind of cell, both ways:
 *
 * | sheet cell       | webhook JSON                      | Firestore            |
 * | ---------------- | --------------------------------- | -------------------- |
 * | text             | string                            | string               |
 * | number           | number (finite)                   | integer or double    |
 * | TRUE / FALSE     | boolean                           | boolean              |
 * | empty            | null                              | null                 |
 * | date / date-time | {"$date": "2026-11-21T10:00:00Z"} | timestamp            |
 *
 * The core works with plain JS values (Date for timestamps); the Admin SDK
 * stores a Date as a Firestore Timestamp, and the adapter turns Timestamps
 * read back into Dates.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

export type CellValue = string | number | boolean | null | Date;
export type WireCell = string | number | boolean | null | { $date: string };

/** Longest text a Google Sheets cell can hold. */
export const MAX_CELL_TEXT = 50_000;

const isoDate = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d{2}-\d{2}T/.test(s), {
    message: "must be an ISO 8601 date-time such as 2026-11-21T10:00:00.000Z",
  });

export const wireCellSchema = z.union([
  z.string().max(MAX_CELL_TEXT),
  z.number().refine(Number.isFinite, { message: "must be a finite number" }),
  z.boolean(),
  z.null(),
  z.strictObject({ $date: isoDate }),
]);

export function fromWire(cell: WireCell): CellValue {
  if (cell !== null && typeof cell === "object") return new Date(cell.$date);
  return cell;
}

export function toWire(value: CellValue): WireCell {
  if (value instanceof Date) return { $date: value.toISOString() };
  return value;
}

export type RowValues = Record<string, CellValue>;

/**
 * Stable hash of a row's content: the same values give the same hash
 * whatever the key order or the side they were read from. Used to tell an
 * exact redelivery from a different change made in the same millisecond,
 * and (later) an echo of a sheet edit from a real document edit.
 */
export function hashRow(values: RowValues): string {
  const keys = Object.keys(values).sort();
  const canonical = JSON.stringify(keys.map((k) => [k, toWire(values[k] ?? null)]));
  return createHash("sha256").update(canonical).digest("hex").slice(0, 32);
}
