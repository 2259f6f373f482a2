/**
 * The three-way merge, field by field. For each synced column there are
 * three values: the base (what both sides last agreed on), the sheet's and
 * the document's. A side that still holds the base has not changed it, so
 * the other side's value goes through; a column changed on both sides to
 * different values is a conflict, decided by the later change and recorded
 * with both values. Timestamps only break ties between real conflicts.
 *
 * Whole-row cases follow the same idea: a row deleted on one side and edited
 * on the other is a conflict decided by time; a row whose sheet values still
 * equal the base says nothing against a Firestore delete.
 *
 * Pure: each function takes the row as read (state, document, sheet row) and
 * returns the new state, the document write and the conflicts; the adapters
 * read and commit them in one transaction.
 */
import {
  conflict,
  fieldValue,
  sheetIsLater,
  type Conflict,
  type ConflictSide,
} from "./conflicts.js";
import {
  cloneState,
  emptyRowState,
  maskedColumns,
  observeDoc,
  sameStoredState,
  setBase,
  setBaseRow,
  settleInFlight,
  type DocSnapshot,
  type RowState,
} from "./rowState.js";
import { baseValue, matchesBase, normalize, sameValue, toBase, type RowValues } from "./values.js";

export type DocWrite =
  /** `restore`: the row a sheet delete took is back: its kept fields come back with it. */
  | { kind: "set"; values: RowValues; restore?: true }
  /**
   * `keepBeside`: the sheet deleted the row; the document's fields beside these columns (an
   * app's own, which the sheet never showed) are kept a while, so an undo brings them back.
   */
  | { kind: "delete"; keepBeside?: readonly string[] };

export interface RowDecision {
  state: RowState;
  /** Fields to set on the document (others are left alone), or its deletion. */
  doc: DocWrite | null;
  conflicts: Conflict[];
  outcome: "applied" | "duplicate" | "stale";
}

/** A row of the sheet as the webhook brought it or the server read it. */
export interface SheetRow {
  /** Every synced column's cell. */
  values: RowValues;
  /** The row's `_rev` cell read with the values. */
  rev: number;
  /** When a person last changed the row (the script's stamp), for real conflicts. */
  modifiedAt: number;
  /**
   * The columns the person's edit covered (the script's onEdit range), when known: typing a
   * column's agreed value back over an app's change (A→B→A) is an edit no comparison shows.
   */
  fields?: readonly string[] | null;
  /** When each of `fields` changed, where earlier than `modifiedAt` (merged edits). */
  fieldsAt?: Readonly<Record<string, number>>;
}

interface RowInput {
  rowId: string;
  state: RowState | null;
  doc: DocSnapshot | null;
  /** The sheet's synced columns. */
  columns: readonly string[];
  now: number;
}

/** (modifiedAt, readAt) of a webhook delivery, to order deliveries of one row; null: a fresh server read. */
export type Delivery = { modifiedAt: number; readAt: number } | null;

function order(a: Delivery, s: RowState): number {
  if (!a) return 1;
  if (a.modifiedAt !== s.sheetAt) return a.modifiedAt < s.sheetAt ? -1 : 1;
  if (a.readAt !== s.sheetReadAt) return a.readAt < s.sheetReadAt ? -1 : 1;
  return 0;
}

function delivered(s: RowState, d: Delivery, modifiedAt: number): void {
  if (d) {
    s.sheetAt = d.modifiedAt;
    s.sheetReadAt = d.readAt;
  } else {
    s.sheetAt = Math.max(s.sheetAt, modifiedAt);
  }
}

const pick = (values: RowValues, columns: readonly string[]): RowValues =>
  Object.fromEntries(columns.map((c) => [c, normalize(values[c])]));

function decided(
  prior: RowState | null,
  state: RowState,
  doc: DocWrite | null,
  conflicts: Conflict[],
): RowDecision {
  const changed = doc !== null || prior === null || !sameStoredState(prior, state);
  return { state, doc, conflicts, outcome: changed || conflicts.length ? "applied" : "duplicate" };
}

/**
 * A row as the sheet shows it: from the webhook (`delivery` set: older
 * deliveries than the newest taken are stale) or read by the server (null).
 */
export function mergeSheetRow(
  input: RowInput & { row: SheetRow; delivery: Delivery },
): RowDecision {
  const { rowId, doc, columns, row, delivery } = input;
  const prior = input.state;
  let s = cloneState(prior ?? emptyRowState());
  if (prior) {
    const o = order(delivery, s);
    if (o < 0) return { state: s, doc: null, conflicts: [], outcome: "stale" };
    if (o === 0) return { state: s, doc: null, conflicts: [], outcome: "duplicate" };
  }
  s = settleInFlight(observeDoc(s, doc, columns), row.rev);
  const masked = maskedColumns(s, row.rev, delivery !== null);
  const sheetSide = (values: RowValues | null, at = row.modifiedAt): ConflictSide => ({
    side: "sheet",
    op: "update",
    at,
    values,
  });
  const typed = (c: string) => row.fields?.includes(c) === true;
  // A column's own time: edits the script's outbox merged each keep theirs.
  const changedAt = (c: string) =>
    row.fieldsAt && Object.hasOwn(row.fieldsAt, c)
      ? Math.min(row.fieldsAt[c]!, row.modifiedAt)
      : row.modifiedAt;
  const edited = columns.filter(
    (c) =>
      !masked.has(c) &&
      (!matchesBase(row.values[c], s.base[c]) || (typed(c) && s.docEdits[c] !== undefined)),
  );
  // A write in flight masks its cells, as it will overwrite them; should it never land, what the
  // person put there is to be decided after all (the flush does, when it finds that out).
  if (delivery && s.inFlight && row.rev < s.inFlight.rev) {
    const unread = { ...s.inFlight.unread };
    for (const c of Object.keys(s.inFlight.cells)) {
      if (matchesBase(row.values[c], s.base[c]) && !typed(c)) continue;
      const read = unread[c];
      if (!read || changedAt(c) >= read.at)
        unread[c] = { at: changedAt(c), value: toBase(row.values[c]) };
    }
    if (Object.keys(unread).length) s.inFlight = { ...s.inFlight, unread };
  }
  // A server read (the reconcile) waits for an edit's own webhook, which carries its time, unless
  // a sync write of the row never landed (the row's `_rev` is behind): a webhook read while it
  // was in flight could not take the cells it was for, so that webhook came and went.
  const awaitStamp = delivery === null && row.rev >= s.rev;
  const conflicts: Conflict[] = [];
  delivered(s, delivery, row.modifiedAt);

  // What the sheet shows now: its values, and the base where the read predates a sync write.
  const shown = (): RowValues => {
    const values = pick(row.values, columns);
    for (const c of masked) values[c] = baseValue(s.base[c]) ?? values[c] ?? null;
    return values;
  };

  if (doc) {
    const set: RowValues = {};
    for (const c of edited) {
      const sv = normalize(row.values[c]);
      const edit = s.docEdits[c];
      if (!edit) {
        set[c] = sv;
        setBase(s, c, toBase(sv), row.rev);
        continue;
      }
      const dv = normalize(doc.values[c]);
      // Read by the server under a `_modified` older than the document's edit: the script may not
      // have stamped this edit yet. Decided now, a later edit would lose, and its webhook find
      // nothing new; the flush leaves the cell alone (it differs from the base) until it comes.
      if (awaitStamp && !sameValue(sv, dv) && row.modifiedAt <= edit.at) continue;
      delete s.docEdits[c];
      setBase(s, c, toBase(sv), row.rev);
      if (sameValue(sv, dv)) {
        // Both sides hold the same value now. A document edit newer than this sheet change
        // stays on record (the flush settles it): a later sheet change stamped before it is
        // older than the app's write, and loses to it.
        if (edit.at > changedAt(c)) s.docEdits[c] = edit;
        continue;
      }
      // Changed on both sides since they agreed: the later change wins; a tie goes the same way everywhere.
      const sheetWins = sheetIsLater(changedAt(c), sv, edit.at, dv);
      const docSide: ConflictSide = {
        side: "firestore",
        op: "update",
        at: edit.at,
        values: fieldValue(c, dv),
      };
      if (sheetWins) {
        set[c] = sv;
        conflicts.push(
          conflict(
            rowId,
            c,
            "last-write-wins",
            sheetSide(fieldValue(c, sv), changedAt(c)),
            docSide,
          ),
        );
      } else {
        // The base now holds the sheet's value, so the document's reads as the change to write.
        s.docEdits[c] = edit;
        conflicts.push(
          conflict(
            rowId,
            c,
            "last-write-wins",
            docSide,
            sheetSide(fieldValue(c, sv), changedAt(c)),
          ),
        );
      }
    }
    s.inSheet = true;
    s.parked = false;
    if (Object.keys(set).length) s.docSeenAt = Math.max(s.docSeenAt, input.now);
    return decided(
      prior,
      s,
      Object.keys(set).length ? { kind: "set", values: set } : null,
      conflicts,
    );
  }

  const recreate = (): RowDecision => {
    const values = shown();
    const restore = s.deleted?.kept === true;
    s.deleted = null;
    s.inSheet = true;
    s.parked = false;
    s.docSeenAt = Math.max(s.docSeenAt, input.now);
    setBaseRow(s, values, row.rev);
    s.docEdits = {};
    return decided(
      prior,
      s,
      restore ? { kind: "set", values, restore: true } : { kind: "set", values },
      conflicts,
    );
  };
  const absorb = () => {
    for (const c of edited) setBase(s, c, toBase(row.values[c]), row.rev);
    s.inSheet = true;
    s.parked = false;
  };

  if (s.deleted?.by === "firestore") {
    // Unchanged since the sync last agreed: the sheet has just not caught up with the delete
    // (a row set aside because it looked like another item's is this one's again: delete it).
    if (edited.length === 0) {
      s.inSheet = true;
      s.parked = false;
      return decided(prior, s, null, conflicts);
    }
    const deletion: ConflictSide = {
      side: "firestore",
      op: "delete",
      at: s.deleted.at,
      values: null,
    };
    if (row.modifiedAt > s.deleted.at) {
      conflicts.push(conflict(rowId, null, "last-write-wins", sheetSide(shown()), deletion));
      s.provisional = null;
      return recreate();
    }
    // Read by the server: the script may not have stamped the edit yet (its `_modified` is older
    // than the edit). Taken into the base now, the edit's webhook would find nothing new and a
    // person's edit made after the delete would lose to it. It waits for that webhook.
    if (awaitStamp) return decided(prior, s, null, conflicts);
    // The delete is newer. The sheet's values join the base so the flush may remove the row.
    conflicts.push(conflict(rowId, null, "last-write-wins", deletion, sheetSide(shown())));
    absorb();
    return decided(prior, s, null, conflicts);
  }
  if (s.deleted?.by === "sheet") {
    // The row is back in the sheet (an undo, a paste): newer than the sheet's own delete. An app
    // that deleted the document meanwhile made a delete of its own: decided by time.
    const appDelete = s.deleted.firestoreAt;
    if (appDelete === undefined) return recreate();
    const deletion: ConflictSide = { side: "firestore", op: "delete", at: appDelete, values: null };
    if (row.modifiedAt > appDelete) {
      conflicts.push(conflict(rowId, null, "last-write-wins", sheetSide(shown()), deletion));
      return recreate();
    }
    conflicts.push(conflict(rowId, null, "last-write-wins", deletion, sheetSide(shown())));
    s.deleted = { at: appDelete, by: "firestore" };
    s.base = {};
    s.baseRev = {};
    edited.splice(
      0,
      edited.length,
      ...columns.filter((c) => !matchesBase(row.values[c], undefined)),
    );
    absorb();
    return decided(prior, s, null, conflicts);
  }

  const wasLive = prior !== null && (prior.inSheet || prior.docSeenAt > 0) && !prior.deleted;
  if (wasLive) {
    // Deleted in Firestore, and the trigger has not said when yet: some time after docSeenAt.
    if (edited.length === 0) {
      // A webhook leaves it to the trigger, which knows when. The reconcile runs when events may
      // have been lost: it records the delete itself, as of now.
      if (delivery === null) {
        s.deleted = { at: input.now, by: "firestore" };
        s.inSheet = true;
      }
      return decided(prior, s, null, conflicts);
    }
    const deletion: ConflictSide = { side: "firestore", op: "delete", at: null, values: null };
    if (row.modifiedAt <= s.docSeenAt) {
      s.deleted = { at: input.now, by: "firestore" };
      conflicts.push(conflict(rowId, null, "last-write-wins", deletion, sheetSide(shown())));
      absorb();
      return decided(prior, s, null, conflicts);
    }
    // Which came first is unknown: keep the data for now; the delete's event settles it.
    conflicts.push(conflict(rowId, null, "last-write-wins", sheetSide(shown()), deletion));
    s.provisional = { at: row.modifiedAt };
    return recreate();
  }
  return recreate(); // a new row
}

/**
 * The sheet deleted the row at `at` (the webhook), or the server found it
 * gone with no date (`at` null: the reconcile). A row with Firestore edits
 * the sheet never got is a conflict: by time, or kept when the delete's time
 * is unknown.
 */
export function mergeSheetDelete(
  input: RowInput & { at: number | null; delivery: Delivery },
): RowDecision {
  const { rowId, doc, columns, delivery, now } = input;
  const prior = input.state;
  let s = cloneState(prior ?? emptyRowState());
  if (prior && delivery) {
    const o = order(delivery, s);
    if (o < 0) return { state: s, doc: null, conflicts: [], outcome: "stale" };
    if (o === 0) return { state: s, doc: null, conflicts: [], outcome: "duplicate" };
  }
  s = observeDoc(s, doc, columns);
  const at = input.at ?? now;
  delivered(s, delivery, at);
  const conflicts: Conflict[] = [];
  const gone = () => {
    s.inSheet = false;
    s.base = {};
    s.baseRev = {};
    s.docEdits = {};
    s.provisional = null;
    s.parked = false;
    s.inFlight = null;
  };
  if (!doc) {
    if (!s.deleted) {
      // A document that existed and is gone was deleted in Firestore too, not yet recorded.
      const live = prior !== null && (prior.inSheet || prior.docSeenAt > 0);
      s.deleted = live ? { at, by: "sheet", firestoreAt: now } : { at, by: "sheet" };
    }
    gone();
    return decided(prior, s, null, conflicts);
  }
  const edits = Object.entries(s.docEdits);
  const deletion: ConflictSide = { side: "sheet", op: "delete", at: input.at, values: null };
  // What the sheet never showed of the document (fields beside the columns, and values of a
  // column the row left the sheet before it had: none agreed on) is kept a while: an undo brings
  // it back.
  const shown = columns.filter((c) => s.base[c] !== undefined || doc.values[c] == null);
  const keeps = Object.entries(doc.values).some(([f, v]) => v != null && !shown.includes(f));
  const deleteDoc = (): RowDecision => {
    s.deleted = keeps
      ? { at, by: "sheet", ownDelete: null, kept: true }
      : { at, by: "sheet", ownDelete: null };
    gone();
    return decided(
      prior,
      s,
      keeps ? { kind: "delete", keepBeside: shown } : { kind: "delete" },
      conflicts,
    );
  };
  if (edits.length === 0) return deleteDoc();
  const newest = Math.max(...edits.map(([, e]) => e.at));
  const docSide: ConflictSide = {
    side: "firestore",
    op: "update",
    at: newest,
    values: pick(
      doc.values,
      edits.map(([c]) => c),
    ),
  };
  if (input.at !== null && input.at > newest) {
    conflicts.push(conflict(rowId, null, "last-write-wins", deletion, docSide));
    return deleteDoc();
  }
  // The Firestore edit is newer (or the delete's time unknown): the row goes back into the sheet.
  conflicts.push(conflict(rowId, null, "last-write-wins", docSide, deletion));
  // The base and the edits stay: the flush appends the whole document, and a row an undo brings
  // back merges field by field against what both sides last agreed on.
  s.inSheet = false;
  s.provisional = null;
  s.parked = false;
  s.inFlight = null;
  return decided(prior, s, null, conflicts);
}

/**
 * A document event (the trigger). Decides on the document as it is now; the
 * event only says when a delete happened.
 */
export function recordDocEvent(
  input: RowInput & { event: { at: number; isDelete: boolean } },
): RowDecision {
  const { rowId, doc, columns, event } = input;
  const prior = input.state;
  let s = cloneState(prior ?? emptyRowState());
  if (doc) {
    const provisional = s.provisional;
    s = observeDoc(s, doc, columns);
    if (event.isDelete && provisional && !prior?.deleted) {
      s.provisional = null;
      const editedSince = Object.values(s.docEdits).some((e) => e.at > event.at);
      if (event.at > provisional.at && !editedSince) {
        // The delete came after the sheet edit that brought the row back: it wins after all.
        const kept: ConflictSide = { side: "firestore", op: "delete", at: event.at, values: null };
        const rejected: ConflictSide = {
          side: "sheet",
          op: "update",
          at: provisional.at,
          values: pick(doc.values, columns),
        };
        s.deleted = { at: event.at, by: "firestore" };
        s.docEdits = {};
        s.parked = false;
        return decided(prior, s, { kind: "delete" }, [
          conflict(rowId, null, "last-write-wins", kept, rejected),
        ]);
      }
    }
    return decided(prior, s, null, []);
  }
  if (s.deleted?.by === "sheet" && event.isDelete) {
    const d = s.deleted;
    // The event of the sync's own delete of the document (once, then its redeliveries).
    if (d.ownDelete === null) s.deleted = { ...d, ownDelete: event.at };
    // Another delete: an app's. Remember when, in case the sheet's delete is undone.
    else if (d.ownDelete !== event.at && d.firestoreAt !== event.at) {
      s.deleted = { ...d, firestoreAt: event.at };
    }
    return decided(prior, s, null, []);
  }
  if (s.deleted || !event.isDelete) {
    // Recorded already, or a late event of an earlier write: the delete's own event brings its time.
    return { state: s, doc: null, conflicts: [], outcome: "duplicate" };
  }
  s.deleted = { at: event.at, by: "firestore" };
  s.docEdits = {};
  s.provisional = null;
  s.parked = false;
  if (!s.inSheet) {
    s.base = {};
    s.baseRev = {};
  }
  return decided(prior, s, null, []);
}
