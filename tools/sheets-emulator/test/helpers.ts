// Starts an emulator on a free loopback port with a controllable clock, plus a real client.

import { sheets, type sheets_v4 } from "@googleapis/sheets";
import { startSheetsEmulator, type RunningSheetsEmulator } from "../src/index.js";

export interface Harness {
  running: RunningSheetsEmulator;
  api: sheets_v4.Sheets;
  /** Same client with the library's default retries (GET/PUT retried on 429/5xx). */
  retryingApi: sheets_v4.Sheets;
  clock: { now: number };
}

export async function startHarness(quota?: { writes?: number; reads?: number }): Promise<Harness> {
  const clock = { now: Date.UTC(2026, 10, 21, 15, 30, 0) };
  const running = await startSheetsEmulator({
    port: 0,
    now: () => clock.now,
    ...(quota?.writes === undefined ? {} : { quotaWritesPerMinute: quota.writes }),
    ...(quota?.reads === undefined ? {} : { quotaReadsPerMinute: quota.reads }),
  });
  // Retries off by default so each call maps to exactly one request.
  const api = sheets({ version: "v4", rootUrl: running.url, retry: false });
  const retryingApi = sheets({
    version: "v4",
    rootUrl: running.url,
    retryConfig: { retryDelay: 1, retryDelayMultiplier: 1 },
  });
  return { running, api, retryingApi, clock };
}

export interface ApiErrorLike {
  status?: number;
  code?: number | string;
  message: string;
  response?: {
    data?: { error?: { code: number; message: string; status: string; details?: unknown[] } };
  };
}

/** Runs a call that must fail and returns the client's error. */
export async function failure(p: Promise<unknown>): Promise<ApiErrorLike> {
  try {
    await p;
  } catch (e) {
    return e as ApiErrorLike;
  }
  throw new Error("expected the call to fail");
}
