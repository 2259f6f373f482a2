import { toAsciiJson } from "../../../contract/src/cells";
import { MAX_REQUEST_BYTES, MAX_ROWS_PER_REQUEST } from "../../../contract/src/limits";
import {
  encodeBody,
  type Batch,
  type ChangeItem,
  type DeleteItem,
  type Envelope,
} from "../../../contract/src/wire";

export { encodeBody, type Batch, type ChangeItem, type DeleteItem, type Envelope };

/**
 * Packs items into batches of at most `maxRows` rows and about `maxBytes` of
 * body. A single item larger than `maxBytes` still gets a batch of its own
 * (the server may accept it; a 413 is then reported for that row alone).
 */
export function makeBatches(
  envelope: Envelope,
  changes: readonly ChangeItem[],
  deletes: readonly DeleteItem[],
  maxRows = MAX_ROWS_PER_REQUEST,
  maxBytes = MAX_REQUEST_BYTES,
): Batch[] {
  const base = encodeBody(envelope, { changes: [], deletes: [] }).length;
  const batches: Batch[] = [];
  let current: Batch = { changes: [], deletes: [] };
  let bytes = base;
  const add = (item: ChangeItem | DeleteItem, kind: "changes" | "deletes"): void => {
    const size = toAsciiJson(item).length + 1; // + separating comma
    const rows = current.changes.length + current.deletes.length;
    if (rows > 0 && (rows >= maxRows || bytes + size > maxBytes)) {
      batches.push(current);
      current = { changes: [], deletes: [] };
      bytes = base;
    }
    if (kind === "changes") current.changes.push(item as ChangeItem);
    else current.deletes.push(item);
    bytes += size;
  };
  for (const item of deletes) add(item, "deletes");
  for (const item of changes) add(item, "changes");
  if (current.changes.length + current.deletes.length > 0) batches.push(current);
  return batches;
}

/** Halves a batch (for 413); null when it holds a single row. */
export function splitBatch(batch: Batch): [Batch, Batch] | null {
  const items = [
    ...batch.deletes.map((d) => ({ kind: "d" as const, d })),
    ...batch.changes.map((c) => ({ kind: "c" as const, c })),
  ];
  if (items.length < 2) return null;
  const half = Math.ceil(items.length / 2);
  const toBatch = (part: typeof items): Batch => ({
    deletes: part.flatMap((i) => (i.kind === "d" ? [i.d] : [])),
    changes: part.flatMap((i) => (i.kind === "c" ? [i.c] : [])),
  });
  return [toBatch(items.slice(0, half)), toBatch(items.slice(half))];
}
