/**
 * Cell values as the core compares and remembers them. The mapping between
 * sheet cells, the wire and Firestore is in the contract (contract/src/cells.ts);
 * here: what "the same value" means, a short key per value, and how the base
 * (the last value both sides agreed on) is stored.
 */
import { createHash } from "node:crypto";
import type { CellValue, RowValues } from "../../../contract/src/cells.js";

export type { CellValue, RowValues };

/** The sheet cannot hold an empty string apart from an empty cell. */
export function normalize(value: CellValue | undefined): CellValue {
  return value === undefined || value === "" ? null : value;
}

/** Text longer than this is kept in the base as a hash, so a row state stays small. */
const LONG_TEXT = 256;

const sha = (text: string): string => createHash("sha256").update(text).digest("base64url");

/**
 * A short, exact key per value: equal keys mean equal values. Types are kept
 * apart (the text "1" is not the number 1; a date is not its serial number).
 */
export function valueKey(value: CellValue | undefined): string {
  const v = normalize(value);
  if (v === null) return "";
  if (v instanceof Date) return `d:${v.getTime()}`;
  switch (typeof v) {
    case "number":
      return `n:${Object.is(v, -0) ? 0 : v}`;
    case "boolean":
      return v ? "b:1" : "b:0";
    default:
      return v.length > LONG_TEXT ? `h:${sha(v)}` : `s:${v}`;
  }
}

export function sameValue(a: CellValue | undefined, b: CellValue | undefined): boolean {
  return valueKey(a) === valueKey(b);
}

/** What the base remembers of a value: the value itself, or the hash of long text. */
export type BaseValue = CellValue | { $h: string };

export function toBase(value: CellValue | undefined): BaseValue {
  const v = normalize(value);
  return typeof v === "string" && v.length > LONG_TEXT ? { $h: sha(v) } : v;
}

export function baseKey(base: BaseValue | undefined): string {
  if (base !== null && typeof base === "object" && !(base instanceof Date)) return `h:${base.$h}`;
  return valueKey(base);
}

/** Does `value` equal the base value (absent = empty)? */
export function matchesBase(value: CellValue | undefined, base: BaseValue | undefined): boolean {
  return valueKey(value) === baseKey(base);
}

/** The value a base holds, when it holds one (long text is only a hash). */
export function baseValue(base: BaseValue | undefined): CellValue | undefined {
  if (base === undefined) return null;
  if (base !== null && typeof base === "object" && !(base instanceof Date)) return undefined;
  return base;
}

/** A row's content as one stable hash, whatever the key order. */
export function hashRow(
  values: RowValues,
  columns: readonly string[] = Object.keys(values),
): string {
  return sha(JSON.stringify([...columns].sort().map((c) => [c, valueKey(values[c])])));
}

/**
 * A returning row's values over what was kept of its document (see `syncKept`): a kept field
 * that has become a column since, its cell still empty, keeps its value (a new column's empty
 * cell is no value yet).
 */
export function overKept<T>(
  kept: Record<string, T>,
  values: Record<string, T | null>,
): Record<string, T | null> {
  const out: Record<string, T | null> = { ...kept };
  for (const [field, value] of Object.entries(values)) {
    if (value === null && field in kept) continue;
    out[field] = value;
  }
  return out;
}
