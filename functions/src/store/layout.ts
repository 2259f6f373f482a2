/**
 * The sync's Firestore layout, in one place: which collection holds what,
 * document ids, and how the core's values and row states are stored.
 *
 * | path | what |
 * | --- | --- |
 * | `{collection}/{rowId}` | the row: one field per column, nothing else of the sync's |
 * | `syncRows/{collection}:{rowId}` | the row's sync state: the base, Firestore edits not yet in the sheet, deletes (a deleted row's state expires by TTL) |
 * | `syncOutbox/{collection}:{rowId}` | a row the sheet still needs to change |
 * | `syncKept/{collection}:{rowId}` | a row the sheet deleted: its document's fields beside the columns, until the row comes back (an undo) or they expire by TTL |
 * | `syncConflicts/{collection}:{rowId}:{hash}` | a conflict, with both values and the rule |
 * | `syncSheets/{spreadsheetId}:{tab}` | per tab: its columns, layout cache, last error, last reconcile, the script's last idle read |
 * | `syncReconciles/{spreadsheetId}:{tab}:{time}` | a reconcile's report |
 */
import { createHash } from "node:crypto";
import { Timestamp, type DocumentData, type DocumentSnapshot } from "firebase-admin/firestore";
import type { Conflict, ConflictSide } from "../core/conflicts.js";
import type { OutboxEntry } from "../core/outbox.js";
import { isSettledDelete, type DocSnapshot, type RowState } from "../core/rowState.js";
import type { BaseValue, CellValue, RowValues } from "../core/values.js";

export const STATES = "syncRows";
export const OUTBOX = "syncOutbox";
export const CONFLICTS = "syncConflicts";
export const SHEETS = "syncSheets";
export const RECONCILES = "syncReconciles";
export const KEPT = "syncKept";

/** One synced tab, as a document id and task key. */
export function sheetKey(spreadsheetId: string, sheetName: string): string {
  return `${spreadsheetId}:${encodeURIComponent(sheetName)}`;
}

export const rowKey = (collection: string, rowId: string) => `${collection}:${rowId}`;

export function conflictDocId(collection: string, c: Conflict): string {
  const hash = createHash("sha256").update(c.id).digest("hex").slice(0, 20);
  return `${collection}:${c.rowId}:${hash}`;
}

// ---- values ----------------------------------------------------------------------------------

/** A stored field as a cell value: Timestamps back to Dates; what no cell holds as JSON text. */
export function toCell(value: unknown): CellValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (value instanceof Timestamp) return value.toDate();
  if (value instanceof Date) return value;
  return JSON.stringify(value);
}

export function readDoc(snap: DocumentSnapshot): DocSnapshot | null {
  if (!snap.exists) return null;
  const values: RowValues = {};
  for (const [field, value] of Object.entries(snap.data() ?? {})) values[field] = toCell(value);
  const createTime = snap.createTime?.toMillis();
  return {
    values,
    updateTime: snap.updateTime!.toMillis(),
    ...(createTime !== undefined ? { createTime } : {}),
  };
}

const storeBase = (v: BaseValue): unknown => (v instanceof Date ? Timestamp.fromDate(v) : v);
const loadBase = (v: unknown): BaseValue => {
  if (v instanceof Timestamp) return v.toDate();
  if (v !== null && typeof v === "object" && typeof (v as { $h?: unknown }).$h === "string") {
    return { $h: (v as { $h: string }).$h };
  }
  return v as BaseValue;
};
const mapValues = <A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

// ---- row states ------------------------------------------------------------------------------

export function stateData(
  s: RowState,
  meta: { collection: string; rowId: string; sheetKey: string },
  expireAt: number | null,
): DocumentData {
  return {
    ...meta,
    base: mapValues(s.base, storeBase),
    baseRev: s.baseRev,
    rev: s.rev,
    docEdits: s.docEdits,
    sheetAt: s.sheetAt,
    sheetReadAt: s.sheetReadAt,
    inSheet: s.inSheet,
    docSeenAt: s.docSeenAt,
    deleted: s.deleted,
    inFlight: s.inFlight && {
      ...s.inFlight,
      cells: mapValues(s.inFlight.cells, storeBase),
      ...(s.inFlight.unread
        ? {
            unread: mapValues(s.inFlight.unread, (read) => ({
              at: read.at,
              value: storeBase(read.value),
            })),
          }
        : {}),
    },
    provisional: s.provisional,
    ...(s.movedSince ? { movedSince: s.movedSince } : {}),
    parked: s.parked,
    docCreatedAt: s.docCreatedAt,
    // Firestore's TTL policy (firestore.indexes.json) deletes a forgotten delete's state.
    ...(expireAt !== null && isSettledDelete(s)
      ? { expireAt: Timestamp.fromMillis(expireAt) }
      : {}),
  };
}

interface StoredInFlight {
  rev: number;
  cells: Record<string, unknown>;
  since: number;
  unread?: Record<string, unknown>;
}

function loadInFlight(stored: StoredInFlight): NonNullable<RowState["inFlight"]> {
  const { unread, ...rest } = stored;
  const reads: Record<string, { at: number; value: BaseValue }> = {};
  for (const [c, read] of Object.entries(unread ?? {})) {
    // (An entry without the value read, from before it was kept, is left to the cell's webhook.)
    if (read && typeof read === "object" && "at" in read && typeof read.at === "number")
      reads[c] = { at: read.at, value: loadBase((read as { value?: unknown }).value ?? null) };
  }
  return {
    ...rest,
    cells: mapValues(stored.cells, loadBase),
    ...(Object.keys(reads).length ? { unread: reads } : {}),
  };
}

export function readState(snap: DocumentSnapshot, now: number): RowState | null {
  if (!snap.exists) return null;
  const d = snap.data()!;
  // TTL deletion lags by up to a day: an expired state is already gone.
  if (d.expireAt instanceof Timestamp && d.expireAt.toMillis() <= now) return null;
  const num = (v: unknown) => (typeof v === "number" ? v : 0);
  const inFlight = d.inFlight as StoredInFlight | null;
  return {
    base: mapValues((d.base ?? {}) as Record<string, unknown>, loadBase),
    baseRev: (d.baseRev ?? {}) as Record<string, number>,
    rev: num(d.rev),
    docEdits: (d.docEdits ?? {}) as RowState["docEdits"],
    sheetAt: num(d.sheetAt),
    sheetReadAt: num(d.sheetReadAt),
    inSheet: d.inSheet === true,
    docSeenAt: num(d.docSeenAt),
    deleted: (d.deleted ?? null) as RowState["deleted"],
    inFlight: inFlight ? loadInFlight(inFlight) : null,
    provisional: (d.provisional ?? null) as RowState["provisional"],
    parked: d.parked === true,
    docCreatedAt: num(d.docCreatedAt),
    ...(d.movedSince ? { movedSince: d.movedSince as NonNullable<RowState["movedSince"]> } : {}),
  };
}

// ---- outbox ----------------------------------------------------------------------------------

export function outboxData(
  e: OutboxEntry,
  meta: { collection: string; sheetKey: string; spreadsheetId: string; sheetName: string },
): DocumentData {
  return { ...meta, ...e };
}

export function readOutbox(snap: DocumentSnapshot): OutboxEntry | null {
  if (!snap.exists) return null;
  const { rowId, op, changedAt, queuedAt, firstQueuedAt } = snap.data()!;
  if (typeof rowId !== "string" || (op !== "upsert" && op !== "delete")) return null;
  const num = (v: unknown) => (typeof v === "number" ? v : 0);
  return {
    rowId,
    op,
    changedAt: num(changedAt),
    queuedAt: num(queuedAt),
    firstQueuedAt: num(firstQueuedAt ?? queuedAt),
  };
}

// ---- conflicts -------------------------------------------------------------------------------

const storeSide = (side: ConflictSide) => ({
  ...side,
  values:
    side.values && mapValues(side.values, (v) => (v instanceof Date ? Timestamp.fromDate(v) : v)),
});

export function conflictData(
  c: Conflict,
  meta: { collection: string; spreadsheetId: string; sheetName: string },
  detectedAt: number,
): DocumentData {
  return {
    ...meta,
    rowId: c.rowId,
    field: c.field,
    rule: c.rule,
    kept: storeSide(c.kept),
    rejected: storeSide(c.rejected),
    detectedAt: Timestamp.fromMillis(detectedAt),
  };
}
