/**
 * Firestore, in memory, with the semantics the sync relies on: a transaction
 * reads and writes atomically (serializable); commit times increase; every
 * write of a row document yields a trigger event, delivered later, maybe
 * twice, maybe out of order, maybe never (the model decides). Every call
 * stops at a scheduler gate, so other executions can run between them.
 */
import type { Conflict } from "../../../functions/src/core/conflicts.js";
import type { OutboxEntry } from "../../../functions/src/core/outbox.js";
import { isSettledDelete, type RowState } from "../../../functions/src/core/rowState.js";
import { overKept, type CellValue, type RowValues } from "../../../functions/src/core/values.js";
import type {
  Decide,
  ReconcileReport,
  RowRecord,
  SheetInfo,
  SyncStore,
} from "../../../functions/src/sync/ports.js";
import type { Scheduler } from "./scheduler.js";

export interface StoredDoc {
  fields: RowValues;
  updateTime: number;
  createTime: number;
}

export interface DocEvent {
  seq: number;
  rowId: string;
  /** Commit time of the write (the event's time). */
  at: number;
  isDelete: boolean;
}

export interface RecordedConflict extends Conflict {
  detectedAt: number;
}

const copyValue = (v: CellValue): CellValue => (v instanceof Date ? new Date(v.getTime()) : v);
const copyFields = (f: RowValues): RowValues =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, copyValue(v)]));
const copy = <T>(v: T): T => structuredClone(v);

export class MemoryDb {
  readonly docs = new Map<string, StoredDoc>();
  readonly states = new Map<string, RowState>();
  readonly outbox = new Map<string, OutboxEntry>();
  readonly conflicts = new Map<string, RecordedConflict>();
  sheet: SheetInfo = { columns: null };
  readonly reports: ReconcileReport[] = [];
  /** Trigger events not delivered yet. */
  readonly events: DocEvent[] = [];
  private lastCommit = 0;
  private seq = 0;
  /** Each document's fields when it was last deleted (by anyone). */
  readonly lastFields = new Map<string, RowValues>();
  /** syncKept: a row the sheet deleted, its document's fields beside the columns. */
  readonly kept = new Map<string, RowValues>();
  /** Rows a failed transaction was about (a flush that died after its Sheets write, say). */
  readonly failedFor = new Set<string>();
  /** Told of each transaction's documents (the checker: what the sync saw of them). */
  onTransactionRead: (ids: readonly string[], docs: ReadonlyArray<RowValues>) => void = () => {};
  /** Fault: the next transaction fails as if the instance died (or Firestore was unavailable). */
  failNextUpdate: string | null = null;

  constructor(readonly now: () => number) {}

  /** A commit time: the server clock, never repeating. */
  commitTime(): number {
    this.lastCommit = Math.max(this.now(), this.lastCommit + 1);
    return this.lastCommit;
  }

  /** An app (or the console) writing a document, outside the sync. */
  writeDoc(rowId: string, fields: RowValues | null, merge: boolean): void {
    const at = this.commitTime();
    if (fields === null) {
      const gone = this.docs.get(rowId);
      if (!gone) return;
      this.lastFields.set(rowId, gone.fields);
      this.docs.delete(rowId);
    } else {
      const existing = this.docs.get(rowId);
      const before = merge ? (existing?.fields ?? {}) : {};
      this.docs.set(rowId, {
        fields: { ...before, ...copyFields(fields) },
        updateTime: at,
        createTime: existing?.createTime ?? at,
      });
    }
    this.pushEvent(rowId, at, fields === null);
  }

  pushEvent(rowId: string, at: number, isDelete: boolean): void {
    this.events.push({ seq: ++this.seq, rowId, at, isDelete });
  }

  record(rowId: string): RowRecord {
    const doc = this.docs.get(rowId);
    return {
      rowId,
      doc: doc
        ? { values: copyFields(doc.fields), updateTime: doc.updateTime, createTime: doc.createTime }
        : null,
      state: this.states.has(rowId) ? copy(this.states.get(rowId)!) : null,
      outbox: this.outbox.has(rowId) ? { ...this.outbox.get(rowId)! } : null,
    };
  }

  /** TTL: forgotten deletes' states go (the fault "Sheets was down longer than a tombstone lives"). */
  expireSettledDeletes(): string[] {
    const gone: string[] = [];
    for (const [id, s] of this.states) {
      if (!isSettledDelete(s)) continue;
      this.states.delete(id);
      gone.push(id);
    }
    return gone;
  }
}

export class MemoryStore implements SyncStore {
  readonly collection = "rows";
  readonly sheetKey = "model:Sheet1";

  constructor(
    private readonly db: MemoryDb,
    private readonly scheduler: Scheduler,
  ) {}

  read(rowIds: readonly string[]): Promise<Map<string, RowRecord>> {
    return this.scheduler.run(
      "firestore read",
      () => new Map(rowIds.map((id) => [id, this.db.record(id)])),
    );
  }

  update<T>(rowIds: readonly string[], decide: Decide<T>): Promise<T> {
    return this.scheduler.run("firestore transaction", () => this.transact(rowIds, decide));
  }

  private transact<T>(rowIds: readonly string[], decide: Decide<T>): T {
    if (this.db.failNextUpdate) {
      const message = this.db.failNextUpdate;
      this.db.failNextUpdate = null;
      for (const id of rowIds) this.db.failedFor.add(id);
      throw Object.assign(new Error(message), { code: Number(message.split(" ")[0]) || 14 });
    }
    const ids = [...new Set(rowIds)];
    const records = new Map(ids.map((id) => [id, this.db.record(id)]));
    this.db.onTransactionRead(
      ids,
      [...records.values()].flatMap((r) => (r.doc ? [r.doc.values] : [])),
    );
    const { updates, result } = decide(records);
    // One commit: every write of the transaction at the same commit time.
    const at = updates.size ? this.db.commitTime() : 0;
    for (const [rowId, u] of updates) {
      if (u.doc?.kind === "delete") {
        const gone = this.db.docs.get(rowId);
        if (gone) this.db.lastFields.set(rowId, gone.fields);
        const columns = u.doc.keepBeside;
        if (gone && columns) {
          const beside = Object.entries(gone.fields).filter(([f]) => !columns.includes(f));
          if (beside.length) this.db.kept.set(rowId, copyFields(Object.fromEntries(beside)));
        }
        if (this.db.docs.delete(rowId)) this.db.pushEvent(rowId, at, true);
      } else if (u.doc?.kind === "set") {
        const existing = this.db.docs.get(rowId);
        const back = u.doc.restore && !existing ? this.db.kept.get(rowId) : undefined;
        if (back) this.db.kept.delete(rowId);
        this.db.docs.set(rowId, {
          fields: { ...existing?.fields, ...overKept(back ?? {}, copyFields(u.doc.values)) },
          updateTime: at,
          createTime: existing?.createTime ?? at,
        });
        this.db.pushEvent(rowId, at, false);
      }
      if (u.state) this.db.states.set(rowId, copy(u.state));
      if (u.outbox === null) this.db.outbox.delete(rowId);
      else if (u.outbox) this.db.outbox.set(rowId, { ...u.outbox });
      for (const c of u.conflicts ?? []) {
        if (!this.db.conflicts.has(c.id))
          this.db.conflicts.set(c.id, { ...copy(c), detectedAt: at });
      }
    }
    return result;
  }

  queued(limit: number): Promise<OutboxEntry[]> {
    return this.scheduler.run("firestore query", () =>
      [...this.db.outbox.values()]
        .sort((a, b) => a.firstQueuedAt - b.firstQueuedAt)
        .slice(0, limit)
        .map((e) => ({ ...e })),
    );
  }

  sheet(): Promise<SheetInfo> {
    return this.scheduler.run("firestore read", () => copy(this.db.sheet));
  }

  saveSheet(patch: Partial<SheetInfo>): Promise<void> {
    return this.scheduler.run("firestore write", () => this.patchSheet(patch));
  }

  private patchSheet(patch: Partial<SheetInfo>): void {
    const next: Record<string, unknown> = { ...this.db.sheet };
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined || value === null) delete next[key];
      else next[key] = copy(value);
    }
    this.db.sheet = { columns: null, ...next } as SheetInfo;
  }

  allRows(): Promise<Map<string, RowRecord>> {
    return this.scheduler.run("firestore query", () => {
      const ids = new Set([
        ...this.db.docs.keys(),
        ...this.db.states.keys(),
        ...this.db.outbox.keys(),
      ]);
      return new Map([...ids].map((id) => [id, this.db.record(id)]));
    });
  }

  saveReport(report: ReconcileReport): Promise<void> {
    return this.scheduler.run("firestore write", () => void this.db.reports.push(copy(report)));
  }
}
