/**
 * Cloud Tasks: the flush and reconcile queues. A task id dedups (Cloud Tasks
 * remembers ids for about an hour): `task-already-exists` is success.
 */
import { getFunctions } from "firebase-admin/functions";
import { REGION } from "./config.js";

/** What a flush or reconcile task carries: which tab. */
export interface SheetTask {
  spreadsheetId: string;
  sheetName: string;
}

export async function enqueue(
  functionName: "flushToSheet" | "reconcileSheet",
  task: SheetTask,
  id: string,
  runAt: number,
): Promise<"enqueued" | "exists"> {
  const queue = getFunctions().taskQueue<SheetTask>(
    `locations/${REGION}/functions/${functionName}`,
  );
  try {
    await queue.enqueue(task, { id, scheduleTime: new Date(runAt) });
    return "enqueued";
  } catch (err) {
    if ((err as { code?: string }).code === "functions/task-already-exists") return "exists";
    throw err;
  }
}
