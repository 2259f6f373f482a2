/**
 * Delivers Firestore document events from the Node stand-in to the Functions
 * emulator, the job the real Firestore emulator does by itself.
 *
 * The stand-in's emitter says only which document changed, so the delivery
 * keeps a shadow of every document's last state to supply the "before" side,
 * and groups the several events one commit emits (a write plus its field
 * transforms, or a rolled-back commit) into one change. Events go out as
 * binary-mode CloudEvents like the real emulator's: one document's changes in
 * commit order, one at a time per function, other documents concurrently.
 */
import type { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fetchBackends, type ChangeKind, type FirestoreTrigger } from "./backends.js";
import {
  captureDocument,
  encodeDocumentEventData,
  type DocumentState,
  type RestDocument,
  type StandInDocumentLike,
} from "./documents.js";

export interface TriggerDeliveryOptions {
  /** The Functions emulator, e.g. "http://127.0.0.1:5001". */
  functionsOrigin: string;
  /** The project the functions emulator runs as; other projects' writes are ignored. */
  project: string;
  database?: string;
  /** `standIn.state.emitter` of @firestore-emulator/server. */
  emitter: Pick<EventEmitter, "on" | "off">;
  /**
   * The stand-in's state (`standIn.state`): when given, start() records the
   * documents that already exist, so their first change is not taken for a create.
   */
  state?: { toJSON(): unknown; getDocument(path: string): StandInDocumentLike };
  /** Deliveries in flight at once, over all documents. Default 8. */
  concurrency?: number;
  /**
   * Event data encoding. "protobuf" (default) is what production and the real
   * emulator send; "json" is the REST `{value, oldValue}` form firebase-functions also accepts.
   */
  encoding?: "protobuf" | "json";
  /** ce-location. Default "us-central1". */
  location?: string;
  /**
   * Redeliver when a function fails (HTTP 500), but only for triggers deployed
   * with `retry: true`, as production does. Off by default: locally a failure is
   * usually a bug to see at once, not to hide behind retries.
   */
  retry?: false | { maxAttempts?: number; delayMs?: number };
  /** How long everything must stay quiet before idle() resolves. Default 50 ms. */
  settleMs?: number;
  /** Re-read /backends before routing when the cached listing is older than this. Default 2000 ms. */
  refreshMs?: number;
  log?: (message: string) => void;
}

export interface FunctionStats {
  delivered: number;
  failed: number;
}

export interface TriggerStats {
  /** Deliveries the function finished (HTTP 200). */
  delivered: number;
  /** Deliveries that ended in a function error or could not be made. */
  failed: number;
  /** Changes not yet routed plus deliveries waiting for their turn. */
  queued: number;
  inFlight: number;
  byFunction: Record<string, FunctionStats>;
}

export interface TriggerDelivery {
  start(): void;
  /**
   * Resolves once nothing is queued or in flight and nothing happened for
   * `settleMs`, including the writes functions made while handling events.
   * Rejects after `timeoutMs`, and when stop() is called first.
   */
  idle(timeoutMs: number): Promise<void>;
  stats(): TriggerStats;
  /**
   * Unsubscribes, drops queued events, aborts deliveries in flight and rejects
   * pending idle() waiters (events were dropped, so "idle" would be untrue).
   */
  stop(): void;
  /**
   * Serves `GET /__stack/triggers/idle?timeoutMs=N` (200 when idle, 504 on
   * timeout) and `GET /__stack/triggers/stats`; returns false for other paths.
   */
  handleHttp(req: IncomingMessage, res: ServerResponse): boolean;
}

interface Change {
  /** One id per change, shared by its deliveries and kept across retries. */
  id: string;
  kind: ChangeKind;
  /** Relative path, e.g. "rows/r1". */
  document: string;
  before: DocumentState | null;
  after: DocumentState | null;
  time: string;
}

interface Delivery {
  change: Change;
  trigger: FirestoreTrigger;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const DOCUMENT_EVENTS = ["create-document", "update-document", "delete-document"] as const;
const RELOAD_ATTEMPTS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createTriggerDelivery(options: TriggerDeliveryOptions): TriggerDelivery {
  const origin = options.functionsOrigin.replace(/\/+$/, "");
  const project = options.project;
  const database = options.database ?? "(default)";
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const encoding = options.encoding ?? "protobuf";
  const location = options.location ?? "us-central1";
  const settleMs = options.settleMs ?? 50;
  const refreshMs = options.refreshMs ?? 2000;
  const retry = options.retry
    ? { maxAttempts: options.retry.maxAttempts ?? 3, delayMs: options.retry.delayMs ?? 500 }
    : null;
  const log = options.log ?? ((m: string) => console.error(`[triggers] ${m}`));
  const prefix = `projects/${project}/databases/${database}/documents/`;
  const source = `//firestore.googleapis.com/projects/${project}/databases/${database}`;

  let running = false;
  // Bumped by stop(), so that completions of aborted work leave a restarted delivery alone.
  let epoch = 0;
  let abort = new AbortController();

  const shadows = new Map<string, DocumentState>();
  const dirty = new Map<string, StandInDocumentLike>();
  let flushScheduled = false;
  const changes: Change[] = [];
  // One queue per (function, document): order matters only within one.
  const queues = new Map<string, Delivery[]>();
  const ready: string[] = [];
  const active = new Set<string>();
  const inFlight = new Set<Delivery>();
  let queuedDeliveries = 0;

  let triggers: FirestoreTrigger[] | null = null;
  let triggersAt = 0;
  let generation = 0;
  let routing = false;
  let waitingFor: string | null = null;

  const totals = { delivered: 0, failed: 0 };
  const byFunction: Record<string, FunctionStats> = {};
  const waiters = new Set<Waiter>();
  let settleTimer: NodeJS.Timeout | undefined;
  let lastActivity = Date.now();

  function busy(): boolean {
    return (
      dirty.size > 0 || changes.length > 0 || queuedDeliveries > 0 || inFlight.size > 0 || routing
    );
  }

  function touch() {
    lastActivity = Date.now();
    if (settleTimer) clearTimeout(settleTimer);
    settleTimer = undefined;
  }

  function checkIdle() {
    if (waiters.size === 0 || busy() || settleTimer) return;
    const wait = Math.max(1, lastActivity + settleMs - Date.now());
    settleTimer = setTimeout(() => {
      settleTimer = undefined;
      if (busy()) return;
      if (Date.now() - lastActivity < settleMs) return checkIdle();
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.resolve();
      }
      waiters.clear();
    }, wait);
  }

  function describeBusy(): string {
    const parts: string[] = [];
    if (dirty.size + changes.length)
      parts.push(`${dirty.size + changes.length} change(s) unrouted`);
    if (queuedDeliveries) parts.push(`${queuedDeliveries} delivery(ies) queued`);
    if (inFlight.size) {
      const sample = [...inFlight]
        .slice(0, 5)
        .map((d) => `${d.trigger.name} ${d.change.kind} ${d.change.document}`);
      parts.push(`${inFlight.size} in flight (${sample.join("; ")})`);
    }
    if (waitingFor) parts.push(waitingFor);
    return parts.join(", ") || "quiet but not yet settled";
  }

  function countFor(name: string): FunctionStats {
    return (byFunction[name] ??= { delivered: 0, failed: 0 });
  }

  // --- from emitter events to changes -------------------------------------------------------

  function onDocumentEvent(arg: { document?: StandInDocumentLike }) {
    const doc = arg?.document;
    if (!running || !doc || !doc.getPath().startsWith(prefix)) return;
    dirty.set(doc.getPath(), doc);
    touch();
    if (!flushScheduled) {
      flushScheduled = true;
      // The stand-in applies a whole commit synchronously, so one microtask later it is complete.
      queueMicrotask(flush);
    }
  }

  function onClear() {
    shadows.clear();
    dirty.clear();
  }

  function flush() {
    flushScheduled = false;
    if (!running) return;
    for (const [path, doc] of dirty) {
      const before = shadows.get(path) ?? null;
      let after: DocumentState | null;
      try {
        after = captureDocument(doc);
      } catch (err) {
        // Thrown from a microtask it would take the whole stack down; losing one event is better.
        log(`no event for ${path}: ${(err as Error).message}`);
        continue;
      }
      if (after) shadows.set(path, after);
      else shadows.delete(path);
      // Firestore sends no event for a write that changes nothing (nor for a rolled-back commit).
      if (!before && !after) continue;
      if (before && after && before.fieldsKey === after.fieldsKey) continue;
      const kind: ChangeKind = !before ? "create" : !after ? "delete" : "update";
      changes.push({
        id: randomUUID(),
        kind,
        document: path.slice(prefix.length),
        before,
        after,
        time: after ? after.json.updateTime : new Date().toISOString(),
      });
    }
    dirty.clear();
    if (changes.length) void route();
    else checkIdle();
  }

  // --- trigger discovery --------------------------------------------------------------------

  /** The loaded Firestore triggers; waits (polling) until the functions have loaded. */
  async function currentTriggers(myEpoch: number): Promise<FirestoreTrigger[] | null> {
    if (triggers && Date.now() - triggersAt < refreshMs) return triggers;
    let delay = 100;
    let warned = false;
    while (running && epoch === myEpoch) {
      try {
        const listing = await fetchBackends(origin, abort.signal);
        if (listing.functionCount > 0) {
          if (!triggers || listing.firestore.length !== triggers.length) {
            for (const s of listing.skipped) log(`not delivering to ${s}: not supported`);
          }
          triggers = listing.firestore.filter((t) => t.database === database);
          triggersAt = Date.now();
          waitingFor = null;
          return triggers;
        }
        waitingFor = `waiting for the functions to load (${origin}/backends lists none yet)`;
      } catch (err) {
        // A listing we already have beats none while the emulator restarts.
        if (triggers) return triggers;
        waitingFor = `waiting for the Functions emulator at ${origin} (${(err as Error).message})`;
      }
      if (!warned && delay >= 1600) {
        log(waitingFor);
        warned = true;
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
    return null;
  }

  function invalidateTriggers() {
    triggersAt = 0;
  }

  async function route() {
    if (routing) return;
    routing = true;
    const myEpoch = epoch;
    try {
      while (changes.length && running && epoch === myEpoch) {
        const list = await currentTriggers(myEpoch);
        if (!list || epoch !== myEpoch) return;
        for (const change of changes.splice(0)) {
          for (const trigger of list) {
            if (!trigger.kinds.has(change.kind) || !trigger.pattern.match(change.document))
              continue;
            const key = `${trigger.id}\n${change.document}`;
            let queue = queues.get(key);
            if (!queue) queues.set(key, (queue = []));
            queue.push({ change, trigger });
            queuedDeliveries++;
            if (queue.length === 1 && !active.has(key)) ready.push(key);
          }
        }
        pump();
      }
    } finally {
      if (epoch === myEpoch) {
        routing = false;
        touch();
        checkIdle();
      }
    }
  }

  function pump() {
    while (running && inFlight.size < concurrency && ready.length) {
      const key = ready.shift()!;
      const queue = queues.get(key);
      const delivery = queue?.shift();
      if (!queue || !delivery) continue;
      queuedDeliveries--;
      active.add(key);
      inFlight.add(delivery);
      const myEpoch = epoch;
      void deliver(delivery, myEpoch).finally(() => {
        if (epoch !== myEpoch) return;
        inFlight.delete(delivery);
        active.delete(key);
        if (queue.length) ready.push(key);
        else queues.delete(key);
        touch();
        pump();
        checkIdle();
      });
    }
  }

  // --- sending ------------------------------------------------------------------------------

  function request(d: Delivery): { headers: Record<string, string>; body: string } {
    const { change, trigger } = d;
    const contentType = encoding === "json" ? "application/json" : "application/protobuf";
    const headers: Record<string, string> = {
      "content-type": contentType,
      "ce-specversion": "1.0",
      "ce-type": trigger.eventType,
      "ce-id": change.id,
      "ce-source": source,
      "ce-subject": `documents/${change.document}`,
      "ce-time": change.time,
      "ce-datacontenttype": contentType,
      "ce-project": project,
      "ce-database": database,
      "ce-namespace": "(default)",
      "ce-document": change.document,
      "ce-location": location,
    };
    // Who wrote is unknown here; "unknown" is one of the values production sends.
    if (trigger.withAuthContext) headers["ce-authtype"] = "unknown";
    let body: string;
    if (encoding === "json") {
      const data: { value?: RestDocument; oldValue?: RestDocument } = {};
      if (change.after) data.value = change.after.json;
      if (change.before) data.oldValue = change.before.json;
      body = JSON.stringify(data);
    } else {
      // The emulator expects protobuf bodies base64-encoded (it decodes them before the runtime).
      body = encodeDocumentEventData(change.after?.proto, change.before?.proto).toString("base64");
    }
    return { headers, body };
  }

  async function deliver(d: Delivery, myEpoch: number): Promise<void> {
    const what = () =>
      `${d.trigger.name} (${d.change.kind} ${d.change.document}, event ${d.change.id})`;
    let reloads = 0;
    for (let attempt = 1; ; attempt++) {
      if (!running || epoch !== myEpoch) return;
      const { headers, body } = request(d);
      const url = `${origin}/functions/projects/${project}/triggers/${d.trigger.id}-${generation}`;
      let status: number;
      let text: string;
      try {
        const res = await fetch(url, { method: "POST", headers, body, signal: abort.signal });
        status = res.status;
        text = await res.text();
      } catch (err) {
        if (!running || epoch !== myEpoch) return;
        status = 0;
        text = (err as Error).message;
      }
      if (epoch !== myEpoch) return;
      if (status >= 200 && status < 300 && status !== 204) {
        totals.delivered++;
        countFor(d.trigger.name).delivered++;
        return;
      }
      // 404: the trigger key's generation moved (hot reload) or the function is gone;
      // 204: the emulator disabled background triggers while it reloads.
      if ((status === 404 || status === 204) && reloads < RELOAD_ATTEMPTS) {
        reloads++;
        attempt--;
        const listed = /valid functions are: (.*)$/s.exec(text)?.[1] ?? "";
        const key = listed
          .split(",")
          .map((s) => s.trim())
          .find(
            (k) =>
              k.startsWith(`${d.trigger.id}-`) && /^\d+$/.test(k.slice(d.trigger.id.length + 1)),
          );
        if (key) generation = Number(key.slice(d.trigger.id.length + 1));
        invalidateTriggers();
        if (status === 204 || !key) await sleep(200 * reloads);
        const list = await currentTriggers(myEpoch);
        const again = list?.find((t) => t.id === d.trigger.id);
        if (!again) {
          if (list) log(`dropped ${what()}: the function is no longer loaded`);
          if (epoch === myEpoch && list) {
            totals.failed++;
            countFor(d.trigger.name).failed++;
          }
          return;
        }
        d.trigger = again;
        continue;
      }
      const reason = status ? `HTTP ${status}: ${text.trim().slice(0, 500)}` : text;
      if (status !== 0 && retry && d.trigger.retry && attempt < retry.maxAttempts) {
        log(`${what()} failed (${reason}); retrying (attempt ${attempt + 1}/${retry.maxAttempts})`);
        await sleep(retry.delayMs * 2 ** (attempt - 1));
        continue;
      }
      totals.failed++;
      countFor(d.trigger.name).failed++;
      log(`${what()} failed: ${reason}`);
      return;
    }
  }

  // --- the API ------------------------------------------------------------------------------

  function seedShadows() {
    const state = options.state;
    if (!state) return;
    const paths: string[] = [];
    const walk = (node: unknown) => {
      if (!node || typeof node !== "object") return;
      const obj = node as Record<string, unknown>;
      if (typeof obj.path === "string" && "fields" in obj && obj.path.startsWith(prefix)) {
        paths.push(obj.path);
      }
      for (const v of Object.values(obj)) if (v && typeof v === "object") walk(v);
    };
    walk(state.toJSON());
    for (const path of paths) {
      const captured = captureDocument(state.getDocument(path));
      if (captured) shadows.set(path, captured);
    }
  }

  const listeners = { doc: onDocumentEvent, clear: onClear };

  const api: TriggerDelivery = {
    start() {
      if (running) return;
      running = true;
      abort = new AbortController();
      seedShadows();
      for (const ev of DOCUMENT_EVENTS) options.emitter.on(ev, listeners.doc);
      options.emitter.on("clear-all-projects", listeners.clear);
    },

    idle(timeoutMs) {
      if (!running) {
        return Promise.reject(
          new Error("Firestore trigger delivery is not running (call start())"),
        );
      }
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(
              new Error(
                `Firestore triggers not idle after ${timeoutMs} ms: ${describeBusy()} ` +
                  `(delivered ${totals.delivered}, failed ${totals.failed})`,
              ),
            );
          }, timeoutMs),
        };
        waiters.add(waiter);
        checkIdle();
      });
    },

    stats() {
      return {
        delivered: totals.delivered,
        failed: totals.failed,
        queued: dirty.size + changes.length + queuedDeliveries,
        inFlight: inFlight.size,
        byFunction: Object.fromEntries(Object.entries(byFunction).map(([k, v]) => [k, { ...v }])),
      };
    },

    stop() {
      if (!running) return;
      running = false;
      epoch++;
      for (const ev of DOCUMENT_EVENTS) options.emitter.off(ev, listeners.doc);
      options.emitter.off("clear-all-projects", listeners.clear);
      abort.abort();
      shadows.clear();
      dirty.clear();
      changes.length = 0;
      queues.clear();
      ready.length = 0;
      active.clear();
      inFlight.clear();
      queuedDeliveries = 0;
      routing = false;
      waitingFor = null;
      triggers = null;
      if (settleTimer) clearTimeout(settleTimer);
      settleTimer = undefined;
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(new Error("Firestore trigger delivery stopped before it was idle"));
      }
      waiters.clear();
    },

    handleHttp(req, res) {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname !== "/__stack/triggers/idle" && url.pathname !== "/__stack/triggers/stats") {
        return false;
      }
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "GET") {
        send(405, { error: "use GET" });
        return true;
      }
      if (url.pathname === "/__stack/triggers/stats") {
        send(200, api.stats());
        return true;
      }
      const asked = Number(url.searchParams.get("timeoutMs") ?? 30_000);
      const timeoutMs = Number.isFinite(asked) && asked >= 0 ? Math.min(asked, 600_000) : 30_000;
      api.idle(timeoutMs).then(
        () => send(200, { idle: true, stats: api.stats() }),
        (err: Error) => send(504, { idle: false, error: err.message, stats: api.stats() }),
      );
      return true;
    },
  };
  return api;
}
