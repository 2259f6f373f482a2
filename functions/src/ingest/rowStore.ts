/**
 * Firestore side of ingestion: reads the current state of a batch's rows in
 * bulk and commits the core's plan, one transaction per chunk of rows, so a
 * concurrent delivery of the same rows can never interleave between the
 * read and the write (last-write-wins needs that on real Firestore).
 */
import {
  FieldPath,
  Timestamp,
  type DocumentData,
  type DocumentSnapshot,
  type Firestore,
  type Transaction,
} from "firebase-admin/firestore";
import type { RowChange, SheetBatch } from "../core/batch.js";
import { SYNC_FIELD } from "../core/batch.js";
import {
  planIngest,
  type Conflict,
  type RowResult,
  type RowState,
  type RowWrite,
  type StoredRow,
  type Tombstone,
} from "../core/ingest.js";
import type { CellValue, RowValues } from "../core/values.js";
import { contentHash, isInSync, type SyncMeta } from "../core/echo.js";
import {
  COMMITS_IN_FLIGHT,
  CONFLICTS_COLLECTION,
  OUTBOX_COLLECTION,
  ROWS_PER_COMMIT,
  SHEETS_COLLECTION,
  TOMBSTONES_COLLECTION,
  sheetKey,
  type SyncConfig,
} from "../config.js";

export function tombstoneId(collection: string, rowId: string): string {
  return `${collection}:${rowId}`;
}

/** The outbox document of a row waiting to go to its sheet. */
export function outboxId(collection: string, rowId: string): string {
  return `${collection}:${rowId}`;
}

export function conflictId(collection: string, key: string): string {
  return `${collection}:${key}`;
}

export async function ingestBatch(
  db: Firestore,
  batch: SheetBatch,
  config: SyncConfig,
  now: number,
): Promise<RowResult[]> {
  await recordSheetColumns(db, batch);
  const chunks: RowChange[][] = [];
  for (let i = 0; i < batch.changes.length; i += ROWS_PER_COMMIT) {
    chunks.push(batch.changes.slice(i, i + ROWS_PER_COMMIT));
  }
  const results: RowResult[][] = new Array(chunks.length);
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const i = next++;
      results[i] = await db.runTransaction((tx) =>
        ingestChunk(db, tx, chunks[i]!, batch, config, now),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(COMMITS_IN_FLIGHT, chunks.length) }, worker));
  return results.flat();
}

async function ingestChunk(
  db: Firestore,
  tx: Transaction,
  changes: RowChange[],
  batch: SheetBatch,
  config: SyncConfig,
  now: number,
): Promise<RowResult[]> {
  const rows = db.collection(config.collection);
  const tombstones = db.collection(TOMBSTONES_COLLECTION);
  const conflicts = db.collection(CONFLICTS_COLLECTION);

  const rowRefs = changes.map((c) => rows.doc(c.id));
  const tombRefs = changes.map((c) => tombstones.doc(tombstoneId(config.collection, c.id)));
  const snaps = await tx.getAll(...rowRefs, ...tombRefs);
  const states = new Map<string, RowState>();
  changes.forEach((c, i) => {
    states.set(c.id, {
      row: readRow(snaps[i]!, batch.columns),
      tombstone: readTombstone(snaps[changes.length + i]!),
    });
  });

  // Rows last changed in Firestore may have an edit still on its way to the sheet.
  const fromFirestore = changes.filter((c) => states.get(c.id)?.row?.origin === "firestore");
  if (fromFirestore.length) {
    const outbox = db.collection(OUTBOX_COLLECTION);
    const pending = await tx.getAll(
      ...fromFirestore.map((c) => outbox.doc(outboxId(config.collection, c.id))),
    );
    pending.forEach((snap, i) => {
      const changedAt = snap.get("changedAt");
      if (snap.exists && snap.get("op") === "upsert" && typeof changedAt === "number") {
        states.get(fromFirestore[i]!.id)!.pendingToSheet = changedAt;
      }
    });
  }

  const plan = planIngest(changes, states, {
    now,
    tombstoneRetentionMs: config.tombstoneRetentionMs,
  });

  // A conflict already on record (a redelivered older change) is left as it is.
  const conflictWrites = plan.writes.filter((w) => w.kind === "recordConflict");
  const recorded = new Set<string>();
  if (conflictWrites.length) {
    const refs = conflictWrites.map((w) =>
      conflicts.doc(conflictId(config.collection, w.conflict.key)),
    );
    for (const snap of await tx.getAll(...refs)) if (snap.exists) recorded.add(snap.id);
  }

  const sheet = { spreadsheetId: batch.spreadsheetId, sheetName: batch.sheetName };
  for (const w of plan.writes) {
    applyWrite(w);
  }
  return plan.results;

  function applyWrite(w: RowWrite): void {
    switch (w.kind) {
      case "putRow": {
        const data: DocumentData = { ...w.values };
        data[SYNC_FIELD] = {
          origin: "sheet",
          modifiedAt: w.modifiedAt,
          hash: w.hash,
          fields: w.fields,
          columns: batch.columns,
          inSheet: true,
          ...sheet,
          syncedAt: Timestamp.fromMillis(now),
        };
        // Only the sheet's columns and _sync: fields an app added to the document survive.
        const mergeFields = [...Object.keys(w.values).map((k) => new FieldPath(k)), SYNC_FIELD];
        tx.set(rows.doc(w.id), data, { mergeFields });
        return;
      }
      case "deleteRow":
        tx.delete(rows.doc(w.id));
        return;
      case "putTombstone":
        tx.set(
          tombstones.doc(tombstoneId(config.collection, w.id)),
          tombstoneData(w.id, w.tombstone),
        );
        return;
      case "removeTombstone":
        tx.delete(tombstones.doc(tombstoneId(config.collection, w.id)));
        return;
      case "recordConflict": {
        const id = conflictId(config.collection, w.conflict.key);
        if (!recorded.has(id)) tx.create(conflicts.doc(id), conflictData(w.conflict));
        return;
      }
    }
  }

  function tombstoneData(rowId: string, t: Tombstone): DocumentData {
    // expireAt drives the Firestore TTL policy declared in firestore.indexes.json.
    return {
      collection: config.collection,
      rowId,
      deletedAt: t.deletedAt,
      expireAt: Timestamp.fromMillis(t.expiresAt),
      ...sheet,
    };
  }

  function conflictData(c: Conflict): DocumentData {
    return {
      collection: config.collection,
      rowId: c.rowId,
      rule: "last-write-wins",
      detectedAt: Timestamp.fromMillis(now),
      kept: c.kept,
      rejected: c.rejected,
      ...sheet,
    };
  }
}

/** The sheet's data columns, kept for the trigger's echo check; written only when they change. */
async function recordSheetColumns(db: Firestore, batch: SheetBatch): Promise<void> {
  const ref = db.collection(SHEETS_COLLECTION).doc(sheetKey(batch.spreadsheetId, batch.sheetName));
  const snap = await ref.get();
  const known = snap.get("columns");
  if (Array.isArray(known) && known.join("\u0000") === batch.columns.join("\u0000")) return;
  await ref.set(
    { spreadsheetId: batch.spreadsheetId, sheetName: batch.sheetName, columns: batch.columns },
    { merge: true },
  );
}

export function readSyncMeta(data: DocumentData): SyncMeta | null {
  const sync = data[SYNC_FIELD];
  if (!sync || typeof sync !== "object") return null;
  const s = sync as Record<string, unknown>;
  if (typeof s.hash !== "string" || typeof s.modifiedAt !== "number") return null;
  return {
    origin: s.origin === "sheet" ? "sheet" : "firestore",
    modifiedAt: s.modifiedAt,
    hash: s.hash,
    columns: Array.isArray(s.columns)
      ? s.columns.filter((c): c is string => typeof c === "string")
      : [],
    inSheet: s.inSheet === true,
  };
}

export function rowValues(data: DocumentData): RowValues {
  const values: RowValues = {};
  for (const [key, value] of Object.entries(data)) {
    if (key !== SYNC_FIELD) values[key] = toCell(value);
  }
  return values;
}

/**
 * A stored document as the core sees a row. A document whose columns no
 * longer match its `_sync.hash` was edited outside the sync and that edit is
 * not yet recorded: its version is its update time, so an older sheet change
 * cannot overwrite it while the trigger catches up.
 */
export function readRow(
  snap: DocumentSnapshot,
  sheetColumns: readonly string[] | null = null,
): StoredRow | null {
  if (!snap.exists) return null;
  const data = snap.data() ?? {};
  const values = rowValues(data);
  const sync = readSyncMeta(data);
  if (sync && isInSync(values, sync, sheetColumns)) {
    return { values, modifiedAt: sync.modifiedAt, hash: sync.hash, origin: sync.origin };
  }
  return {
    values,
    modifiedAt: snap.updateTime!.toMillis(),
    hash: sheetColumns ? contentHash(values, sheetColumns) : null,
    origin: "firestore",
  };
}

function readTombstone(snap: DocumentSnapshot): Tombstone | null {
  if (!snap.exists) return null;
  const deletedAt = snap.get("deletedAt");
  const expireAt = snap.get("expireAt");
  if (typeof deletedAt !== "number" || !(expireAt instanceof Timestamp)) return null;
  return { deletedAt, expiresAt: expireAt.toMillis() };
}

/** A stored field as a cell: Timestamps back to Dates; anything a sheet cannot hold as text. */
function toCell(value: unknown): CellValue {
  if (
    value === null ||
    typeof value === "string" ||
    typeof value === "number" ||
    typeof value === "boolean"
  ) {
    return value;
  }
  if (value instanceof Timestamp) return value.toDate();
  return JSON.stringify(value);
}
