/**
 * The webhook body ("a sheet batch"), validated at the edge. Anything the
 * core receives past `parseSheetBatch` is well-formed: ids are usable as
 * Firestore document ids, every value belongs to a known column, and no row
 * appears twice.
 */
import { z } from "zod";
import { fromWire, wireCellSchema, type RowValues } from "./values.js";

export const ID_COLUMN = "_id";
export const MODIFIED_COLUMN = "_modified";
/** Bookkeeping map on every synced document; never a column name. */
export const SYNC_FIELD = "_sync";
export const MAX_ROWS_PER_BATCH = 10_000;
/** A sheet edit may not claim to be from further ahead than this (clock skew). */
export const MAX_FUTURE_SKEW_MS = 10 * 60 * 1000;

export const ROW_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

const rowId = z
  .string()
  .regex(ROW_ID_PATTERN, { message: "must be 1-128 characters of A-Z a-z 0-9 _ -" });
const modifiedAt = z
  .number()
  .int({ message: "must be an integer number of ms since epoch" })
  .positive({ message: "must be an integer number of ms since epoch" });

const columnName = z
  .string()
  .max(1500)
  .refine((s) => !/^__.*__$/.test(s), { message: "names like __x__ are reserved by Firestore" })
  .refine((s) => s !== SYNC_FIELD, { message: `"${SYNC_FIELD}" is reserved by Sheet Sync` });

const bodySchema = z.strictObject({
  spreadsheetId: z.string().min(1).max(200),
  sheetName: z.string().min(1).max(200),
  header: z.array(columnName).min(1).max(1000),
  changes: z
    .array(
      z.strictObject({
        id: rowId,
        modifiedAt,
        values: z.record(z.string(), wireCellSchema),
        fields: z.array(z.string()).optional(),
      }),
    )
    .default([]),
  deletes: z.array(z.strictObject({ id: rowId, modifiedAt })).default([]),
});

export type RowChange =
  | { op: "upsert"; id: string; modifiedAt: number; values: RowValues; fields: string[] | null }
  | { op: "delete"; id: string; modifiedAt: number };

export interface SheetBatch {
  spreadsheetId: string;
  sheetName: string;
  /** The data columns: the header without `_id`, `_modified` and empty names. */
  columns: string[];
  changes: RowChange[];
}

export type ParseResult = { ok: true; batch: SheetBatch } | { ok: false; issues: string[] };

function path(p: ReadonlyArray<PropertyKey>): string {
  return p.length ? p.map(String).join(".") : "(body)";
}

export function parseSheetBatch(body: unknown, now: number): ParseResult {
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((i) => `${path(i.path)}: ${i.message}`) };
  }
  const b = parsed.data;
  const issues: string[] = [];

  const seenColumns = new Set<string>();
  b.header.forEach((name, i) => {
    if (name === "") return;
    if (seenColumns.has(name)) issues.push(`header.${i}: column "${name}" appears twice`);
    seenColumns.add(name);
  });
  if (!seenColumns.has(ID_COLUMN)) issues.push(`header: the "${ID_COLUMN}" column is missing`);
  const columns = b.header.filter((h) => h !== "" && h !== ID_COLUMN && h !== MODIFIED_COLUMN);
  const columnSet = new Set(columns);

  if (b.changes.length + b.deletes.length === 0) {
    issues.push("(body): changes and deletes are both empty");
  }
  if (b.changes.length + b.deletes.length > MAX_ROWS_PER_BATCH) {
    issues.push(`(body): more than ${MAX_ROWS_PER_BATCH} rows in one request; split the batch`);
  }

  const seenIds = new Map<string, string>();
  const latest = now + MAX_FUTURE_SKEW_MS;
  const checkRow = (where: string, id: string, at: number) => {
    const first = seenIds.get(id);
    if (first) issues.push(`${where}.id: row "${id}" already appears at ${first}`);
    else seenIds.set(id, where);
    if (at > latest) issues.push(`${where}.modifiedAt: ${at} is in the future`);
  };

  const changes: RowChange[] = [];
  b.changes.forEach((c, i) => {
    const where = `changes.${i}`;
    checkRow(where, c.id, c.modifiedAt);
    for (const key of Object.keys(c.values)) {
      if (!columnSet.has(key))
        issues.push(`${where}.values: "${key}" is not a data column of the header`);
    }
    for (const f of c.fields ?? []) {
      if (!columnSet.has(f))
        issues.push(`${where}.fields: "${f}" is not a data column of the header`);
    }
    // A column the row did not send is an empty cell: the row is the whole truth.
    const values: RowValues = {};
    for (const col of columns) values[col] = fromWire(c.values[col] ?? null);
    changes.push({
      op: "upsert",
      id: c.id,
      modifiedAt: c.modifiedAt,
      values,
      fields: c.fields ?? null,
    });
  });
  b.deletes.forEach((d, i) => {
    checkRow(`deletes.${i}`, d.id, d.modifiedAt);
    changes.push({ op: "delete", id: d.id, modifiedAt: d.modifiedAt });
  });

  if (issues.length) return { ok: false, issues };
  return {
    ok: true,
    batch: { spreadsheetId: b.spreadsheetId, sheetName: b.sheetName, columns, changes },
  };
}
