/**
 * A row document was written or deleted (the Firestore trigger). The event
 * is only a nudge: the decision is made on the document as it is now, inside
 * a transaction, so duplicate, late and reordered deliveries settle the same
 * way. The event's time matters only for a delete: it is when the delete
 * happened, and decides against a sheet edit.
 */
import { isRowId } from "../../../contract/src/limits.js";
import { recordDocEvent } from "../core/merge.js";
import type { ScheduleFlush, SyncStore } from "./ports.js";
import { emptyRecord, rowUpdate } from "./rows.js";
import { flushTaskId, windowOf } from "./schedule.js";

export interface DocEventDeps {
  store: SyncStore;
  schedule: ScheduleFlush;
  now: () => number;
}

export type DocEventOutcome = "queued" | "recorded" | "unchanged";

export async function handleDocEvent(
  deps: DocEventDeps,
  rowId: string,
  event: { at: number; isDelete: boolean },
): Promise<DocEventOutcome> {
  const { store } = deps;
  // (No sheet row can hold such an id: the script would re-key the row, a second document.)
  if (!isRowId(rowId)) return "unchanged";
  const known = (await store.sheet()).columns;
  const now = deps.now();
  const outcome = await store.update([rowId], (rows) => {
    const record = rows.get(rowId) ?? emptyRecord(rowId);
    // Until the sheet has told its columns, every field of the document is one.
    const columns = known ?? Object.keys(record.doc?.values ?? {});
    const decision = recordDocEvent({
      rowId,
      state: record.state,
      doc: record.doc,
      columns,
      event,
      now,
    });
    const { update, queued } = rowUpdate(record, decision, now);
    const result: DocEventOutcome = queued
      ? "queued"
      : Object.keys(update).length
        ? "recorded"
        : "unchanged";
    return { updates: new Map([[rowId, update]]), result };
  });
  if (outcome === "queued") {
    // The window of when the outbox entry was written, not of when the event happened.
    const window = windowOf(deps.now());
    await deps.schedule(flushTaskId(store.sheetKey, window.label), window.runAt);
  }
  return outcome;
}
