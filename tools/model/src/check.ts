/**
 * What must hold once the system has settled (and one reconcile ran):
 *  - the sheet and Firestore hold the same rows (by id) and values;
 *  - no id appears twice in the sheet, no item (model key) twice anywhere;
 *  - no identity swap: an id keeps the item it was first seen with;
 *  - every last write (by real time) to an item's field is there, or on
 *    record as the loser of a conflict; an item whose last change is a delete
 *    is gone, and one whose last change is a write is there, unless a
 *    conflict record says otherwise.
 */
import { columnNameProblem } from "../../../contract/src/limits.js";
import { sameValue, type CellValue } from "../../../functions/src/core/values.js";
import { EDITABLE, type Truth, type World } from "./world.js";

export interface CheckResult {
  failures: string[];
  /** Items that came back under a new id (a sort and an edit of the same row in one script run). */
  rekeyed: string[];
  rows: number;
  conflicts: number;
}

const show = (v: CellValue | undefined) =>
  v instanceof Date ? v.toISOString() : JSON.stringify(v ?? null);

export function check(world: World): CheckResult {
  const failures: string[] = [];
  const rekeyed: string[] = [];
  const { header, rows } = world.sheetTable();
  // The synced columns (a hidden key is the model's, and no part of the sync reads it).
  const columns = header.filter(
    (h) => h && h !== "_id" && h !== "_modified" && h !== "_rev" && columnNameProblem(h) === null,
  );
  const keyOf = (row: Record<string, CellValue>) => row[world.keyColumn];
  // The item a document holds: what its row in the sheet shows (they are equal, or that fails).
  const itemOf = (id: string): string | undefined => {
    if (!world.hiddenKey) {
      const key = world.db.docs.get(id)?.fields.key;
      return typeof key === "string" ? key : undefined;
    }
    return world.keyInSheet(id) ?? world.identity.get(id);
  };

  // Sheet rows by id.
  const sheetById = new Map<string, Record<string, CellValue>>();
  rows.forEach((row, i) => {
    const hasContent = columns.some((c) => row[c] !== null && row[c] !== undefined);
    const id = typeof row._id === "string" ? row._id : "";
    if (!id) {
      if (hasContent) failures.push(`sheet row ${i + 2} has content but no id`);
      return;
    }
    if (sheetById.has(id)) failures.push(`id ${id} is on two sheet rows`);
    else sheetById.set(id, row);
  });

  // Both sides hold the same rows and values.
  for (const [id, row] of sheetById) {
    const doc = world.db.docs.get(id);
    if (!doc) {
      failures.push(`row ${id} (${show(keyOf(row))}) is in the sheet, not in Firestore`);
      continue;
    }
    for (const c of columns) {
      if (!sameValue(row[c], doc.fields[c])) {
        failures.push(
          `row ${id} column ${c}: sheet ${show(row[c])}, Firestore ${show(doc.fields[c])}`,
        );
      }
    }
  }
  for (const id of world.db.docs.keys()) {
    if (!sheetById.has(id)) {
      failures.push(`document ${id} (${show(itemOf(id))}) is not in the sheet`);
    }
  }

  // Identity: an id keeps its item; an item is in one row.
  const idOfKey = new Map<string, string>();
  for (const id of world.db.docs.keys()) {
    const key = itemOf(id);
    if (typeof key !== "string") continue;
    const first = world.identity.get(id);
    if (first !== undefined && first !== key) {
      failures.push(`identity swap: id ${id} was item ${first} and now holds item ${key}`);
    }
    if (idOfKey.has(key))
      failures.push(`item ${key} is in two rows: ${idOfKey.get(key)} and ${id}`);
    idOfKey.set(key, id);
  }
  // An item that lives on under another id than before (its first id is gone).
  for (const [id, key] of world.identity) {
    const now = idOfKey.get(key);
    if (now && now !== id && !world.db.docs.has(id)) rekeyed.push(`${key}: ${id} → ${now}`);
  }

  // Durability, by item.
  const conflicts = [...world.db.conflicts.values()];
  const keyOfRow = (rowId: string) => world.identity.get(rowId) ?? itemOf(rowId);
  const rejectedField = (key: string, field: string, value: CellValue) =>
    conflicts.some(
      (c) =>
        keyOfRow(c.rowId) === key &&
        c.rejected.values !== null &&
        field in c.rejected.values &&
        sameValue(c.rejected.values[field], value),
    );
  const rejectedRow = (key: string, op: "update" | "delete") =>
    conflicts.some((c) => keyOfRow(c.rowId) === key && c.field === null && c.rejected.op === op);

  const byKey = new Map<string, Truth[]>();
  for (const e of withoutUndoneWrites(world.truth, world.sheetSeen, world.firestoreSeen)) {
    const list = byKey.get(e.key) ?? [];
    list.push(e);
    byKey.set(e.key, list);
  }
  // The script stamps a sheet change when it next reads the sheet (its trigger may wait behind
  // the lock, or only the minute's run may see it), by its own clock, off by `scriptSkewMs`. Two
  // changes on different sides whose times overlap so may be ordered either way, and either
  // outcome is right (README, Known limits).
  const window = Math.abs(world.scriptSkewMs);
  const seenBy = (e: Truth) => {
    if (e.side !== "sheet") return e.t;
    const i = world.truth.indexOf(e);
    return world.scriptReads.find((r) => r.after > i)?.t ?? Infinity;
  };
  const near = (a: Truth, b: Truth) =>
    a.side !== b.side && a.t <= seenBy(b) + window && b.t <= seenBy(a) + window;
  for (const [key, events] of byKey) {
    const id = idOfKey.get(key);
    const exists = id !== undefined;
    const last = events.reduce((a, b) => (b.t >= a.t ? b : a));
    const all = world.truth.filter((e) => e.key === key);
    if (
      !exists &&
      last.op !== "delete" &&
      !rejectedRow(key, "update") &&
      !events.some((e) => e.op === "delete" && (e.t === last.t || near(e, last)))
    ) {
      failures.push(
        `item ${key} is gone, but its last change (${last.op} on the ${last.side} side) was not a delete, and no conflict says why`,
      );
    }
    if (
      exists &&
      last.op === "delete" &&
      !rejectedRow(key, "delete") &&
      !all.some((e) => e.op !== "delete" && near(e, last)) &&
      // A restore after the delete was seen brings the item back, rightly: it is the newest
      // create or delete (edits after it say nothing about whether the item is there).
      lastRowChange(all)?.op !== "create" &&
      !unrecordedAppendDeleted(world, id, key, last) &&
      // README, Limits: a delete older than its tombstone no longer blocks a late update (the
      // TTL fault stands for an outage that long).
      !((world.tombstonesExpired.get(id) ?? -1) > world.truth.indexOf(last))
    ) {
      failures.push(
        `item ${key} was deleted last (on the ${last.side} side) but is still there as ${id}, with no conflict on record`,
      );
    }
    if (!exists) continue;
    const doc = world.db.docs.get(id)!;
    for (const field of EDITABLE) {
      // A write its own side deleted the row after is superseded by that delete (whose fate,
      // kept or rejected, the row-level checks above decide).
      const writes = events.filter(
        (e, i): e is Extract<Truth, { op: "write" }> =>
          e.op === "write" &&
          e.field === field &&
          !events.some((d, j) => d.op === "delete" && d.side === e.side && j > i),
      );
      if (!writes.length) continue;
      const lastWrite = writes.reduce((a, b) => (b.t >= a.t ? b : a));
      // A delete after the write, lost to a concurrent write or undone, leaves the write's value.
      if (sameValue(doc.fields[field], lastWrite.value)) continue;
      if (rejectedField(key, field, lastWrite.value)) continue;
      // A later write whose row its side then deleted, the delete lost: the sync may have taken
      // it before the delete (or never seen it, and then the write above stands).
      const superseded = events.some(
        (e) =>
          e.op === "write" &&
          e.field === field &&
          e.t >= lastWrite.t &&
          !writes.includes(e as Extract<Truth, { op: "write" }>) &&
          sameValue(doc.fields[field], e.value),
      );
      if (superseded) continue;
      failures.push(
        `item ${key} (${id}) ${field}: the last write (${lastWrite.side}, ${show(lastWrite.value)}) is neither there (${show(doc.fields[field])}) nor on record as a conflict's loser`,
      );
    }
  }
  return { failures, rekeyed, rows: sheetById.size, conflicts: conflicts.length };
}

function lastRowChange(events: readonly Truth[]): Truth | undefined {
  const rowLevel = events.filter((e) => e.op !== "write");
  return rowLevel.length ? rowLevel.reduce((a, b) => (b.t >= a.t ? b : a)) : undefined;
}

/**
 * README, Known limits: a flush that appended a row and died before recording it, the new row
 * deleted in the sheet before the script sent it: the retry appends it again.
 */
function unrecordedAppendDeleted(world: World, id: string, key: string, del: Truth): boolean {
  if (del.side !== "sheet" || !world.db.failedFor.has(id)) return false;
  const at = world.truth.indexOf(del);
  // (A reconcile's read may have skipped the row as changed meanwhile: only the script counts.)
  return !world.sheetSeen.some((r) => r.after <= at && r.keys?.has(key));
}

/**
 * Drops runs of writes that undo themselves: a delete and a restore of the same
 * content, or one side writing a field and, with no create or delete of its own meanwhile
 * and nothing changing the field on that side in between, writing the old
 * value back (2 → 1 → 2). The field never changed; no sync could tell, and none
 * needs to (a delete on the other side in between rightly wins). A run ends where the server
 * took the item in (a webhook or a reconcile's read of the row, a transaction's read of the
 * document): it saw the value there.
 */
export function withoutUndoneWrites(
  truth: readonly Truth[],
  sheetSeen: World["sheetSeen"],
  firestoreSeen: World["firestoreSeen"],
): Truth[] {
  // The server took in the item between two writes: what it got was seen, and counts.
  const seenBetween = (side: Truth["side"], a: number, b: number, key: string) =>
    (side === "sheet" ? sheetSeen : firestoreSeen).some(
      (r) => r.after > a && r.after <= b && (r.keys === null || r.keys.has(key)),
    );
  const dropped = new Set<number>();
  // Per item, the open run of writes per (side, field): where it started and its first `before`.
  const runs = new Map<string, Map<string, number[]>>();
  // Per item and side, the index of a delete that no create or write has followed yet.
  const lastDelete = new Map<string, number>();
  // Per item, the runs a delete ended: a restore that undoes the delete carries them on.
  const beforeDelete = new Map<string, Map<string, number[]>>();
  truth.forEach((e, i) => {
    const open = runs.get(e.key) ?? new Map<string, number[]>();
    runs.set(e.key, open);
    // A delete and a restore of the same content by the same side, nothing in between: the
    // item never changed (an app restoring a document from a backup before the delete's event
    // was seen is invisible to any sync).
    // A delete on the other side meanwhile stays: the restore undoes only its own side's delete.
    const d = lastDelete.get(`${e.key}:${e.side}`);
    if (e.op === "delete") lastDelete.set(`${e.key}:${e.side}`, i);
    else {
      lastDelete.delete(`${e.key}:sheet`);
      // What the sheet did meanwhile does not show the app's delete to the sync: only a
      // transaction that read the document while it was gone does (checked at the restore).
      if (e.side === "firestore") lastDelete.delete(`${e.key}:firestore`);
    }
    const stashed = beforeDelete.get(e.key);
    beforeDelete.delete(e.key);
    if (
      e.op === "create" &&
      e.restore &&
      d !== undefined &&
      (e.side === "sheet" || !seenBetween("firestore", d, i, e.key))
    ) {
      dropped.add(d);
      dropped.add(i);
      // The item never left: runs of writes go on across the pair (2 → null, delete, restore
      // of null, → 2 is 2 → 2).
      if (stashed) for (const [k, run] of stashed) open.set(k, run);
      return;
    }
    if (e.op === "delete") {
      beforeDelete.set(e.key, new Map(open));
      // A delete ends its own side's runs. The other side's go on: a run of theirs the sync never
      // saw left nothing to weigh against the delete, which rightly wins.
      for (const k of [...open.keys()]) if (k.startsWith(`${e.side}:`)) open.delete(k);
      return;
    }
    if (e.op !== "write" || e.before === undefined) {
      open.clear(); // a create, or a write of unknown effect, ends every run
      return;
    }
    const runKey = `${e.side}:${e.field}`;
    // Writes of other fields, or of this field on the other side, do not end a run: what a side
    // does is seen only as its current value. The sync taking the other side's value does
    // (below: the run's values stop following each other).
    let run = open.get(runKey) ?? [];
    // The field changed between two writes of the run (the sync took the other side's value):
    // the run starts again here.
    const previous = run.length
      ? (truth[run[run.length - 1]!] as Extract<Truth, { op: "write" }>)
      : null;
    if (previous && !sameValue(previous.value, e.before ?? null)) run = [];
    // A run the server took in the middle of was seen up to there: it starts again here.
    if (run.length && seenBetween(e.side, run[run.length - 1]!, i, e.key)) run = [];
    run.push(i);
    open.set(runKey, run);
    const first = truth[run[0]!] as Extract<Truth, { op: "write" }>;
    if (sameValue(first.before ?? null, e.value)) {
      for (const j of run) dropped.add(j);
      open.delete(runKey);
    }
  });
  return truth.filter((_, i) => !dropped.has(i));
}
