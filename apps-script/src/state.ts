import { readChunked, StorageFullError, writeChunked } from "./core/chunked";
import { DeadLetters } from "./core/deadLetters";
import { Outbox } from "./core/outbox";
import type { MissedPaste } from "./core/scan";
import { parseSnapshot, serializeSnapshot, type Snapshot } from "./core/snapshot";
import { STATE_KEY } from "./config";
import type { Props } from "./env";

const MAX_MESSAGE = 500;
/** A flush holding the lease may still be sending; a dead execution's lease runs out. */
const LEASE_MS = 2 * 60 * 1000;
/** A missed paste older than this says nothing reliable about rows any more. */
const MISSED_PASTE_KEPT_MS = 10 * 60 * 1000;
/** What one paste's word may hold: a property value holds 9 KB. */
const MISSED_PASTE_CHARS = 8_000;

export interface Status {
  lastSuccessAt?: number;
  lastSuccessRows?: number;
  lastErrorAt?: number;
  lastError?: string;
  /** What the server last asked to show (e.g. a header text it cannot use as a field name). */
  warnings?: string[];
  lastReconcile?: { at: number; summary: string };
}

export type SaveOutcome = "saved" | "degraded" | "failed";

/** The script's own state: outbox and status in script properties, the snapshot in document properties. */
export class ScriptState {
  constructor(
    private readonly scriptProps: Props,
    private readonly documentProps: Props,
    private readonly now: () => number,
  ) {}

  loadOutbox(all = this.scriptProps.getProperties()): Outbox {
    try {
      return Outbox.parse(readChunked(all, STATE_KEY.outbox));
    } catch (error) {
      // Unreadable state must not block syncing forever: resend every row instead.
      this.recordError(`Outbox unreadable, resending all rows: ${String(error)}`);
      const outbox = new Outbox();
      outbox.requestResync(0);
      return outbox;
    }
  }

  /**
   * Saves the outbox; when it does not fit, replaces the pending upserts by a
   * "resync all" request (deletes cannot be re-derived, so they stay). "failed"
   * means nothing was written: the caller must keep its old snapshot so the
   * changes are detected again later.
   */
  saveOutbox(outbox: Outbox): SaveOutcome {
    try {
      writeChunked(this.scriptProps, STATE_KEY.outbox, outbox.serialize());
      return "saved";
    } catch (error) {
      if (!(error instanceof StorageFullError)) throw error;
    }
    outbox.collapseUpsertsIntoResync();
    try {
      writeChunked(this.scriptProps, STATE_KEY.outbox, outbox.serialize());
      this.recordError(
        `Too many pending rows for script properties (${outbox.size} deletes kept); resending all rows`,
      );
      return "degraded";
    } catch (error) {
      if (!(error instanceof StorageFullError)) throw error;
      this.recordError(
        `Pending deletes do not fit in script properties; will retry: ${error.message}`,
      );
      return "failed";
    }
  }

  /** The snapshot, and the missed pastes (one property read for both). */
  loadSnapshot(): {
    snapshot: Snapshot | null;
    text: string | null;
    missedPastes: { keys: string[]; rows: MissedPaste[] };
  } {
    const all = this.documentProps.getProperties();
    const text = readChunked(all, STATE_KEY.snapshot);
    return { snapshot: parseSnapshot(text), text, missedPastes: this.missedPastes(all) };
  }

  /** Each under a key of its own: an onEdit that has no lock adds one without losing others. */
  addMissedPaste(rows: readonly MissedPaste[], unique: string): void {
    let kept = [...rows];
    let text = JSON.stringify({ at: this.now(), rows: kept });
    // A paste of very many rows keeps what fits: its top rows.
    while (text.length > MISSED_PASTE_CHARS && kept.length > 1) {
      kept = kept.slice(0, Math.ceil(kept.length / 2));
      text = JSON.stringify({ at: this.now(), rows: kept });
    }
    if (text.length <= MISSED_PASTE_CHARS)
      this.documentProps.setProperty(`${STATE_KEY.missedPaste}.${unique}`, text);
  }

  dropMissedPastes(keys: readonly string[]): void {
    for (const key of keys) this.documentProps.deleteProperty(key);
  }

  private missedPastes(all: Record<string, string>): { keys: string[]; rows: MissedPaste[] } {
    const keys: string[] = [];
    const rows: MissedPaste[] = [];
    for (const [key, text] of Object.entries(all)) {
      if (!key.startsWith(`${STATE_KEY.missedPaste}.`)) continue;
      keys.push(key);
      try {
        const entry = JSON.parse(text) as { at?: unknown; rows?: unknown };
        if (typeof entry.at !== "number" || this.now() - entry.at > MISSED_PASTE_KEPT_MS) continue;
        if (!Array.isArray(entry.rows)) continue;
        for (const r of entry.rows as Array<Partial<MissedPaste>>) {
          if (typeof r.row === "number" && typeof r.id === "string" && typeof r.hash === "string")
            rows.push({
              row: r.row,
              id: r.id,
              hash: r.hash,
              ...(typeof r.rank === "number" ? { rank: r.rank } : {}),
              ...(typeof r.holders === "number" ? { holders: r.holders } : {}),
              ...(r.alike === true ? { alike: true } : {}),
            });
        }
      } catch {
        // Unreadable: dropped with the rest.
      }
    }
    return { keys, rows };
  }

  /** `previousText` skips rewriting an unchanged snapshot (it can be hundreds of KB). */
  saveSnapshot(snapshot: Snapshot, previousText: string | null = null): boolean {
    const text = serializeSnapshot(snapshot);
    if (text === previousText) return true;
    try {
      writeChunked(this.documentProps, STATE_KEY.snapshot, text);
      return true;
    } catch (error) {
      if (!(error instanceof StorageFullError)) throw error;
      this.recordError(
        `Too many rows to track (${snapshot.rows.size}); silent edits and deletions may be missed`,
      );
      return false;
    }
  }

  loadDeadLetters(): DeadLetters {
    try {
      return DeadLetters.parse(
        readChunked(this.scriptProps.getProperties(), STATE_KEY.deadLetters),
      );
    } catch {
      return new DeadLetters();
    }
  }

  saveDeadLetters(letters: DeadLetters): void {
    try {
      writeChunked(this.scriptProps, STATE_KEY.deadLetters, letters.serialize());
    } catch (error) {
      if (!(error instanceof StorageFullError)) throw error;
      letters.trim(50);
      writeChunked(this.scriptProps, STATE_KEY.deadLetters, letters.serialize());
    }
  }

  loadStatus(): Status {
    const text = this.scriptProps.getProperty(STATE_KEY.status);
    try {
      return text ? (JSON.parse(text) as Status) : {};
    } catch {
      return {};
    }
  }

  updateStatus(patch: Status): void {
    this.scriptProps.setProperty(
      STATE_KEY.status,
      JSON.stringify({ ...this.loadStatus(), ...patch }),
    );
  }

  recordError(message: string): void {
    const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
    this.updateStatus({ lastError: text, lastErrorAt: this.now() });
  }

  recordSuccess(rows: number, warnings: string[]): void {
    this.updateStatus({ lastSuccessAt: this.now(), lastSuccessRows: rows, warnings });
  }

  leaseHeld(): boolean {
    const until = Number(this.scriptProps.getProperty(STATE_KEY.flushLease));
    return Number.isFinite(until) && until > this.now();
  }

  takeLease(): void {
    this.scriptProps.setProperty(STATE_KEY.flushLease, String(this.now() + LEASE_MS));
  }

  releaseLease(): void {
    this.scriptProps.deleteProperty(STATE_KEY.flushLease);
  }
}
