/**
 * What must hold once the stack has settled and one reconcile ran, judged
 * from the stack's final state and the log of what the test itself did (no
 * model truth here; tools/model/src/check.ts is the model's own, stricter
 * checker):
 *  - no id twice in the sheet, no row with content but no id;
 *  - the sheet and Firestore hold the same ids and, per column, the same values;
 *  - an id whose last change by the test was a delete is gone from both sides;
 *  - the last value the test wrote to each (row, field) since the row's last
 *    delete is there, or on record in syncConflicts as a conflict's loser;
 *  - no value the test wrote to one row shows up in another (every value it
 *    writes is unique, so one that did was written to the wrong row).
 */
import { sameValue, valueKey, type CellValue } from "../../../../../functions/src/core/values.js";
import type { Truth } from "./operations.js";
import type { SheetRow, StoredConflict } from "./stackClient.js";

export interface Final {
  columns: string[];
  sheet: SheetRow[];
  docs: Map<string, Record<string, CellValue>>;
  conflicts: StoredConflict[];
}

export const show = (v: CellValue | undefined) =>
  v instanceof Date ? v.toISOString() : JSON.stringify(v ?? null);

export interface CheckResult {
  failures: string[];
  /** The rows the failures name, for the report's evidence. */
  ids: string[];
}

export function check(truth: readonly Truth[], f: Final): CheckResult {
  const failures: string[] = [];
  const ids = new Set<string>();
  const fail = (id: string, text: string) => {
    ids.add(id);
    failures.push(text);
  };
  const sheetById = new Map<string, SheetRow>();
  for (const row of f.sheet) {
    if (!row.id) {
      if (f.columns.some((c) => row.cells[c] !== null)) {
        fail("", `sheet row ${row.rowNumber} has content but no id`);
      }
      continue;
    }
    const seen = sheetById.get(row.id);
    if (seen) fail(row.id, `id ${row.id} is on sheet rows ${seen.rowNumber} and ${row.rowNumber}`);
    else sheetById.set(row.id, row);
  }

  for (const [id, row] of sheetById) {
    const doc = f.docs.get(id);
    if (!doc) {
      fail(id, `row ${id} (sheet row ${row.rowNumber}) is in the sheet, not in Firestore`);
      continue;
    }
    for (const c of f.columns) {
      if (!sameValue(row.cells[c], doc[c])) {
        fail(id, `row ${id} ${c}: sheet ${show(row.cells[c])}, Firestore ${show(doc[c])}`);
      }
    }
  }
  for (const id of f.docs.keys()) {
    if (!sheetById.has(id)) fail(id, `document ${id} is not in the sheet`);
  }

  const byId = new Map<string, Truth[]>();
  for (const t of truth) byId.set(t.id, [...(byId.get(t.id) ?? []), t]);
  const lost = (id: string, field: string, value: CellValue) =>
    f.conflicts.some(
      (c) =>
        c.rowId === id &&
        c.rejected.values !== null &&
        field in c.rejected.values &&
        sameValue(c.rejected.values[field], value),
    );

  for (const [id, events] of byId) {
    const last = events[events.length - 1]!;
    const inSheet = sheetById.has(id);
    const inFirestore = f.docs.has(id);
    if (last.kind === "delete") {
      if (inSheet || inFirestore) {
        const where = [inSheet && "the sheet", inFirestore && "Firestore"].filter(Boolean);
        fail(
          id,
          `row ${id} was deleted last (op ${last.op}, ${last.side}) but is still in ${where.join(" and ")}`,
        );
      }
      continue;
    }
    const sinceDelete = events.slice(events.map((e) => e.kind).lastIndexOf("delete") + 1);
    const lastWrites = new Map<string, Extract<Truth, { kind: "write" }>>();
    for (const e of sinceDelete) if (e.kind === "write") lastWrites.set(e.field, e);
    const doc = f.docs.get(id);
    for (const [field, w] of lastWrites) {
      if (doc && sameValue(doc[field], w.value)) continue;
      if (lost(id, field, w.value)) continue;
      fail(
        id,
        `row ${id} ${field}: the last write (op ${w.op}, ${w.side}, ${show(w.value)}) is ` +
          `${doc ? `not there (${show(doc[field])})` : "gone with its row"} nor on record as a conflict's loser`,
      );
    }
  }

  const writtenTo = new Map<string, string>();
  const slot = (field: string, value: CellValue | undefined) => `${field}\u0000${valueKey(value)}`;
  for (const t of truth) {
    if (t.kind === "write" && typeof t.value !== "boolean")
      writtenTo.set(slot(t.field, t.value), t.id);
  }
  const misplaced = new Set<string>();
  const rows: [string, Record<string, CellValue>][] = [
    ...f.docs,
    ...[...sheetById].map(([id, r]): [string, Record<string, CellValue>] => [id, r.cells]),
  ];
  for (const [id, values] of rows) {
    for (const c of f.columns) {
      const owner = writtenTo.get(slot(c, values[c]));
      const text = `row ${id} ${c} holds ${show(values[c])}, which the test wrote to row ${owner}`;
      if (owner === undefined || owner === id || misplaced.has(text)) continue;
      misplaced.add(text);
      ids.add(owner);
      fail(id, text);
    }
  }
  ids.delete("");
  return { failures, ids: [...ids] };
}
