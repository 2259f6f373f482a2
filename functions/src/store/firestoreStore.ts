/**
 * SyncStore on Firestore (Admin SDK): each `update` is one transaction that
 * reads the rows' documents, states and outbox entries together, lets the
 * core decide, then writes, so a concurrent webhook, trigger or flush of the
 * same rows cannot slip between a read and its write.
 */
import {
  FieldPath,
  FieldValue,
  Timestamp,
  type DocumentData,
  type DocumentReference,
  type Firestore,
} from "firebase-admin/firestore";
import type { Decide, ReconcileReport, RowRecord, SheetInfo, SyncStore } from "../sync/ports.js";
import { overKept } from "../core/values.js";
import type { OutboxEntry } from "../core/outbox.js";
import {
  CONFLICTS,
  conflictData,
  conflictDocId,
  KEPT,
  OUTBOX,
  outboxData,
  readDoc,
  readOutbox,
  readState,
  RECONCILES,
  rowKey,
  SHEETS,
  sheetKey,
  stateData,
  STATES,
} from "./layout.js";

export interface FirestoreStoreOptions {
  collection: string;
  spreadsheetId: string;
  sheetName: string;
  /** How long a forgotten delete is remembered (TTL of its state). */
  tombstoneRetentionMs: number;
  now?: () => number;
}

export class FirestoreStore implements SyncStore {
  readonly collection: string;
  readonly sheetKey: string;
  private readonly now: () => number;

  constructor(
    private readonly db: Firestore,
    private readonly options: FirestoreStoreOptions,
  ) {
    this.collection = options.collection;
    this.sheetKey = sheetKey(options.spreadsheetId, options.sheetName);
    this.now = options.now ?? Date.now;
  }

  private refs(rowId: string) {
    const key = rowKey(this.collection, rowId);
    return {
      doc: this.db.collection(this.collection).doc(rowId),
      state: this.db.collection(STATES).doc(key),
      outbox: this.db.collection(OUTBOX).doc(key),
      kept: this.db.collection(KEPT).doc(key),
    };
  }

  private get sheetRef(): DocumentReference {
    return this.db.collection(SHEETS).doc(this.sheetKey);
  }

  private get meta() {
    return {
      collection: this.collection,
      spreadsheetId: this.options.spreadsheetId,
      sheetName: this.options.sheetName,
    };
  }

  async read(rowIds: readonly string[]): Promise<Map<string, RowRecord>> {
    if (rowIds.length === 0) return new Map();
    const refs = rowIds.map((id) => this.refs(id));
    const snaps = await this.db.getAll(...refs.flatMap((r) => [r.doc, r.state, r.outbox]));
    return this.records(rowIds, snaps);
  }

  private records(
    rowIds: readonly string[],
    snaps: FirebaseFirestore.DocumentSnapshot[],
  ): Map<string, RowRecord> {
    const now = this.now();
    const out = new Map<string, RowRecord>();
    rowIds.forEach((rowId, i) => {
      out.set(rowId, {
        rowId,
        doc: readDoc(snaps[3 * i]!),
        state: readState(snaps[3 * i + 1]!, now),
        outbox: readOutbox(snaps[3 * i + 2]!),
      });
    });
    return out;
  }

  update<T>(rowIds: readonly string[], decide: Decide<T>): Promise<T> {
    const ids = [...new Set(rowIds)];
    if (ids.length === 0) return Promise.resolve(decide(new Map()).result);
    return this.db.runTransaction(async (tx) => {
      const refs = ids.map((id) => this.refs(id));
      const snaps = await tx.getAll(...refs.flatMap((r) => [r.doc, r.state, r.outbox]));
      const { updates, result } = decide(this.records(ids, snaps));
      const now = this.now();
      const docSnap = new Map(ids.map((id, i) => [id, snaps[3 * i]!]));

      // A row the sheet deleted is back: what was kept of its document comes back with it (only
      // into a document that is not there: an app's own restore meanwhile stands).
      const restoring = [...updates]
        .filter(([id, u]) => u.doc?.kind === "set" && u.doc.restore && !docSnap.get(id)!.exists)
        .map(([id]) => id);
      const kept = new Map<string, DocumentData>();
      if (restoring.length) {
        const keptSnaps = await tx.getAll(...restoring.map((id) => this.refs(id).kept));
        keptSnaps.forEach((snap, i) => {
          const fields = snap.exists ? snap.get("fields") : undefined;
          if (fields && typeof fields === "object") kept.set(restoring[i]!, fields as DocumentData);
        });
      }

      // A conflict already on record (the same decision made again) is left as it is.
      const conflictRefs = new Map<string, { ref: DocumentReference; data: DocumentData }>();
      for (const u of updates.values()) {
        for (const c of u.conflicts ?? []) {
          const ref = this.db.collection(CONFLICTS).doc(conflictDocId(this.collection, c));
          conflictRefs.set(ref.id, { ref, data: conflictData(c, this.meta, now) });
        }
      }
      const recorded = new Set<string>();
      if (conflictRefs.size) {
        const existing = await tx.getAll(...[...conflictRefs.values()].map((c) => c.ref));
        for (const snap of existing) if (snap.exists) recorded.add(snap.id);
      }

      for (const [rowId, u] of updates) {
        const r = this.refs(rowId);
        if (u.doc?.kind === "delete") {
          tx.delete(r.doc);
          const columns = u.doc.keepBeside;
          const data = columns ? (docSnap.get(rowId)?.data() ?? {}) : {};
          const beside = Object.fromEntries(
            Object.entries(data).filter(([field]) => !columns?.includes(field)),
          );
          if (Object.keys(beside).length) {
            tx.set(r.kept, {
              fields: beside,
              collection: this.collection,
              rowId,
              sheetKey: this.sheetKey,
              expireAt: Timestamp.fromMillis(now + this.options.tombstoneRetentionMs),
            });
          }
        } else if (u.doc?.kind === "set") {
          const back = kept.get(rowId);
          if (back) tx.delete(r.kept);
          const values = back ? overKept(back, u.doc.values) : u.doc.values;
          // Only the columns (and what was kept): fields an app keeps beside them are never touched.
          const mergeFields = Object.keys(values).map((k) => new FieldPath(k));
          tx.set(r.doc, values, { mergeFields });
        }
        if (u.state) {
          tx.set(
            r.state,
            stateData(
              u.state,
              { collection: this.collection, rowId, sheetKey: this.sheetKey },
              now + this.options.tombstoneRetentionMs,
            ),
          );
        }
        if (u.outbox === null) tx.delete(r.outbox);
        else if (u.outbox)
          tx.set(r.outbox, outboxData(u.outbox, { ...this.meta, sheetKey: this.sheetKey }));
      }
      for (const [id, c] of conflictRefs) if (!recorded.has(id)) tx.create(c.ref, c.data);
      return result;
    });
  }

  async queued(limit: number): Promise<OutboxEntry[]> {
    const snap = await this.db
      .collection(OUTBOX)
      .where("sheetKey", "==", this.sheetKey)
      .limit(limit)
      .get();
    return snap.docs
      .map((d) => readOutbox(d))
      .filter((e): e is OutboxEntry => e !== null)
      .sort((a, b) => a.firstQueuedAt - b.firstQueuedAt);
  }

  async sheet(): Promise<SheetInfo> {
    const d = (await this.sheetRef.get()).data() ?? {};
    const info: SheetInfo = {
      columns: Array.isArray(d.columns) ? d.columns.filter((c) => typeof c === "string") : null,
    };
    if (typeof d.sheetId === "number") info.sheetId = d.sheetId;
    if (typeof d.timeZone === "string") info.timeZone = d.timeZone;
    if (typeof d.idColumn === "number") info.idColumn = d.idColumn;
    if (d.lastError && typeof d.lastError === "object") {
      const e = d.lastError as { at?: unknown; status?: unknown; reason?: unknown };
      info.lastError = {
        at: e.at instanceof Timestamp ? e.at.toMillis() : Number(e.at) || 0,
        status: typeof e.status === "number" ? e.status : null,
        reason: String(e.reason ?? ""),
      };
    }
    if (d.lastFlushAt instanceof Timestamp) info.lastFlushAt = d.lastFlushAt.toMillis();
    if (typeof d.scriptReadAt === "number") info.scriptReadAt = d.scriptReadAt;
    if (d.lastReconcile && typeof d.lastReconcile === "object") {
      info.lastReconcile = d.lastReconcile as SheetInfo["lastReconcile"];
    }
    return info;
  }

  async saveSheet(patch: Partial<SheetInfo>): Promise<void> {
    const data: DocumentData = {
      spreadsheetId: this.options.spreadsheetId,
      sheetName: this.options.sheetName,
    };
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined || value === null) data[key] = FieldValue.delete();
      else if (key === "lastError" && typeof value === "object") {
        const e = value as NonNullable<SheetInfo["lastError"]>;
        data.lastError = { ...e, at: Timestamp.fromMillis(e.at) };
      } else if (key === "lastFlushAt") data.lastFlushAt = Timestamp.fromMillis(value as number);
      else data[key] = value;
    }
    // mergeFields replaces each written top-level field whole: a new lastReconcile
    // must not keep the counts of an older one.
    await this.sheetRef.set(data, { mergeFields: Object.keys(data) });
  }

  async allRows(): Promise<Map<string, RowRecord>> {
    const now = this.now();
    const [docs, states, outbox] = await Promise.all([
      this.db.collection(this.collection).get(),
      this.db.collection(STATES).where("sheetKey", "==", this.sheetKey).get(),
      this.db.collection(OUTBOX).where("sheetKey", "==", this.sheetKey).get(),
    ]);
    const out = new Map<string, RowRecord>();
    const record = (rowId: string): RowRecord => {
      let r = out.get(rowId);
      if (!r) {
        r = { rowId, doc: null, state: null, outbox: null };
        out.set(rowId, r);
      }
      return r;
    };
    for (const snap of docs.docs) record(snap.id).doc = readDoc(snap);
    for (const snap of states.docs) {
      const rowId = snap.get("rowId");
      if (typeof rowId === "string" && snap.get("collection") === this.collection) {
        record(rowId).state = readState(snap, now);
      }
    }
    for (const snap of outbox.docs) {
      const entry = readOutbox(snap);
      if (entry) record(entry.rowId).outbox = entry;
    }
    return out;
  }

  async saveReport(report: ReconcileReport): Promise<void> {
    const { ids: _ids, duplicateIds: _dups, ...summary } = report;
    await this.db
      .collection(RECONCILES)
      .doc(`${this.sheetKey}:${report.at}`)
      .set({ ...report, sheetKey: this.sheetKey, at: Timestamp.fromMillis(report.at) });
    await this.saveSheet({ lastReconcile: summary });
  }
}
