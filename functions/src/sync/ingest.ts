/**
 * Sheet → Firestore: a validated webhook batch, row by row through the
 * three-way merge. Rows go in chunks, one transaction each, so a concurrent
 * delivery, trigger or flush of the same rows cannot slip between a read and
 * its write. A row that cannot be stored (too big for a document) is refused
 * alone with its reason.
 */
import type { SheetBatch, SheetRowChange } from "../../../contract/src/schema.js";
import type { RowResult } from "../../../contract/src/wire.js";
import { MAX_DOCUMENT_BYTES } from "../../../contract/src/limits.js";
import { documentBytes } from "../core/docSize.js";
import { mergeSheetDelete, mergeSheetRow } from "../core/merge.js";
import { agreedMoves, findMovedRows, type RowState } from "../core/rowState.js";
import type { RowUpdate, ScheduleFlush, SheetInfo, SyncStore } from "./ports.js";
import { emptyRecord, rowUpdate } from "./rows.js";
import { flushTaskId, windowOf } from "./schedule.js";
import { BYTES_PER_COMMIT, COMMITS_IN_FLIGHT, ROWS_PER_COMMIT } from "./tuning.js";

export interface IngestDeps {
  store: SyncStore;
  schedule: ScheduleFlush;
  now: () => number;
}

export async function ingestBatch(deps: IngestDeps, batch: SheetBatch): Promise<RowResult[]> {
  const { store } = deps;
  const now = deps.now();
  if (batch.changes.length === 0 && batch.rejected.length === 0) {
    await recordRead(store, batch, now);
    return [];
  }
  await recordColumns(store, batch.columns);
  const { chunks, whole } = batch.moves
    ? await chunkKeepingMoves(store, batch)
    : { chunks: chunk(batch.changes), whole: null };
  const results: RowResult[][] = new Array(chunks.length);
  let queued = false;
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const i = next++;
      const part = chunks[i]!;
      const out = await store.update(
        part.map((c) => c.id),
        (rows) => {
          const updates = new Map<string, RowUpdate>();
          const rowResults: RowResult[] = [];
          let anyQueued = false;
          const found = batch.moves
            ? findMovedRows(
                delivered(part, (id) => rows.get(id)?.state ?? null),
                batch.columns,
                { chains: batch.chains },
              )
            : new Map<string, string>();
          const moved = whole ? agreedMoves(found, whole) : found;
          for (const change of part) {
            const holds = moved.get(change.id);
            if (holds !== undefined) {
              // Nothing to merge: the script moves the ids after the content it moved.
              rowResults.push({ id: change.id, op: change.op, outcome: "moved", holds });
              continue;
            }
            if (change.op === "delete" && change.displaced) {
              // No person deleted it and no chain explains it: the reconcile finds out whether
              // its row is gone (a sort's content elsewhere) or back.
              rowResults.push({ id: change.id, op: "delete", outcome: "duplicate" });
              continue;
            }
            const record = rows.get(change.id) ?? emptyRecord(change.id);
            const input = {
              rowId: change.id,
              state: record.state,
              doc: record.doc,
              columns: batch.columns,
              now,
            };
            const decision =
              change.op === "upsert"
                ? mergeSheetRow({
                    ...input,
                    row: {
                      values: change.values,
                      rev: change.rev,
                      modifiedAt: change.modifiedAt,
                      fields: change.fields,
                      fieldsAt: change.fieldsAt,
                    },
                    delivery: { modifiedAt: change.modifiedAt, readAt: batch.readAt },
                  })
                : mergeSheetDelete({
                    ...input,
                    at: change.modifiedAt,
                    delivery: { modifiedAt: change.modifiedAt, readAt: batch.readAt },
                  });
            if (decision.doc?.kind === "set") {
              const after = { ...record.doc?.values, ...decision.doc.values };
              const bytes = documentBytes(store.collection, change.id, after);
              if (bytes > MAX_DOCUMENT_BYTES) {
                rowResults.push({
                  id: change.id,
                  op: change.op,
                  outcome: "rejected",
                  reason: `the row would make a document of ${bytes} bytes; Firestore stores at most ${MAX_DOCUMENT_BYTES}`,
                });
                continue;
              }
            }
            const { update, queued: q } = rowUpdate(record, decision, now);
            updates.set(change.id, update);
            anyQueued ||= q;
            rowResults.push({
              id: change.id,
              op: change.op,
              outcome: decision.outcome,
              ...(decision.conflicts.length ? { conflicts: decision.conflicts.length } : {}),
            });
          }
          return { updates, result: { rowResults, anyQueued } };
        },
      );
      results[i] = out.rowResults;
      queued ||= out.anyQueued;
    }
  };
  await Promise.all(Array.from({ length: Math.min(COMMITS_IN_FLIGHT, chunks.length) }, worker));
  if (queued) {
    const window = windowOf(deps.now());
    await deps.schedule(flushTaskId(store.sheetKey, window.label), window.runAt);
  }
  return results.flat();
}

/** The sheet's columns, for the trigger's reading of documents; written only when they change. */
export async function recordColumns(store: SyncStore, columns: readonly string[]): Promise<void> {
  if (sameColumns((await store.sheet()).columns, columns)) return;
  await store.saveSheet({ columns: [...columns] });
}

function sameColumns(known: readonly string[] | null, columns: readonly string[]): boolean {
  return known !== null && known.join("\u0000") === columns.join("\u0000");
}

/**
 * A webhook without rows: the script read the sheet at `readAt` and had nothing left to send
 * (an idle minute run's report). The reconcile takes it as a read the script made, as it takes a
 * row's webhook. Not later than now: a script clock running ahead would date it too late.
 */
export async function recordRead(store: SyncStore, batch: SheetBatch, now: number): Promise<void> {
  const known = await store.sheet();
  const readAt = Math.min(batch.readAt, now);
  const patch: Partial<SheetInfo> = {};
  if (!sameColumns(known.columns, batch.columns)) patch.columns = [...batch.columns];
  if ((known.scriptReadAt ?? 0) < readAt) patch.scriptReadAt = readAt;
  if (Object.keys(patch).length) await store.saveSheet(patch);
}

/** The rows of a delivery as findMovedRows reads them: a delete has no values. */
function delivered(part: readonly SheetRowChange[], stateOf: (id: string) => RowState | null) {
  return part.map((c) => ({
    id: c.id,
    state: stateOf(c.id),
    values: c.op === "upsert" ? c.values : null,
    displaced: c.op === "delete" && c.displaced,
  }));
}

/**
 * Chunks as `chunk`, but the rows of a move (see findMovedRows) share one, so that its
 * transaction sees the whole cycle or chain: found on a read before, checked again inside
 * (`whole`: what the read found). A delivery of one chunk needs no read before.
 */
async function chunkKeepingMoves(
  store: SyncStore,
  batch: SheetBatch,
): Promise<{ chunks: SheetRowChange[][]; whole: Map<string, string> | null }> {
  const plain = chunk(batch.changes);
  if (plain.length < 2) return { chunks: plain, whole: null };
  const records = await store.read(batch.changes.map((c) => c.id));
  const moved = findMovedRows(
    delivered(batch.changes, (id) => records.get(id)?.state ?? null),
    batch.columns,
    { chains: batch.chains },
  );
  if (moved.size === 0) return { chunks: plain, whole: moved };
  const inMove = batch.changes.filter((c) => moved.has(c.id));
  const cycles: SheetRowChange[][] = [];
  const placed = new Set<string>();
  const named = new Set(moved.values());
  // Chains from their heads first (their end holds nothing: ""), then what is left: cycles.
  for (const c of [...inMove.filter((c) => !named.has(c.id)), ...inMove]) {
    if (placed.has(c.id)) continue;
    const cycle: SheetRowChange[] = [];
    for (let id = c.id; id !== "" && !placed.has(id); id = moved.get(id)!) {
      placed.add(id);
      cycle.push(inMove.find((x) => x.id === id)!);
    }
    cycles.push(cycle);
  }
  // Whole cycles packed together (a cycle longer than a chunk gets one of its own).
  const groups: SheetRowChange[][] = [];
  for (const cycle of cycles) {
    const last = groups[groups.length - 1];
    if (last && last.length + cycle.length <= ROWS_PER_COMMIT) last.push(...cycle);
    else groups.push([...cycle]);
  }
  return {
    chunks: [...groups, ...chunk(batch.changes.filter((c) => !placed.has(c.id)))],
    whole: moved,
  };
}

/** Chunks of at most ROWS_PER_COMMIT rows and about BYTES_PER_COMMIT of values. */
function chunk(changes: readonly SheetRowChange[]): SheetRowChange[][] {
  const chunks: SheetRowChange[][] = [];
  let current: SheetRowChange[] = [];
  let bytes = 0;
  for (const change of changes) {
    const size = change.op === "upsert" ? JSON.stringify(change.values).length * 2 : 64;
    if (current.length && (current.length >= ROWS_PER_COMMIT || bytes + size > BYTES_PER_COMMIT)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(change);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}
