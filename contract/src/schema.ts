/**
 * Validation of a webhook body at the functions' edge. The envelope (which
 * sheet, its header) must be right or the whole request is refused; each row
 * is then checked on its own, so one bad row (a date in year 57373, a text
 * longer than a cell, an id Firestore refuses) is rejected alone with its
 * reason and never holds up the rest.
 */
import { z } from "zod";
import { fromWire, wireCellProblem, type RowValues, type WireCell } from "./cells.js";
import {
  BOOKKEEPING_HEADERS,
  columnNameProblem,
  ID_HEADER,
  MAX_DESCRIBE_IDS,
  MAX_FUTURE_SKEW_MS,
  MAX_ROWS_PER_BATCH,
  rowIdProblem,
} from "./limits.js";
import type { DescribeRequest, RowResult } from "./wire.js";

export type SheetRowChange =
  | {
      op: "upsert";
      id: string;
      modifiedAt: number;
      rev: number;
      values: RowValues;
      fields: string[] | null;
      /** Per column of `fields`, when it was changed, where earlier than `modifiedAt`. */
      fieldsAt: Record<string, number>;
    }
  | { op: "delete"; id: string; modifiedAt: number; displaced: boolean };

export interface SheetBatch {
  spreadsheetId: string;
  sheetName: string;
  /** The synced columns: the header without bookkeeping columns, blanks and unusable names. */
  columns: string[];
  /** When the sender read the values (its clock). */
  readAt: number;
  /** The sender takes the `moved` outcome (see Envelope). */
  moves: boolean;
  /** The sender follows chains of moves (see Envelope). */
  chains: boolean;
  /** Rows that passed their checks, in request order. */
  changes: SheetRowChange[];
  /** Rows refused on their own, with the reason. */
  rejected: RowResult[];
  warnings: string[];
}

export type ParseResult = { ok: true; batch: SheetBatch } | { ok: false; issues: string[] };

const envelopeSchema = z.strictObject({
  spreadsheetId: z.string().min(1).max(200),
  sheetName: z.string().min(1).max(200),
  header: z.array(z.string().max(50_000)).min(1).max(1000),
  readAt: z.number().int().positive().optional(),
  moves: z.boolean().optional(),
  chains: z.boolean().optional(),
  changes: z.array(z.unknown()).default([]),
  deletes: z.array(z.unknown()).default([]),
});

const timeSchema = z
  .number({ message: "must be an integer number of ms since epoch" })
  .int({ message: "must be an integer number of ms since epoch" })
  .positive({ message: "must be an integer number of ms since epoch" });

const changeSchema = z.strictObject({
  id: z.string(),
  modifiedAt: timeSchema,
  rev: z.number().int().nonnegative().optional(),
  values: z.record(z.string(), z.unknown()),
  fields: z.array(z.string()).optional(),
  fieldsAt: z.record(z.string(), timeSchema).optional(),
});

const deleteSchema = z.strictObject({
  id: z.string(),
  modifiedAt: timeSchema,
  displaced: z.boolean().optional(),
});

function path(p: ReadonlyArray<PropertyKey>): string {
  return p.length ? p.map(String).join(".") : "(row)";
}

/** `timestamp` is the request's signed timestamp (the default `readAt`). */
export function parseWebhookBody(
  body: unknown,
  opts: { now: number; timestamp: number },
): ParseResult {
  const parsed = envelopeSchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((i) => `${path(i.path)}: ${i.message}`) };
  }
  const b = parsed.data;
  const issues: string[] = [];
  const warnings: string[] = [];
  const headerNames = new Set<string>();
  const columns: string[] = [];
  b.header.forEach((raw, i) => {
    const name = raw.trim();
    if (name === "") return;
    if (headerNames.has(name)) issues.push(`header.${i}: column "${name}" appears twice`);
    headerNames.add(name);
    if (BOOKKEEPING_HEADERS.includes(name)) return;
    const problem = columnNameProblem(name);
    if (problem) {
      warnings.push(`header.${i}: "${name.slice(0, 60)}" is not synced: ${problem}`);
      return;
    }
    columns.push(name);
  });
  if (!headerNames.has(ID_HEADER)) issues.push(`header: the "${ID_HEADER}" column is missing`);
  const rows = b.changes.length + b.deletes.length;
  // No rows: a read report (the script read the sheet at `readAt` and has nothing unsent).
  if (rows > MAX_ROWS_PER_BATCH) {
    issues.push(`(body): more than ${MAX_ROWS_PER_BATCH} rows in one request; split the batch`);
  }
  if (issues.length) return { ok: false, issues };

  const synced = new Set(columns);
  const latest = opts.now + MAX_FUTURE_SKEW_MS;
  const seen = new Map<string, string>();
  const changes: SheetRowChange[] = [];
  const rejected: RowResult[] = [];

  const check = (where: string, raw: unknown): { id: string; problems: string[] } => {
    const id = typeof (raw as { id?: unknown })?.id === "string" ? (raw as { id: string }).id : "?";
    const problems: string[] = [];
    const idProblem = id === "?" ? "must be a string" : rowIdProblem(id);
    if (idProblem) problems.push(`${where}.id: ${idProblem}`);
    const first = seen.get(id);
    if (first && !idProblem) problems.push(`${where}.id: row "${id}" already appears at ${first}`);
    else if (!idProblem) seen.set(id, where);
    const at = (raw as { modifiedAt?: unknown })?.modifiedAt;
    if (typeof at === "number" && at > latest) {
      problems.push(`${where}.modifiedAt: ${at} is more than 10 minutes in the future`);
    }
    return { id, problems };
  };

  b.changes.forEach((raw, i) => {
    const where = `changes.${i}`;
    const { id, problems } = check(where, raw);
    const row = changeSchema.safeParse(raw);
    if (!row.success) {
      for (const issue of row.error.issues)
        problems.push(`${where}.${path(issue.path)}: ${issue.message}`);
    } else {
      for (const [key, cell] of Object.entries(row.data.values)) {
        if (!headerNames.has(key)) {
          problems.push(`${where}.values: "${key}" is not a column of the header`);
          continue;
        }
        const problem = wireCellProblem(cell);
        if (problem) problems.push(`${where}.values.${key}: ${problem}`);
      }
      for (const f of row.data.fields ?? []) {
        if (!headerNames.has(f))
          problems.push(`${where}.fields: "${f}" is not a column of the header`);
      }
      for (const [f, at] of Object.entries(row.data.fieldsAt ?? {})) {
        if (!row.data.fields?.includes(f))
          problems.push(`${where}.fieldsAt: "${f}" is not one of fields`);
        else if (at > row.data.modifiedAt)
          problems.push(`${where}.fieldsAt.${f}: ${at} is later than modifiedAt`);
      }
    }
    if (problems.length || !row.success) {
      rejected.push({ id, op: "upsert", outcome: "rejected", reason: problems.join("; ") });
      return;
    }
    // A synced column the row left out is an empty cell: the row is the whole truth.
    const values: RowValues = {};
    for (const col of columns) values[col] = fromWire((row.data.values[col] ?? null) as WireCell);
    changes.push({
      op: "upsert",
      id,
      modifiedAt: row.data.modifiedAt,
      rev: row.data.rev ?? 0,
      values,
      fields: row.data.fields ? row.data.fields.filter((f) => synced.has(f)) : null,
      fieldsAt: Object.fromEntries(
        Object.entries(row.data.fieldsAt ?? {}).filter(([f]) => synced.has(f)),
      ),
    });
  });

  b.deletes.forEach((raw, i) => {
    const where = `deletes.${i}`;
    const { id, problems } = check(where, raw);
    const row = deleteSchema.safeParse(raw);
    if (!row.success) {
      for (const issue of row.error.issues)
        problems.push(`${where}.${path(issue.path)}: ${issue.message}`);
    }
    if (problems.length || !row.success) {
      rejected.push({ id, op: "delete", outcome: "rejected", reason: problems.join("; ") });
      return;
    }
    changes.push({
      op: "delete",
      id,
      modifiedAt: row.data.modifiedAt,
      displaced: row.data.displaced ?? false,
    });
  });

  return {
    ok: true,
    batch: {
      spreadsheetId: b.spreadsheetId,
      sheetName: b.sheetName,
      columns,
      readAt: b.readAt ?? opts.timestamp,
      moves: b.moves ?? false,
      chains: (b.moves ?? false) && (b.chains ?? false),
      changes,
      rejected,
      warnings,
    },
  };
}

const describeSchema = z.strictObject({
  spreadsheetId: z.string().min(1).max(200),
  sheetName: z.string().min(1).max(200),
  ids: z
    .array(z.string())
    .min(1)
    .max(MAX_DESCRIBE_IDS, { message: `at most ${MAX_DESCRIBE_IDS} ids in one request` }),
});

/** A describe request's body (see DescribeRequest), or what is wrong with it. */
export function parseDescribeBody(
  body: unknown,
): { ok: true; request: DescribeRequest } | { ok: false; issues: string[] } {
  const parsed = describeSchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((i) => `${path(i.path)}: ${i.message}`) };
  }
  const issues = parsed.data.ids.flatMap((id, i) => {
    const problem = rowIdProblem(id);
    return problem ? [`ids.${i}: ${problem}`] : [];
  });
  return issues.length ? { ok: false, issues } : { ok: true, request: parsed.data };
}
