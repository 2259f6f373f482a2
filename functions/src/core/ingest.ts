/**
 * Deciding what a sheet batch does to the stored rows. Pure: the adapter
 * reads the current state of every row in the batch, calls `planIngest`, and
 * commits the writes it returns in the same transaction.
 */
import type { RowChange } from "./batch.js";
import { compareVersions, laterOf, type RowVersion } from "./lww.js";
import { hashRow, type RowValues } from "./values.js";

export type Origin = "sheet" | "firestore";

/** What is stored for a row now, as the adapter read it. */
export interface StoredRow {
  values: RowValues;
  /** `_sync.modifiedAt`, or the document's update time if it has no `_sync`. */
  modifiedAt: number;
  /** `_sync.hash` as written with the values; null if the document has none. */
  hash: string | null;
  origin: Origin;
}

export interface Tombstone {
  deletedAt: number;
  expiresAt: number;
}

export interface RowState {
  row: StoredRow | null;
  tombstone: Tombstone | null;
  /** A Firestore edit of this row still waiting in the outbox for the sheet (its change time). */
  pendingToSheet?: number | null;
}

export type Outcome = "applied" | "duplicate" | "skipped_older";

export interface RowResult {
  id: string;
  op: RowChange["op"];
  outcome: Outcome;
}

export interface ConflictSide {
  op: "upsert" | "delete";
  origin: Origin;
  modifiedAt: number;
  values: RowValues | null;
}

/** An older change that lost to what is stored: both versions, for a person to look at. */
export interface Conflict {
  /** Same change, same key: recording it again changes nothing. */
  key: string;
  rowId: string;
  kept: ConflictSide;
  rejected: ConflictSide & { fields: string[] | null };
}

export type RowWrite =
  | {
      kind: "putRow";
      id: string;
      values: RowValues;
      modifiedAt: number;
      hash: string;
      fields: string[] | null;
    }
  | { kind: "deleteRow"; id: string }
  | { kind: "putTombstone"; id: string; tombstone: Tombstone }
  | { kind: "removeTombstone"; id: string }
  | { kind: "recordConflict"; conflict: Conflict };

export interface IngestPlan {
  results: RowResult[];
  writes: RowWrite[];
}

export function versionOfChange(change: RowChange): RowVersion {
  return change.op === "delete"
    ? { modifiedAt: change.modifiedAt, deleted: true, hash: "" }
    : { modifiedAt: change.modifiedAt, deleted: false, hash: hashRow(change.values) };
}

/** The stored version, ignoring tombstones past their expiry (TTL deletion lags). */
export function storedVersion(state: RowState, now: number): RowVersion | null {
  const row = state.row
    ? {
        modifiedAt: state.row.modifiedAt,
        deleted: false,
        hash: state.row.hash ?? hashRow(state.row.values),
      }
    : null;
  const t = state.tombstone;
  const tomb = t && t.expiresAt > now ? { modifiedAt: t.deletedAt, deleted: true, hash: "" } : null;
  return laterOf(row, tomb);
}

export function conflictKey(rowId: string, v: RowVersion): string {
  return `${rowId}:${v.modifiedAt}:${v.deleted ? "delete" : v.hash.slice(0, 12)}`;
}

const EMPTY: RowState = { row: null, tombstone: null };

export function planIngest(
  changes: readonly RowChange[],
  states: ReadonlyMap<string, RowState>,
  opts: { now: number; tombstoneRetentionMs: number },
): IngestPlan {
  const results: RowResult[] = [];
  const writes: RowWrite[] = [];

  for (const change of changes) {
    const state = states.get(change.id) ?? EMPTY;
    const incoming = versionOfChange(change);
    const current = storedVersion(state, opts.now);
    let order = current ? compareVersions(incoming, current) : 1;
    // The sheet reading back a Firestore edit the flush wrote: same time, and its content is
    // what the sheet now shows (formulas recomputed). It completes that version; take it.
    if (
      order < 0 &&
      change.op === "upsert" &&
      state.row?.origin === "firestore" &&
      !current!.deleted
    ) {
      if (current!.modifiedAt === change.modifiedAt) order = 1;
    }

    // Deleting a row that is already deleted changes nothing, whichever delete is older.
    if (order < 0 && change.op === "delete" && current!.deleted) order = 0;
    if (order === 0) {
      results.push({ id: change.id, op: change.op, outcome: "duplicate" });
      continue;
    }
    if (order < 0) {
      results.push({ id: change.id, op: change.op, outcome: "skipped_older" });
      writes.push({
        kind: "recordConflict",
        conflict: conflictOf(change, incoming, state, current!),
      });
      continue;
    }

    results.push({ id: change.id, op: change.op, outcome: "applied" });
    // A newer sheet change overwrites a Firestore edit the sheet has not seen yet: keep it on record.
    // (A read-back of that very edit carries its time and is no conflict.)
    if (state.pendingToSheet != null && state.row && change.modifiedAt > state.pendingToSheet) {
      writes.push({
        kind: "recordConflict",
        conflict: {
          key: `${change.id}:${state.pendingToSheet}:firestore-overwritten`,
          rowId: change.id,
          kept:
            change.op === "upsert"
              ? {
                  op: "upsert",
                  origin: "sheet",
                  modifiedAt: change.modifiedAt,
                  values: change.values,
                }
              : { op: "delete", origin: "sheet", modifiedAt: change.modifiedAt, values: null },
          rejected: {
            op: "upsert",
            origin: "firestore",
            modifiedAt: state.row.modifiedAt,
            values: state.row.values,
            fields: null,
          },
        },
      });
    }
    if (change.op === "upsert") {
      writes.push({
        kind: "putRow",
        id: change.id,
        values: change.values,
        modifiedAt: change.modifiedAt,
        hash: incoming.hash,
        fields: change.fields,
      });
      if (state.tombstone) writes.push({ kind: "removeTombstone", id: change.id });
    } else {
      if (state.row) writes.push({ kind: "deleteRow", id: change.id });
      writes.push({
        kind: "putTombstone",
        id: change.id,
        tombstone: {
          deletedAt: change.modifiedAt,
          expiresAt: opts.now + opts.tombstoneRetentionMs,
        },
      });
    }
  }
  return { results, writes };
}

function conflictOf(
  change: RowChange,
  incoming: RowVersion,
  state: RowState,
  current: RowVersion,
): Conflict {
  return {
    key: conflictKey(change.id, incoming),
    rowId: change.id,
    kept: current.deleted
      ? { op: "delete", origin: "sheet", modifiedAt: current.modifiedAt, values: null }
      : {
          op: "upsert",
          origin: state.row?.origin ?? "sheet",
          modifiedAt: current.modifiedAt,
          values: state.row?.values ?? null,
        },
    rejected:
      change.op === "upsert"
        ? {
            op: "upsert",
            origin: "sheet",
            modifiedAt: change.modifiedAt,
            values: change.values,
            fields: change.fields,
          }
        : {
            op: "delete",
            origin: "sheet",
            modifiedAt: change.modifiedAt,
            values: null,
            fields: null,
          },
  };
}
