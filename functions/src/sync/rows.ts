/**
 * From a row decision to the writes of one row: the state when it changed,
 * the document write, the conflicts, and the outbox entry the new state
 * calls for.
 */
import type { Conflict } from "../core/conflicts.js";
import type { DocWrite } from "../core/merge.js";
import { outboxUpdate } from "../core/outbox.js";
import type { RowState } from "../core/rowState.js";
import type { RowRecord, RowUpdate } from "./ports.js";

export interface Decided {
  state: RowState;
  doc: DocWrite | null;
  conflicts: Conflict[];
}

export function rowUpdate(
  record: RowRecord,
  decision: Decided,
  now: number,
): { update: RowUpdate; queued: boolean } {
  const update: RowUpdate = {};
  if (record.state === null || JSON.stringify(record.state) !== JSON.stringify(decision.state)) {
    update.state = decision.state;
  }
  if (decision.doc) update.doc = decision.doc;
  if (decision.conflicts.length) update.conflicts = decision.conflicts;
  const docExists = decision.doc ? decision.doc.kind === "set" : record.doc !== null;
  const outbox = outboxUpdate(record.rowId, record.outbox, decision.state, docExists, now);
  if (outbox !== undefined) update.outbox = outbox;
  return { update, queued: outbox != null };
}

export const emptyRecord = (rowId: string): RowRecord => ({
  rowId,
  doc: null,
  state: null,
  outbox: null,
});
