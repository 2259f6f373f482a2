/**
 * Anti-entropy: compare the sheet with Firestore row by row and repair each
 * difference by the same rule as every other path (the three-way merge), so a
 * lost webhook, a lost trigger event or a sheet that was unreachable longer
 * than a tombstone lives ends with both sides equal.
 *
 * The reconcile reads the whole sheet's values once. Rows whose cells already
 * show the document's values are settled from the document alone; only rows
 * that differ need their typed cells (dates, formulas) read again.
 */
import { dateToSerial } from "./cells.js";
import { mergeSheetDelete, mergeSheetRow, type RowDecision, type SheetRow } from "./merge.js";
import {
  emptyRowState,
  looksLikeAnotherItem,
  matchesBaseRow,
  observeDoc,
  outboxOpFor,
  sameStoredState,
  type DocSnapshot,
  type RowState,
} from "./rowState.js";
import {
  baseKey,
  matchesBase,
  normalize,
  sameValue,
  valueKey,
  type CellValue,
  type RowValues,
} from "./values.js";

export type Finding =
  /** Both sides and the state agree. */
  | "in-sync"
  /** Both sides agree; the sync's own record of the row was repaired. */
  | "state-repaired"
  /** The sheet had changes Firestore did not: applied. */
  | "sheet-to-firestore"
  /** Firestore had changes the sheet did not: queued for the flush. */
  | "firestore-to-sheet"
  /** Both changed the same thing: decided and recorded. */
  | "conflict"
  | "new-in-sheet"
  | "new-in-firestore"
  | "deleted-in-sheet"
  | "deleted-in-firestore"
  /** Changed by a webhook, a flush or an event after the reads: left to them. */
  | "changed-meanwhile"
  /**
   * The row under this id holds another item's content (a sort of the visible columns the
   * script has not caught up with yet): left to the script, which moves the ids.
   */
  | "looks-moved"
  /**
   * A document whose id no sheet row can hold (`isRowId`: spaces, `@`, …): left alone, as its
   * trigger events are (the script would give such a row a new id, and the reconcile would then
   * take the document for deleted in the sheet).
   */
  | "unusable-id";

export interface ReconcileInput {
  rowId: string;
  state: RowState | null;
  doc: DocSnapshot | null;
  columns: readonly string[];
  /** The row as the sheet shows it (typed), or null when its id is not in the sheet. */
  sheetRow: SheetRow | null;
  /** The row's cells that hold formulas. */
  sheetFormulas?: ReadonlySet<string>;
  /**
   * The row shows exactly another item's last agreed cells, not its own (see heldItems): moved
   * content, whatever its first column says (an item whose base has no first column yet).
   */
  holdsAnother?: boolean;
  /** The latest time the script read the sheet for a webhook the sync took (any row's). */
  scriptReadAt?: number;
  now: number;
}

export interface ReconcileDecision extends RowDecision {
  finding: Finding;
}

export function reconcileRow(input: ReconcileInput): ReconcileDecision {
  const { state, doc, sheetRow } = input;
  // The first column only: the reconcile is what repairs a row whose many edits' webhooks were
  // not taken (the flush, which the reconcile un-parks, is more careful).
  const moved =
    sheetRow !== null &&
    state?.inSheet === true &&
    (input.holdsAnother === true ||
      // A row the flush wrote that the script has not sent since: the script follows what a sort
      // did to it (it asks what was written) and sends what a person changed; a merge here could
      // take a sort's doing for an edit, and the script would not send the row to correct it.
      (state.sheetAt === 0 &&
        state.rev > 0 &&
        !matchesBaseRow(state, input.columns, (c) => sheetRow.values[c])) ||
      // Cells that changed under the script's last stamp of the row (and no sync write since):
      // the script has not looked at them yet. A sort of the visible columns does this too, and
      // it may bring content no record knows (a row new to the sync): the script tells which.
      // (Formula cells left out: `=NOW()` changes under every stamp, and the script resends it.)
      (state.sheetAt > 0 &&
        sheetRow.modifiedAt <= state.sheetAt &&
        sheetRow.rev <= state.rev &&
        !matchesBaseRow(
          state,
          input.columns.filter((c) => !input.sheetFormulas?.has(c)),
          (c) => sheetRow.values[c],
        )) ||
      looksLikeAnotherItem(
        state,
        input.columns,
        (c) => ({ value: sheetRow.values[c], formula: input.sheetFormulas?.has(c) ?? false }),
        false,
      ));
  // Deleted already: the content there is not this item's, so it cannot bring it back either.
  // Left to the script, which moves the ids at its next scan. The same cells still there after a
  // scan the script made since (a webhook it sent from a later read of the sheet) are no move it
  // will follow: it holds the row for in sync, and only a merge brings the sides together.
  const cells = sheetRow ? rowCells(sheetRow, input.columns) : "";
  const since = state?.movedSince?.cells === cells ? state.movedSince.at : null;
  const stuck = since !== null && (input.scriptReadAt ?? 0) > since + STUCK_MOVE_MARGIN_MS;
  if (moved && !stuck && (doc || state.deleted)) {
    if (since !== null) {
      return { state, doc: null, conflicts: [], outcome: "duplicate", finding: "looks-moved" };
    }
    const s: RowState = { ...state, movedSince: { at: input.now, cells } };
    return { state: s, doc: null, conflicts: [], outcome: "applied", finding: "looks-moved" };
  }
  if (moved && stuck && state?.deleted) {
    return { state, doc: null, conflicts: [], outcome: "duplicate", finding: "looks-moved" };
  }
  if (moved && state && !doc) {
    // Deleted in Firestore while its row holds another item (a sort the script has not followed
    // yet): that row's cells and `_modified` are not this item's, so they cannot undo the delete.
    // It is recorded as of when the document was last seen (a later sheet edit still beats it);
    // the flush removes the row once the script has moved the ids after the content.
    const s: RowState = {
      ...state,
      deleted: { at: state.docSeenAt || input.now, by: "firestore" },
      docEdits: {},
      provisional: null,
      parked: false,
    };
    return {
      state: s,
      doc: null,
      conflicts: [],
      outcome: "applied",
      finding: "deleted-in-firestore",
    };
  }
  const settled = state?.movedSince ? { ...input, state: withoutMovedSince(state) } : input;
  const decision = sheetRow
    ? mergeSheetRow({ ...settled, row: sheetRow, delivery: null })
    : doc
      ? observeOnly(settled, doc)
      : bothGone(settled);
  return { ...decision, finding: findingOf(settled, decision, state, doc, sheetRow) };
}

/** A script read this much after a row was found moved saw the sheet as it was then, or later. */
export const STUCK_MOVE_MARGIN_MS = 60 * 1000;

/** A row's cells, as one text: to tell the same cells from another sort's. */
function rowCells(row: SheetRow, columns: readonly string[]): string {
  return JSON.stringify(columns.map((c) => valueKey(row.values[c] ?? null)));
}

function withoutMovedSince(state: RowState): RowState {
  const { movedSince: _, ...rest } = state;
  return rest;
}

/**
 * Which rows show exactly another live item's last agreed cells (and not their own), or, for a
 * row whose item has no first column, another's first column: content a sort of the visible
 * columns moved, which the script has not followed yet. Looked up by the first column, so a whole
 * tab costs one pass.
 */
export function heldItems(
  states: Iterable<readonly [string, RowState | null]>,
  columns: readonly string[],
): (rowId: string, values: RowValues) => string | null {
  const [first] = columns;
  const byFirst = new Map<string, Array<[string, RowState]>>();
  const own = new Map<string, RowState>();
  for (const [id, s] of states) {
    if (!s?.inSheet || s.deleted) continue;
    own.set(id, s);
    if (first === undefined || s.base[first] === undefined) continue;
    const key = baseKey(s.base[first]);
    byFirst.set(key, [...(byFirst.get(key) ?? []), [id, s]]);
  }
  const shows = (s: RowState, values: RowValues) =>
    columns.every((c) => matchesBase(values[c] ?? null, s.base[c]));
  return (rowId, values) => {
    if (first === undefined) return null;
    const mine = own.get(rowId);
    if (mine && shows(mine, values)) return null;
    const named = (byFirst.get(valueKey(values[first] ?? null)) ?? []).filter(
      ([id]) => id !== rowId,
    );
    const found = named.filter(([, s]) => shows(s, values));
    // (Several items alike: which of them a sort moved here is the script's to say; that the row
    // holds another item's content, not an edit of its own, is plain.)
    if (found.length >= 1) return found[0]![0];
    // A row whose item never had a first column, now showing one other item's (edited since, so
    // not exactly): content a sort moved there, not a code typed in (its webhook says so if it is).
    if (found.length === 0 && named.length === 1 && mine && mine.base[first] === undefined) {
      return named[0]![0];
    }
    return null;
  };
}

function observeOnly(input: ReconcileInput, doc: DocSnapshot): RowDecision {
  const s = observeDoc(input.state ?? emptyRowState(), doc, input.columns);
  // It was in the sheet and is not: deleted there, at a time the reconcile cannot know.
  if (s.inSheet) return mergeSheetDelete({ ...input, at: null, delivery: null });
  // A row set aside (refused by the Sheets API, or waiting for a webhook that never came) gets
  // another try: the flush sets it aside again if the cause is still there.
  return { state: { ...s, parked: false }, doc: null, conflicts: [], outcome: "applied" };
}

function bothGone(input: ReconcileInput): RowDecision {
  const prior = input.state ?? emptyRowState();
  const s: RowState = {
    ...prior,
    deleted: prior.deleted ?? { at: input.now, by: "firestore" },
    inSheet: false,
    base: {},
    baseRev: {},
    docEdits: {},
    provisional: null,
    parked: false,
    inFlight: null,
  };
  return { state: s, doc: null, conflicts: [], outcome: "applied" };
}

function findingOf(
  input: ReconcileInput,
  d: RowDecision,
  before: RowState | null,
  doc: DocSnapshot | null,
  sheetRow: SheetRow | null,
): Finding {
  if (d.conflicts.length) return "conflict";
  if (d.doc?.kind === "delete") return "deleted-in-sheet";
  if (d.doc?.kind === "set") return before === null && !doc ? "new-in-sheet" : "sheet-to-firestore";
  const docExists = doc !== null;
  const op = outboxOpFor(d.state, docExists);
  if (op === "delete") return "deleted-in-firestore";
  if (op === "upsert") return sheetRow ? "firestore-to-sheet" : "new-in-firestore";
  if (before && !sameStoredState(before, d.state)) {
    // Nothing to move, but the record changed: a delete or edit the sync had not recorded.
    if (!docExists && !before.deleted && d.state.deleted) return "deleted-in-firestore";
    return "state-repaired";
  }
  return before || docExists || !input.sheetRow ? "in-sync" : "new-in-sheet";
}

/**
 * Does the sheet already show the document's values? Read from the cheap
 * values read, where a date cell is a serial number: compared against the
 * document's date in the sheet's time zone.
 */
export function showsDocument(
  cells: Record<string, CellValue>,
  doc: DocSnapshot,
  columns: readonly string[],
  timeZone: string,
): boolean {
  return columns.every((c) => {
    const cell = normalize(cells[c]);
    const value = normalize(doc.values[c]);
    if (value instanceof Date && typeof cell === "number") {
      return Math.abs(cell - dateToSerial(value, timeZone)) * 86_400_000 < 0.5;
    }
    return sameValue(cell, value);
  });
}

/** The document's own values for `columns`: what a sheet row showing the document holds. */
export function documentRow(doc: DocSnapshot, columns: readonly string[]): RowValues {
  return Object.fromEntries(columns.map((c) => [c, normalize(doc.values[c])]));
}
