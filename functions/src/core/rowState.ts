/**
 * What the sync remembers of one row, apart from the document itself: the
 * base (the last value of each column both sides agreed on), the Firestore
 * edits the sheet has not got yet, the sheet's revision, and deletes. Every
 * decision is made from this state, the document as it is now, and (where
 * the decision has one) the sheet's row as read; so duplicate, late and
 * reordered deliveries settle the same way.
 */
import {
  baseKey,
  baseValue,
  matchesBase,
  toBase,
  valueKey,
  type BaseValue,
  type CellValue,
  type RowValues,
} from "./values.js";
import { toWire, type WireCell } from "../../../contract/src/cells.js";
import type { DescribedRow } from "../../../contract/src/wire.js";

export type Side = "sheet" | "firestore";

export interface RowState {
  /** Last agreed value per synced column; a column absent here is empty (or was never synced). */
  base: Record<string, BaseValue>;
  /** The sheet `_rev` from which on the sheet holds `base[column]` (absent: 0). */
  baseRev: Record<string, number>;
  /** The highest `_rev` the sync wrote into the sheet row (0: never). */
  rev: number;
  /** Columns whose document value differs from the base: key of the value and when it was written. */
  docEdits: Record<string, { key: string; at: number }>;
  /** The newest sheet change taken from the webhook: (modifiedAt, readAt), to ignore older ones. */
  sheetAt: number;
  sheetReadAt: number;
  /** The row is in the sheet, as far as the sync knows. */
  inSheet: boolean;
  /** The document's update time when it was last seen to exist (0: never seen). */
  docSeenAt: number;
  /**
   * The row was deleted on `by`'s side at `at`; the other side follows. When
   * Firestore deleted it too (apart from the sync), `firestoreAt` says when: a
   * row the sheet brings back then conflicts with that delete.
   */
  deleted: {
    at: number;
    by: Side;
    firestoreAt?: number;
    /** The sync deleted the document itself: null until its event is seen, then that event's time. */
    ownDelete?: number | null;
    /** The document had fields beside the columns, kept (`syncKept`) for the row's return. */
    kept?: true;
  } | null;
  /** A flush's cell writes on their way to the sheet, recorded before the Sheets API call. */
  inFlight: {
    rev: number;
    cells: Record<string, BaseValue>;
    since: number;
    /**
     * Its columns a webhook read before the write landed, which a person had changed (or typed
     * into) there, with the row's stamp and the value read: taken when the write turns out never
     * to have landed, if the cell still holds that value.
     */
    unread?: Record<string, { at: number; value: BaseValue }>;
  } | null;
  /** The document was recreated from a sheet edit made at `at` while a Firestore delete of unknown time was pending. */
  provisional: { at: number } | null;
  /** The flush found sheet edits it must not overwrite; the row waits for them to arrive. */
  parked: boolean;
  /** The create time of the document the sync last saw (0: not known yet). */
  docCreatedAt: number;
  /**
   * Since when (and with which cells) the reconcile has found the row holding another item's
   * content, left for the script to follow: a row that still holds the same cells long after is
   * no move the script will follow (see reconcileRow).
   */
  movedSince?: { at: number; cells: string };
}

export function emptyRowState(): RowState {
  return {
    base: {},
    baseRev: {},
    rev: 0,
    docEdits: {},
    sheetAt: 0,
    sheetReadAt: 0,
    inSheet: false,
    docSeenAt: 0,
    deleted: null,
    inFlight: null,
    provisional: null,
    parked: false,
    docCreatedAt: 0,
  };
}

/**
 * Equal as stored. A document's create time only just learned (the state had none) is kept when
 * the state is written for another reason: learning it alone is not worth a write per row.
 */
export function sameStoredState(stored: RowState, next: RowState): boolean {
  const compared = stored.docCreatedAt === 0 ? { ...next, docCreatedAt: 0 } : next;
  return JSON.stringify(stored) === JSON.stringify(compared);
}

/** A document as the core sees it: every field as a cell value, and its times. */
export interface DocSnapshot {
  values: RowValues;
  updateTime: number;
  /** When this incarnation of the document was created (a delete and a new write make another). */
  createTime?: number;
}

/** A pending write older than this is from a flush that died; anyone may drop it. */
export const IN_FLIGHT_EXPIRY_MS = 10 * 60 * 1000;

/** A copy to change: decisions never touch the state they were given. */
export const cloneState = (s: RowState): RowState => ({
  ...s,
  base: { ...s.base },
  baseRev: { ...s.baseRev },
  docEdits: { ...s.docEdits },
});
const clone = cloneState;

/**
 * Brings the state up to date with the document: columns whose value differs
 * from the base are Firestore edits (a changed value gets the document's
 * update time; an unchanged one keeps its time, so the sync's own writes and
 * redelivered events change nothing). A document that exists while the state
 * says deleted was written after the delete: the row lives again.
 */
export function observeDoc(
  state: RowState,
  doc: DocSnapshot | null,
  columns: readonly string[],
): RowState {
  if (!doc) return state;
  const s = clone(state);
  // When the document was last seen matters only for a delete of unknown time; refreshing it on
  // every echo would cost a write per row, so it moves when something else does.
  if (s.docSeenAt === 0) s.docSeenAt = doc.updateTime;
  // Created anew since the sync last saw it: deleted and written again (an app's restore) while
  // the delete's event is still on its way. As for a recorded delete, every field is an edit.
  const recreated =
    doc.createTime !== undefined && s.docCreatedAt !== 0 && doc.createTime !== s.docCreatedAt;
  if (doc.createTime !== undefined) s.docCreatedAt = doc.createTime;
  if (s.deleted || recreated) {
    s.docSeenAt = Math.max(s.docSeenAt, doc.updateTime);
    s.deleted = null;
    s.provisional = null;
    s.parked = false;
    // The base stays: the last values both sides agreed on (a row an undo brought back merges
    // field by field against it). The document written anew is an edit of every field, as of
    // then: a sheet delete older than it must not take it away silently, even when it restored
    // the very values the base holds.
    for (const column of columns) {
      s.docEdits[column] = { key: valueKey(doc.values[column]), at: doc.updateTime };
    }
  }
  const known = new Set(columns);
  for (const field of Object.keys(s.docEdits)) if (!known.has(field)) delete s.docEdits[field];
  for (const column of columns) {
    const value = doc.values[column];
    const key = valueKey(value);
    const edit = s.docEdits[column];
    // No edit on record and the base's value: nothing happened. An edit on record whose value
    // went back to the base's is an edit too (A → B → A): a sheet edit meanwhile conflicts
    // with it. Only the sync's own agreements end an edit.
    if (!edit && matchesBase(value, s.base[column])) continue;
    if (edit?.key !== key) {
      s.docEdits[column] = { key, at: doc.updateTime };
      s.docSeenAt = Math.max(s.docSeenAt, doc.updateTime);
      s.parked = false; // a new edit may be writable even where an older one waits
    }
  }
  return s;
}

/**
 * The sheet row was read at `rev`. A pending flush write at or below it has
 * landed: its cells become the base. One above it has not (yet): the caller
 * must not read those cells as sheet edits.
 */
export function settleInFlight(state: RowState, rev: number): RowState {
  const f = state.inFlight;
  if (!f || rev < f.rev) return state;
  const s = clone(state);
  for (const [column, value] of Object.entries(f.cells)) {
    setBase(s, column, value, f.rev);
    // The document's edit reached the sheet: nothing left to send for it.
    if (s.docEdits[column]?.key === baseKey(value)) delete s.docEdits[column];
  }
  s.rev = Math.max(s.rev, f.rev);
  s.inFlight = null;
  return s;
}

/**
 * Columns the sheet row read at `rev` says nothing about: sync writes it predates. `landed`
 * false (a read made now, by the server): only a write still in flight may not show yet; a
 * landed write the row does not show was undone (Ctrl-Z of a delete brings the old cells back).
 */
export function maskedColumns(state: RowState, rev: number, landed = true): Set<string> {
  const masked = new Set<string>();
  if (landed) {
    for (const [column, from] of Object.entries(state.baseRev)) if (from > rev) masked.add(column);
  }
  if (state.inFlight && rev < state.inFlight.rev) {
    for (const column of Object.keys(state.inFlight.cells)) masked.add(column);
  }
  return masked;
}

export function setBase(s: RowState, column: string, value: BaseValue, rev: number): void {
  if (baseKey(value) === "") delete s.base[column];
  else s.base[column] = value;
  if (rev > 0) s.baseRev[column] = rev;
  else delete s.baseRev[column];
}

/** Does the sheet still hold the base in every one of `columns`? */
export function matchesBaseRow(
  state: RowState,
  columns: readonly string[],
  valueOf: (column: string) => CellValue | undefined,
): boolean {
  return columns.every((c) => matchesBase(valueOf(c), state.base[c]));
}

/**
 * Does the sheet row under this id hold another item's content? Most of its cells are not what
 * the sync last agreed on, or its first column (where people put what names an item: a code, a
 * name) is not: a sort of the visible columns moved content, and the script has not moved the
 * ids after it yet. Formula cells follow the others (a total changes with its qty): they say
 * nothing of which item it is.
 */
export function looksLikeAnotherItem(
  state: RowState,
  columns: readonly string[],
  cellOf: (column: string) => { value: CellValue | undefined; formula: boolean },
  /** false: the first column alone decides (most cells edited is still the item, edited). */
  byMajority = true,
): boolean {
  const compared = columns.filter(
    (c) => !cellOf(c).formula && (state.base[c] !== undefined || cellOf(c).value !== null),
  );
  const differing = compared.filter((c) => !matchesBase(cellOf(c).value, state.base[c]));
  const first = columns.find((c) => !cellOf(c).formula);
  const renamed =
    first !== undefined && state.base[first] !== undefined && differing.includes(first);
  return compared.length > 1 && (renamed || (byMajority && differing.length * 2 > compared.length));
}

/**
 * Rows of one delivery whose ids the content left: each holds what another row of the delivery
 * last agreed on (every cell is that item's, or its own where a column stayed put) and not its
 * own item's, and the ids so named form whole cycles (every row named holds
 * another's content in turn), each cycle holding a row the sheet has never sent (one the flush
 * appended and the script had not scanned yet). That is a sort of the visible columns the
 * script could not follow (it had no record of that row), not edits: merged as edits, each id
 * would take another item's content. Rows the script knew it follows itself; two of them whose
 * first columns were swapped by typing are edits. A row also edited after the sort (before the
 * script read it) still counts when its first column names one other row's item and at least
 * half of its other cells are that item's or stayed: the script sends it again under its new
 * id, and the edit lands then. With `chains`, also whole chains: a row new to the sync holds an
 * item whose row holds the next one's, and so on, to an item whose row is empty or whose id the
 * delivery deletes (a blank row a sort moved to the end shifted the content by one row); that
 * last id holds "" (it leaves the sheet). Returns id → the id whose item it holds.
 */
export function findMovedRows(
  rows: ReadonlyArray<{
    id: string;
    state: RowState | null;
    /** null: delivered as a delete; `displaced` says the script's matching made it one. */
    values: RowValues | null;
    displaced?: boolean;
  }>,
  columns: readonly string[],
  /** Chains too (the sender takes `holds: ""`), not only cycles. */
  { chains = false }: { chains?: boolean } = {},
): Map<string, string> {
  // (A row the flush appended is live before its flush commits: the append may have landed.)
  const isLive = (s: RowState | null): s is RowState =>
    !!s && (s.inSheet || s.inFlight !== null) && !s.deleted;
  const live = rows.filter((r) => isLive(r.state));
  // Where the content can have gone: rows delivered with content, live or new to the sync.
  const holders = rows.filter(
    (r): r is { id: string; state: RowState | null; values: RowValues } =>
      r.values !== null && ((chains && r.state === null) || isLive(r.state)),
  );
  // An item's row left empty, or its id displaced by the script's matching (a delete no person
  // made): the end of a chain of rows that each took the next one's content (a sort that moved a
  // blank row in).
  const emptied = new Set(
    (chains ? live : [])
      .filter((r) =>
        r.values === null
          ? r.displaced === true
          : columns.every((c) => (r.values![c] ?? null) === null),
      )
      .map((r) => r.id),
  );
  const holds = new Map<string, string>();
  const exact = new Set<string>();
  // An item's row shows its base, or a flush's write the sheet has not confirmed yet (it may
  // have landed).
  const shows = (s: RowState, c: string, value: CellValue | null) =>
    matchesBase(value, s.base[c]) ||
    (s.inFlight !== null && c in s.inFlight.cells && matchesBase(value, s.inFlight.cells[c]));
  const [first, ...rest] = columns;
  for (const row of holders) {
    const own = row.state;
    const cell = (c: string) => ({ value: row.values[c] ?? null, formula: false });
    if (first === undefined || emptied.has(row.id)) continue;
    // A row showing its own item is where it was. One whose first column is its item's can still
    // hold exactly another's cells: two items alike but for a quantity, sorted by it.
    if (own && matchesBaseRow(own, columns, (c) => row.values[c] ?? null)) continue;
    const renamed = own === null || looksLikeAnotherItem(own, columns, cell, false);
    // Each cell is the other item's, or stayed (a column outside the sorted range).
    const kept = (other: RowState, c: string) => {
      const value = row.values[c] ?? null;
      return shows(other, c, value) || (own !== null && shows(own, c, value));
    };
    const owners = live.filter(
      (other) => other.id !== row.id && columns.every((c) => kept(other.state!, c)),
    );
    // With its first column its own, every cell must be the other item's (a cell that stayed
    // proves nothing then).
    const strictly = (other: RowState) =>
      columns.every((c) => shows(other, c, row.values[c] ?? null));
    if (owners.length === 1 && (renamed || strictly(owners[0]!.state!))) {
      holds.set(row.id, owners[0]!.id);
      exact.add(row.id);
      continue;
    }
    if (owners.length > 1 || !renamed) continue;
    const named = live.filter(
      (other) =>
        other.id !== row.id &&
        other.state!.base[first] !== undefined &&
        shows(other.state!, first, row.values[first] ?? null),
    );
    if (named.length !== 1) continue;
    const other = named[0]!.state!;
    const compared = rest.filter(
      (c) => (row.values[c] ?? null) !== null || other.base[c] !== undefined,
    );
    const same = compared.filter((c) => kept(other, c)).length;
    if (same * 2 >= compared.length) holds.set(row.id, named[0]!.id);
  }
  // Whole cycles, or whole chains from a row new to the sync to an emptied one: an id named by
  // one row and not moving itself would end on two rows; a row whose content is named twice is
  // no move. The emptied row holds nothing ("").
  const isNew = new Set(rows.filter((r) => r.state === null).map((r) => r.id));
  const deletes = new Set(rows.filter((r) => r.values === null).map((r) => r.id));
  for (const id of emptied) holds.set(id, "");
  for (let changed = true; changed;) {
    changed = false;
    const named = new Map<string, number>();
    for (const to of holds.values()) if (to) named.set(to, (named.get(to) ?? 0) + 1);
    for (const [from, to] of holds) {
      const ends = to === "" || holds.has(to);
      if (!ends || (to !== "" && named.get(to) !== 1) || (!named.has(from) && !isNew.has(from))) {
        holds.delete(from);
        changed = true;
      }
    }
  }
  // Only moves through a row the script had no record of: it follows the others itself.
  const unsent = new Set(live.filter((r) => r.state!.sheetAt === 0).map((r) => r.id));
  const named = new Map([...holds].filter(([, to]) => to !== "").map(([from, to]) => [to, from]));
  for (const start of [...holds.keys()]) {
    if (!holds.has(start)) continue;
    // From the chain's head (or anywhere in a cycle) to its end.
    let head = start;
    while (named.has(head) && named.get(head) !== start) head = named.get(head)!;
    if (named.get(head) === start) head = start;
    const group = [head];
    for (let id = holds.get(head)!; id !== "" && id !== head; id = holds.get(id)!) group.push(id);
    const last = group[group.length - 1]!;
    const chain = holds.get(last) === "";
    // A chain runs from a row new to the sync to an emptied one; a cycle holds neither. A row a
    // person emptied (not an id the script's matching displaced) ends one only when the new row
    // holds the first item's content exactly: else it is a new item sharing a first column. (A
    // new row's cells outside the sorted range are its own, which the server never saw.)
    const displacedEnd = deletes.has(last);
    const whole = chain
      ? isNew.has(head) && (displacedEnd || exact.has(head))
      : group.every((id) => !isNew.has(id) && !emptied.has(id));
    if (!whole || !group.some((id) => unsent.has(id))) for (const id of group) holds.delete(id);
  }
  return holds;
}

/**
 * The moves a transaction found on its chunk that the whole delivery found too, in whole cycles
 * and chains: a chunk holds fewer rows, and a move the whole delivery ruled out (an item named
 * twice, across chunks) must not come back in one of them.
 */
export function agreedMoves(
  found: ReadonlyMap<string, string>,
  whole: ReadonlyMap<string, string>,
): Map<string, string> {
  const kept = new Map([...found].filter(([id, holds]) => whole.get(id) === holds));
  const namer = new Map([...whole].filter(([, to]) => to !== "").map(([from, to]) => [to, from]));
  for (let changed = true; changed;) {
    changed = false;
    for (const [id, holds] of kept) {
      const by = namer.get(id);
      if ((holds !== "" && !kept.has(holds)) || (by !== undefined && !kept.has(by))) {
        kept.delete(id);
        changed = true;
      }
    }
  }
  return kept;
}

/** Every column of `values` becomes the base, as the sheet holds it from `rev` on. */
export function setBaseRow(s: RowState, values: RowValues, rev: number): void {
  s.base = {};
  s.baseRev = {};
  for (const [column, value] of Object.entries(values)) setBase(s, column, toBase(value), rev);
}

/** The next revision to write into the sheet row: above every one it may hold. */
export function nextRev(state: RowState, sheetRev = 0): number {
  return Math.max(state.rev, state.inFlight?.rev ?? 0, sheetRev) + 1;
}

export type OutboxOp = "upsert" | "delete";

/**
 * What the sheet still needs for this row, derived from the state alone, so
 * every writer (trigger, webhook, flush, reconcile) keeps the outbox right.
 */
export function outboxOpFor(state: RowState, docExists: boolean): OutboxOp | null {
  if (state.parked) return null;
  if (state.deleted) return state.deleted.by === "firestore" && state.inSheet ? "delete" : null;
  if (!docExists) return null; // deleted in Firestore; its event (or the reconcile) records when
  if (!state.inSheet) return "upsert";
  // A write that may not have landed (its flush died): a flush reads the row and settles it.
  if (state.inFlight) return "upsert";
  return Object.keys(state.docEdits).length > 0 ? "upsert" : null;
}

/** When the change the outbox entry stands for happened (the newest Firestore edit or the delete). */
export function outboxChangedAt(state: RowState): number {
  if (state.deleted) return state.deleted.at;
  let at = state.docSeenAt;
  for (const e of Object.values(state.docEdits)) at = Math.max(at, e.at);
  return at;
}

/**
 * A deleted row both sides have forgotten: its state may expire (TTL). Not while a write of the
 * row is in flight: an append that landed must still be recognised as the sync's own.
 */
export function isSettledDelete(state: RowState): boolean {
  return state.deleted !== null && !state.inSheet && state.inFlight === null;
}

/**
 * What the sync last agreed the sheet row holds, as of the sheet write `rev` (a write in flight
 * included: it shows once the row's `_rev` does): for a script that has not scanned the row since
 * (see DescribeRequest), in wire form. Null when not exactly known: no live row, or text kept
 * only as a hash.
 */
export function describedRow(id: string, state: RowState | null): DescribedRow | null {
  if (!state || (!state.inSheet && !state.inFlight) || state.deleted) return null;
  const cells: Record<string, BaseValue> = { ...state.base, ...(state.inFlight?.cells ?? {}) };
  const values: Record<string, WireCell> = {};
  for (const [column, base] of Object.entries(cells)) {
    const value = baseValue(base);
    if (value === undefined) return null;
    if (value !== null) values[column] = toWire(value);
  }
  return { id, rev: state.inFlight?.rev ?? state.rev, values };
}
