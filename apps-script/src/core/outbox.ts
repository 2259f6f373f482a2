import { toAsciiJson } from "../../../contract/src/cells";

export type OutboxOp = "upsert" | "delete";

export interface OutboxEntry {
  readonly op: OutboxOp;
  readonly modifiedAt: number;
  /** Bumped on every change, so a flush can tell whether the entry moved on while in flight. */
  readonly seq: number;
  /** Union of touched columns; null when unknown (send the whole row). */
  readonly fields: readonly string[] | null;
  /** When each of `fields` changed, for those changed before `modifiedAt`. */
  readonly fieldsAt?: Readonly<Record<string, number>>;
  /** A delete of an id a sort's matching displaced, not a person's (see DeleteItem). */
  readonly displaced?: boolean;
}

export interface ResyncRequest {
  /** 0 = each row's own `_modified`; else the minimum modifiedAt to send. */
  readonly at: number;
  readonly seq: number;
}

/** "x": a displaced delete. */
type StoredEntry =
  | [op: "u" | "d" | "x", modifiedAt: number, seq: number, fields: string[] | 0]
  | [op: "u", modifiedAt: number, seq: number, fields: string[], fieldsAt: Record<string, number>];
interface StoredOutbox {
  v: 1;
  seq: number;
  resync: [at: number, seq: number] | 0;
  e: Record<string, StoredEntry>;
}

/** A column's own time, if recorded (a column may be named `constructor`). */
export function ownTime(
  times: Readonly<Record<string, number>> | undefined,
  field: string,
): number | undefined {
  return times && Object.prototype.hasOwnProperty.call(times, field) ? times[field] : undefined;
}

/** Rows waiting to be sent, by row id. Values are read from the sheet at flush time. */
export class Outbox {
  private seq = 0;
  private resyncRequest: ResyncRequest | null = null;
  private readonly entries = new Map<string, OutboxEntry>();

  get size(): number {
    return this.entries.size;
  }

  get resync(): ResyncRequest | null {
    return this.resyncRequest;
  }

  get isEmpty(): boolean {
    return this.entries.size === 0 && this.resyncRequest === null;
  }

  get(id: string): OutboxEntry | undefined {
    return this.entries.get(id);
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * A later edit keeps the newest time and unions the touched fields; each field keeps the time
   * of its own last edit, so that a column typed before an app's change does not beat it.
   */
  upsert(id: string, modifiedAt: number, fields: readonly string[] | null): void {
    const old = this.entries.get(id);
    let merged: readonly string[] | null = fields === null ? null : [...new Set(fields)];
    if (old?.op === "delete")
      merged = null; // The row is back (e.g. undo): send all of it.
    else if (old && merged !== null)
      merged = old.fields && [...new Set([...old.fields, ...merged])];
    const at = Math.max(old?.modifiedAt ?? 0, modifiedAt);
    const fieldsAt: Record<string, number> = {};
    if (merged !== null && old?.op === "upsert") {
      for (const f of merged) {
        const t = fields?.includes(f) ? modifiedAt : (ownTime(old.fieldsAt, f) ?? old.modifiedAt);
        if (t < at) fieldsAt[f] = t;
      }
    }
    this.entries.set(id, {
      op: "upsert",
      modifiedAt: at,
      seq: ++this.seq,
      fields: merged,
      ...(Object.keys(fieldsAt).length ? { fieldsAt } : {}),
    });
  }

  /** Nothing to send for this row after all. */
  drop(id: string): void {
    this.entries.delete(id);
  }

  /** A delete replaces any pending upsert; a person's delete stays one. */
  delete(id: string, modifiedAt: number, displaced = false): void {
    const old = this.entries.get(id);
    const real = old?.op === "delete" && !old.displaced;
    this.entries.set(id, {
      op: "delete",
      modifiedAt: Math.max(old?.modifiedAt ?? 0, modifiedAt),
      seq: ++this.seq,
      fields: null,
      ...(displaced && !real ? { displaced: true } : {}),
    });
  }

  requestResync(at: number): void {
    this.resyncRequest = { at: Math.max(this.resyncRequest?.at ?? 0, at), seq: ++this.seq };
  }

  /**
   * Drops what the server accepted, unless it changed after being read for
   * the request (its seq moved on).
   */
  acknowledge(sent: ReadonlyMap<string, number>, resyncSeq: number | null): void {
    for (const [id, seq] of sent) {
      if (this.entries.get(id)?.seq === seq) this.entries.delete(id);
    }
    if (resyncSeq !== null && this.resyncRequest?.seq === resyncSeq) this.resyncRequest = null;
  }

  /** Degrade when storage is full: a resync covers every upsert; deletes must stay. */
  collapseUpsertsIntoResync(): void {
    let changed = false;
    for (const [id, entry] of this.entries) {
      if (entry.op === "upsert") {
        this.entries.delete(id);
        changed = true;
      }
    }
    if (changed || this.resyncRequest === null) this.requestResync(0);
  }

  /** Keeps only the resync request (the caller re-detects deletes from its old snapshot). */
  clearEntries(): void {
    this.entries.clear();
  }

  serialize(): string {
    const e: Record<string, StoredEntry> = {};
    for (const [id, entry] of this.entries) {
      e[id] =
        entry.op === "upsert" && entry.fields && entry.fieldsAt
          ? ["u", entry.modifiedAt, entry.seq, [...entry.fields], { ...entry.fieldsAt }]
          : [
              entry.op === "upsert" ? "u" : entry.displaced ? "x" : "d",
              entry.modifiedAt,
              entry.seq,
              entry.fields ? [...entry.fields] : 0,
            ];
    }
    const stored: StoredOutbox = {
      v: 1,
      seq: this.seq,
      resync: this.resyncRequest ? [this.resyncRequest.at, this.resyncRequest.seq] : 0,
      e,
    };
    return toAsciiJson(stored);
  }

  static parse(text: string | null): Outbox {
    const outbox = new Outbox();
    if (text === null || text === "") return outbox;
    const stored = JSON.parse(text) as StoredOutbox;
    if (stored.v !== 1) throw new Error(`Unknown outbox version ${String(stored.v)}`);
    outbox.seq = stored.seq;
    if (stored.resync) outbox.resyncRequest = { at: stored.resync[0], seq: stored.resync[1] };
    for (const [id, [op, modifiedAt, seq, fields, fieldsAt]] of Object.entries(stored.e)) {
      outbox.entries.set(id, {
        op: op === "u" ? "upsert" : "delete",
        modifiedAt,
        seq,
        fields: fields === 0 ? null : fields,
        ...(fieldsAt ? { fieldsAt } : {}),
        ...(op === "x" ? { displaced: true } : {}),
      });
    }
    return outbox;
  }
}
