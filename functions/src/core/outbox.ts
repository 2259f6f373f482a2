/**
 * The Firestore → sheet outbox: one entry per row the sheet still needs to
 * change. An entry is derived from the row's state (see outboxOpFor), so
 * every writer keeps it right; it holds ids and times only, and the flush
 * reads the current document.
 */
import { outboxChangedAt, outboxOpFor, type OutboxOp, type RowState } from "./rowState.js";

export interface OutboxEntry {
  rowId: string;
  op: OutboxOp;
  /** When the change it stands for happened (ms). */
  changedAt: number;
  /** When the entry last changed, and when it was first queued (the flush's debounce). */
  queuedAt: number;
  firstQueuedAt: number;
}

/**
 * The entry a row needs now: undefined when the current one is still right
 * (so a flush in progress can tell the entry did not move), null when none.
 */
export function outboxUpdate(
  rowId: string,
  current: OutboxEntry | null,
  state: RowState,
  docExists: boolean,
  now: number,
): OutboxEntry | null | undefined {
  const op = outboxOpFor(state, docExists);
  if (op === null) return current ? null : undefined;
  const changedAt = outboxChangedAt(state);
  if (current && current.op === op && current.changedAt === changedAt) return undefined;
  return { rowId, op, changedAt, queuedAt: now, firstQueuedAt: current?.firstQueuedAt ?? now };
}
