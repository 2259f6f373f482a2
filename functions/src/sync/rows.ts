/**
 * From a row decision to the writes of one row: the state when it changed,
 * the document write, the conflicts, and the outbox entry the new state
 * calls for.
 */
import type { Conflict } from "../core/conflicts.js";
import type { DocWrite } from "../core/merge.js";
import { outboxUpdate } from "../core/outbox.js";
import { sameStoredState, type RowState } from "../core/rowState.js";
import type { RowRecord, RowUpdate } from "./ports.js";

export interface Decided {
  state: RowState;
  doc: DocWrite | null;
  conflicts: Conflict[];
}

/**
 * The state to store with a document write: a write that creates the document makes a new
 * incarnation whose create time only the commit knows, so the next reading adopts it (rather
 * than take the sync's own create for an app's delete and restore).
 */
export function stateWithWrite(record: RowRecord, doc: DocWrite | null, state: RowState): RowState {
  return doc?.kind === "set" && record.doc === null && state.docCreatedAt !== 0
    ? { ...state, docCreatedAt: 0 }
    : state;
}

export function rowUpdate(
  record: RowRecord,
  decision: Decided,
  now: number,
): { update: RowUpdate; queued: boolean } {
  const update: RowUpdate = {};
  const state = stateWithWrite(record, decision.doc, decision.state);
  if (record.state === null || !sameStoredState(record.state, state)) {
    update.state = state;
  }
  if (decision.doc) update.doc = decision.doc;
  if (decision.conflicts.length) update.conflicts = decision.conflicts;
  const docExists = decision.doc ? decision.doc.kind === "set" : record.doc !== null;
  const outbox = outboxUpdate(record.rowId, record.outbox, state, docExists, now);
  if (outbox !== undefined) update.outbox = outbox;
  return { update, queued: outbox != null };
}

export const emptyRecord = (rowId: string): RowRecord => ({
  rowId,
  doc: null,
  state: null,
  outbox: null,
});
