/**
 * A row document was written. If the write is a person's or an app's change
 * (not the ingest's echo of a sheet edit, nor this module's own
 * bookkeeping), record it: stamp the document's `_sync` with the change's
 * version, queue the row in the outbox, and make sure a flush is scheduled.
 * The event is only a nudge: the decision is made on the document as it is
 * now, inside a transaction, so duplicate and out-of-order deliveries settle
 * to the same state.
 */
import { Timestamp, type Firestore } from "firebase-admin/firestore";
import { checkedColumns, contentHash, isInSync } from "../core/echo.js";
import { coalesce, type OutboxEntry } from "../core/outbox.js";
import { SYNC_FIELD } from "../core/batch.js";
import {
  OUTBOX_COLLECTION,
  SHEETS_COLLECTION,
  TOMBSTONES_COLLECTION,
  sheetKey,
  type SyncConfig,
} from "../config.js";
import { outboxId, readSyncMeta, rowValues, tombstoneId } from "../ingest/rowStore.js";

export type TriggerOutcome = "queued_upsert" | "queued_delete" | "echo" | "already_deleted";

export function readOutboxEntry(
  data: FirebaseFirestore.DocumentData | undefined,
): OutboxEntry | null {
  if (!data) return null;
  const { rowId, op, changedAt } = data;
  if (
    typeof rowId !== "string" ||
    (op !== "upsert" && op !== "delete") ||
    typeof changedAt !== "number"
  )
    return null;
  return { rowId, op, changedAt };
}

export interface RowEvent {
  /** The event's time: for a delete, when the document was deleted. */
  timeMs: number;
  /** The event is the document's deletion (not an earlier write arriving late). */
  isDelete: boolean;
  now: number;
}

export async function recordRowWrite(
  db: Firestore,
  config: SyncConfig,
  rowId: string,
  event: RowEvent,
): Promise<{ outcome: TriggerOutcome; entry: OutboxEntry | null }> {
  const { now } = event;
  const key = sheetKey(config.spreadsheetId, config.sheetName);
  const sheetDoc = await db.collection(SHEETS_COLLECTION).doc(key).get();
  const knownColumns = sheetDoc.get("columns");
  const sheetColumns = Array.isArray(knownColumns) ? (knownColumns as string[]) : null;

  const rowRef = db.collection(config.collection).doc(rowId);
  const tombRef = db.collection(TOMBSTONES_COLLECTION).doc(tombstoneId(config.collection, rowId));
  const outRef = db.collection(OUTBOX_COLLECTION).doc(outboxId(config.collection, rowId));

  return db.runTransaction(async (tx) => {
    const [row, tomb, out] = await tx.getAll(rowRef, tombRef, outRef);
    const queued = readOutboxEntry(out!.data());
    const queue = (entry: OutboxEntry) => {
      const merged = coalesce(queued, entry);
      tx.set(outRef, {
        ...merged,
        collection: config.collection,
        spreadsheetId: config.spreadsheetId,
        sheetName: config.sheetName,
        sheetKey: key,
        queuedAt: now,
        firstQueuedAt:
          typeof out!.get("firstQueuedAt") === "number" && queued ? out!.get("firstQueuedAt") : now,
      });
      return merged;
    };

    if (row!.exists) {
      const data = row!.data()!;
      const values = rowValues(data);
      const sync = readSyncMeta(data);
      if (isInSync(values, sync, sheetColumns)) return { outcome: "echo" as const, entry: null };
      const changedAt = row!.updateTime!.toMillis();
      // Stamped as a Firestore row from now on, so check it the way the next event will.
      const columns = checkedColumns(
        values,
        sync ? { ...sync, origin: "firestore" } : null,
        sheetColumns,
      );
      tx.update(rowRef, {
        [`${SYNC_FIELD}.origin`]: "firestore",
        [`${SYNC_FIELD}.modifiedAt`]: changedAt,
        [`${SYNC_FIELD}.hash`]: contentHash(values, columns),
        [`${SYNC_FIELD}.columns`]: columns,
        [`${SYNC_FIELD}.syncedAt`]: Timestamp.fromMillis(now),
      });
      if (tomb!.exists) tx.delete(tombRef);
      return {
        outcome: "queued_upsert" as const,
        entry: queue({ rowId, op: "upsert", changedAt }),
      };
    }

    // Gone. A tombstone means the sheet deleted it (the ingest wrote one) or this delete is already queued.
    if (tomb!.exists) return { outcome: "already_deleted" as const, entry: null };
    // A late event of an earlier write: the delete's own event records it, with the delete's time.
    if (!event.isDelete) return { outcome: "already_deleted" as const, entry: null };
    const eventTimeMs = event.timeMs;
    tx.set(tombRef, {
      collection: config.collection,
      rowId,
      deletedAt: eventTimeMs,
      expireAt: Timestamp.fromMillis(now + config.tombstoneRetentionMs),
      origin: "firestore",
      spreadsheetId: config.spreadsheetId,
      sheetName: config.sheetName,
    });
    return {
      outcome: "queued_delete" as const,
      entry: queue({ rowId, op: "delete", changedAt: eventTimeMs }),
    };
  });
}
