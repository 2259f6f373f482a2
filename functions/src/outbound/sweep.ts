/**
 * The safety net: a row can sit in the outbox with no flush coming (the
 * trigger wrote it but could not enqueue the task; a permanent error was
 * fixed since). Every few minutes, schedule a flush for each sheet that has
 * rows waiting longer than a flush ever should.
 */
import type { Firestore } from "firebase-admin/firestore";
import { OUTBOX_COLLECTION } from "../config.js";
import { flushTaskId, type FlushTask } from "./schedule.js";

export const STALE_AFTER_MS = 2 * 60 * 1000;

export async function sweepOutbox(
  db: Firestore,
  now: number,
  schedule: (task: FlushTask, key: string, id: string) => Promise<unknown>,
): Promise<string[]> {
  const stale = await db
    .collection(OUTBOX_COLLECTION)
    .where("queuedAt", "<", now - STALE_AFTER_MS)
    .limit(1000)
    .get();
  const sheets = new Map<string, FlushTask>();
  for (const doc of stale.docs) {
    const { sheetKey, spreadsheetId, sheetName } = doc.data();
    if (
      typeof sheetKey === "string" &&
      typeof spreadsheetId === "string" &&
      typeof sheetName === "string"
    ) {
      sheets.set(sheetKey, { spreadsheetId, sheetName });
    }
  }
  // One sweep task per sheet per 10 minutes, however often the sweep runs.
  const slot = `sweep:${Math.floor(now / 600_000)}`;
  await Promise.all([...sheets].map(([key, task]) => schedule(task, key, flushTaskId(key, slot))));
  return [...sheets.keys()];
}
