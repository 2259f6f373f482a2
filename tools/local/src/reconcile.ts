/**
 * The reconcile, locally. `requestReconcile` sends the signed
 * `POST <webhook>/reconcile` the page's Reconcile button and the script's
 * "Sync now" send. `startReconcileSchedule` stands in for Cloud Scheduler:
 * the Functions emulator loads `scheduledReconcile` but never runs it on its
 * schedule (firebase-tools only subscribes it to the Pub/Sub topic
 * `firebase-schedule-…`, and only when the Pub/Sub emulator runs, which
 * needs a download). A v2 scheduled function is an HTTP function, and the
 * emulator serves every loaded function at
 * `/functions/projects/{project}/triggers/{region}-{name}-{generation}`, so
 * a timer here POSTs to it with Cloud Scheduler's headers, as Cloud Scheduler
 * does in production: the deployed code runs, sweep and all, with trigger
 * "schedule".
 */
import { createHmac } from "node:crypto";
import {
  SIGNATURE_HEADER,
  SIGNATURE_VERSION,
  signedMessage,
  TIMESTAMP_HEADER,
} from "../../../contract/src/signature.js";
import type { ScheduleView } from "./page/types.js";

/** Signature headers for `body`, as the script signs its requests. */
export function signedHeaders(secret: string, body: string, now = Date.now()) {
  const timestamp = String(now);
  const mac = createHmac("sha256", secret).update(signedMessage(timestamp, body)).digest("hex");
  return {
    "content-type": "application/json",
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: `${SIGNATURE_VERSION}=${mac}`,
  };
}

export interface ReconcileTarget {
  webhookUrl: string;
  secret: string;
  spreadsheetId: string;
  sheetName: string;
}

/** The functions compare the whole tab with Firestore and answer the report (trigger "request"). */
export async function requestReconcile(t: ReconcileTarget, timeoutMs = 120_000): Promise<unknown> {
  const body = JSON.stringify({ spreadsheetId: t.spreadsheetId, sheetName: t.sheetName });
  const url = `${t.webhookUrl.replace(/\/+$/, "")}/reconcile`;
  const res = await fetch(url, {
    method: "POST",
    headers: signedHeaders(t.secret, body),
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

/** SHEET_SYNC_LOCAL_RECONCILE_MS: the local period; 0 turns the schedule off. */
export const DEFAULT_LOCAL_RECONCILE_MS = 5 * 60_000;

export function localReconcileMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SHEET_SYNC_LOCAL_RECONCILE_MS;
  if (raw === undefined || raw === "") return DEFAULT_LOCAL_RECONCILE_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || (ms !== 0 && ms < 5_000)) {
    throw new Error(
      `SHEET_SYNC_LOCAL_RECONCILE_MS must be 0 (off) or a whole number of ms ≥ 5000, not "${raw}"`,
    );
  }
  return ms;
}

export interface ScheduleOptions {
  functionsOrigin: string;
  project: string;
  region: string;
  /** The scheduled function's name in functions/src/index.ts. */
  name: string;
  everyMs: number;
  log: (msg: string) => void;
  /** After each run (ok or not): the page shows the stored report. */
  onRun?: (view: ScheduleView) => void;
  /** What the run found, from its stored report, for the log line. */
  summary?: () => Promise<string | null>;
}

export interface ReconcileSchedule {
  view(): ScheduleView;
  /** Runs it now (the timer then counts from here). */
  runNow(): Promise<void>;
  stop(): void;
}

interface ListedFunction {
  id?: string;
  name?: string;
  schedule?: { schedule?: string } | null;
}

/** The function's deployed schedule ("every 60 minutes"), from the emulator's /backends. */
async function deployedSchedule(origin: string, id: string): Promise<string | null> {
  const res = await fetch(`${origin}/backends`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) return null;
  const body = (await res.json()) as { backends?: { functionTriggers?: ListedFunction[] }[] };
  for (const b of body.backends ?? []) {
    const fn = b.functionTriggers?.find((f) => f.id === id);
    if (fn) return fn.schedule?.schedule ?? null;
  }
  return null;
}

export async function startReconcileSchedule(o: ScheduleOptions): Promise<ReconcileSchedule> {
  const id = `${o.region}-${o.name}`;
  // The emulator keys event-style functions by `-<generation>`, which moves on a hot reload;
  // a 404 lists the current keys (as for the Firestore trigger delivery).
  let generation = 0;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const state: ScheduleView = {
    everyMs: o.everyMs,
    nextAt: null,
    deployed: null,
    via: `emulator: POST ${o.functionsOrigin}/functions/projects/${o.project}/triggers/${id}-<generation>`,
    last: null,
  };

  async function invoke(): Promise<void> {
    const scheduleTime = new Date().toISOString();
    for (let attempt = 0; attempt < 2; attempt++) {
      const url = `${o.functionsOrigin}/functions/projects/${o.project}/triggers/${id}-${generation}`;
      const res = await fetch(url, {
        method: "POST",
        headers: {
          // What Cloud Scheduler sends; onSchedule makes the event's jobName and scheduleTime of them.
          "content-type": "application/json",
          "x-cloudscheduler-jobname": `firebase-schedule-${o.name}-${o.region}`,
          "x-cloudscheduler-scheduletime": scheduleTime,
        },
        body: "{}",
        signal: AbortSignal.timeout(10 * 60_000),
      });
      const text = await res.text();
      if (res.status === 404 && attempt === 0) {
        const key = (/valid functions are: (.*)$/s.exec(text)?.[1] ?? "")
          .split(",")
          .map((k) => k.trim())
          .find((k) => k.startsWith(`${id}-`) && /^\d+$/.test(k.slice(id.length + 1)));
        if (!key) throw new Error(`the emulator has not loaded ${o.name}: ${text.slice(0, 200)}`);
        generation = Number(key.slice(id.length + 1));
        continue;
      }
      // 204: the emulator disabled its background functions while it reloads them.
      if (res.status !== 200) throw new Error(`${o.name} answered HTTP ${res.status} ${text}`);
      return;
    }
  }

  function arm(): void {
    if (stopped || o.everyMs <= 0) return;
    if (timer) clearTimeout(timer);
    state.nextAt = Date.now() + o.everyMs;
    timer = setTimeout(() => void runNow(), o.everyMs);
  }

  async function run(): Promise<void> {
    const started = Date.now();
    state.nextAt = null;
    try {
      state.deployed ??= await deployedSchedule(o.functionsOrigin, id).catch(() => null);
      await invoke();
      const found = (await o.summary?.().catch(() => null)) ?? null;
      const text = `ran ${o.name} in ${Date.now() - started} ms${found ? `: ${found}` : ""}`;
      state.last = { at: started, ok: true, text };
      o.log(`scheduled reconcile: ${text}`);
    } catch (err) {
      const text = `${o.name} failed: ${(err as Error).message}`;
      state.last = { at: started, ok: false, text };
      o.log(`scheduled reconcile: ${text}`);
    }
  }

  function runNow(): Promise<void> {
    // One run at a time: a tick during a long run joins it.
    running ??= run().finally(() => {
      running = null;
      arm();
      if (!stopped) o.onRun?.(view());
    });
    return running;
  }

  const view = (): ScheduleView => ({ ...state, last: state.last && { ...state.last } });

  state.deployed = await deployedSchedule(o.functionsOrigin, id).catch(() => null);
  if (state.deployed === null) o.log(`the emulator does not list ${id} as scheduled`);
  arm();
  return {
    view,
    runNow,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      state.nextAt = null;
    },
  };
}
