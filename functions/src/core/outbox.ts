/**
 * The Firestore → sheet outbox: one entry per row waiting to be flushed to
 * its sheet. Entries hold ids and times only; the flush reads the current
 * documents, so a burst of edits to one row is one entry and one write.
 */
export interface OutboxEntry {
  rowId: string;
  op: "upsert" | "delete";
  /** When the document change happened (ms): the version the sheet's `_modified` is checked against. */
  changedAt: number;
}

/** Two entries for the same row: the later change wins; at the same ms a delete wins. */
export function coalesce(a: OutboxEntry | null, b: OutboxEntry): OutboxEntry {
  if (!a) return b;
  if (a.changedAt !== b.changedAt) return a.changedAt > b.changedAt ? a : b;
  return a.op === "delete" ? a : b;
}
