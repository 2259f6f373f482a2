import { readChunked, StorageFullError, writeChunked } from "./core/chunked";
import { Outbox } from "./core/outbox";
import { parseSnapshot, serializeSnapshot, type Snapshot } from "./core/snapshot";
import { STATE_KEY } from "./config";

const MAX_MESSAGE = 500;
/** A flush holding the lease may still be sending; a dead execution's lease runs out. */
const LEASE_MS = 2 * 60 * 1000;

export interface Status {
  lastSuccessAt?: number;
  lastSuccessRows?: number;
  lastErrorAt?: number;
  lastError?: string;
}

const scriptProperties = (): GoogleAppsScript.Properties.Properties =>
  PropertiesService.getScriptProperties();

export function loadOutbox(all = scriptProperties().getProperties()): Outbox {
  try {
    return Outbox.parse(readChunked(all, STATE_KEY.outbox));
  } catch (error) {
    // Unreadable state must not block syncing forever: resend every row instead.
    recordError(`Outbox unreadable, resending all rows: ${String(error)}`);
    const outbox = new Outbox();
    outbox.requestResync(0);
    return outbox;
  }
}

export type SaveOutcome = "saved" | "degraded" | "failed";

/**
 * Saves the outbox; when it does not fit, replaces the pending upserts by a
 * "resync all" request (deletes cannot be re-derived, so they stay). "failed"
 * means nothing was written: the caller must keep its old snapshot so the
 * changes are detected again later.
 */
export function saveOutbox(outbox: Outbox): SaveOutcome {
  const store = scriptProperties();
  try {
    writeChunked(store, STATE_KEY.outbox, outbox.serialize());
    return "saved";
  } catch (error) {
    if (!(error instanceof StorageFullError)) throw error;
  }
  outbox.collapseUpsertsIntoResync();
  try {
    writeChunked(store, STATE_KEY.outbox, outbox.serialize());
    recordError(
      `Too many pending rows for script properties (${outbox.size} deletes kept); resending all rows`,
    );
    return "degraded";
  } catch (error) {
    if (!(error instanceof StorageFullError)) throw error;
    recordError(`Pending deletes do not fit in script properties; will retry: ${error.message}`);
    return "failed";
  }
}

export function loadSnapshot(): { snapshot: Snapshot | null; text: string | null } {
  const all = PropertiesService.getDocumentProperties().getProperties();
  const text = readChunked(all, STATE_KEY.snapshot);
  return { snapshot: parseSnapshot(text), text };
}

/** `previousText` skips rewriting an unchanged snapshot (it can be hundreds of KB). */
export function saveSnapshot(snapshot: Snapshot, previousText: string | null = null): boolean {
  const text = serializeSnapshot(snapshot);
  if (text === previousText) return true;
  try {
    writeChunked(PropertiesService.getDocumentProperties(), STATE_KEY.snapshot, text);
    return true;
  } catch (error) {
    if (!(error instanceof StorageFullError)) throw error;
    recordError(
      `Too many rows to track (${snapshot.rows.size}); silent edits and deletions may be missed`,
    );
    return false;
  }
}

export function loadStatus(): Status {
  const text = scriptProperties().getProperty(STATE_KEY.status);
  try {
    return text ? (JSON.parse(text) as Status) : {};
  } catch {
    return {};
  }
}

function updateStatus(patch: Status): void {
  scriptProperties().setProperty(STATE_KEY.status, JSON.stringify({ ...loadStatus(), ...patch }));
}

export function recordError(message: string, now = Date.now()): void {
  const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message;
  updateStatus({ lastError: text, lastErrorAt: now });
}

export function recordSuccess(rows: number, now = Date.now()): void {
  updateStatus({ lastSuccessAt: now, lastSuccessRows: rows });
}

export function leaseHeld(now = Date.now()): boolean {
  const until = Number(scriptProperties().getProperty(STATE_KEY.flushLease));
  return Number.isFinite(until) && until > now;
}

export function takeLease(now = Date.now()): void {
  scriptProperties().setProperty(STATE_KEY.flushLease, String(now + LEASE_MS));
}

export function releaseLease(): void {
  scriptProperties().deleteProperty(STATE_KEY.flushLease);
}
