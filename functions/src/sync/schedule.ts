/**
 * Flush task ids and windows. All changes of one sheet within one window
 * share a task id, so a burst of thousands of writes enqueues a handful of
 * tasks (the rest are `task-already-exists`, which is success). The task runs
 * after its window ends plus a quiet moment, so every change of the window is
 * already in the outbox when it runs.
 */
import { createHash } from "node:crypto";
import { FLUSH_QUIET_MS, FLUSH_WINDOW_MS } from "./tuning.js";

export function flushTaskId(key: string, label: string): string {
  return `flush-${createHash("sha256").update(`${key}|${label}`).digest("hex").slice(0, 40)}`;
}

export function windowOf(now: number): { label: string; runAt: number } {
  const w = Math.floor(now / FLUSH_WINDOW_MS);
  return { label: `w${w}`, runAt: (w + 1) * FLUSH_WINDOW_MS + FLUSH_QUIET_MS };
}
