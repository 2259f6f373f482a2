/**
 * Scheduling flushes. All changes of one sheet within one window share a
 * task id, so a burst of thousands of writes enqueues a handful of tasks
 * (the rest get `task-already-exists`, which is success). The task runs
 * after its window ends plus a quiet moment, so every change of the window
 * is already in the outbox when it runs.
 */
import { createHash } from "node:crypto";
import { getFunctions } from "firebase-admin/functions";
import { FLUSH_QUIET_MS, FLUSH_WINDOW_MS, REGION } from "../config.js";

export interface FlushTask {
  spreadsheetId: string;
  sheetName: string;
}

export function flushTaskId(key: string, label: string): string {
  return `flush-${createHash("sha256").update(`${key}|${label}`).digest("hex").slice(0, 40)}`;
}

export function windowOf(now: number): { label: string; runAt: number } {
  const w = Math.floor(now / FLUSH_WINDOW_MS);
  return { label: `w${w}`, runAt: (w + 1) * FLUSH_WINDOW_MS + FLUSH_QUIET_MS };
}

export async function scheduleFlush(
  task: FlushTask,
  key: string,
  id: string,
  runAt: number,
): Promise<"enqueued" | "exists"> {
  const queue = getFunctions().taskQueue<FlushTask>(`locations/${REGION}/functions/flushToSheet`);
  try {
    await queue.enqueue(task, { id, scheduleTime: new Date(runAt) });
    return "enqueued";
  } catch (err) {
    if ((err as { code?: string }).code === "functions/task-already-exists") return "exists";
    throw err;
  }
}
