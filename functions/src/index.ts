/**
 * Sheet Sync's Cloud Functions. Triggers only: each unpacks its input and
 * hands it to the use cases in sync/, wired to Firestore (store/) and the
 * Sheets API (sheets/). The Sheets client is loaded only where it is used.
 */
import { initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { onRequest } from "firebase-functions/v2/https";
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { z } from "zod";
import { isRowId } from "../../contract/src/limits.js";
import {
  FLUSH_RATE_LIMITS,
  FLUSH_RETRY,
  MAX_BODY_BYTES,
  RECONCILE_RATE_LIMITS,
  RECONCILE_RETRY,
  RECONCILE_SCHEDULE,
  REGION,
  ROWS_TRIGGER_DOCUMENT,
  syncConfig,
  webhookSecret,
  type SyncConfig,
} from "./config.js";
import { createWebhookHandler } from "./ingest/webhook.js";
import { FirestoreStore } from "./store/firestoreStore.js";
import { enqueue, type SheetTask } from "./tasks.js";
import { handleDocEvent } from "./sync/docEvents.js";
import { ingestBatch } from "./sync/ingest.js";
import { describeRows } from "./sync/describe.js";
import type { ReconcileTrigger } from "./sync/ports.js";
import { flushTaskId } from "./sync/schedule.js";
import * as logs from "./logs.js";

// In the emulator, name the service account the task queue would put in a
// task's OIDC token; otherwise the Admin SDK asks the GCE metadata server
// (169.254.169.254) for it, which is not there locally. Deployed, it asks.
initializeApp(
  process.env.FUNCTIONS_EMULATOR === "true"
    ? { serviceAccountId: "sheet-sync@demo-sheet-sync.iam.gserviceaccount.com" }
    : undefined,
);

function wiring(config: SyncConfig) {
  const store = new FirestoreStore(getFirestore(), config);
  const task: SheetTask = { spreadsheetId: config.spreadsheetId, sheetName: config.sheetName };
  const schedule = (id: string, runAt: number) => enqueue("flushToSheet", task, id, runAt);
  return { store, task, schedule, now: Date.now };
}

async function gateway(config: SyncConfig) {
  const [{ sheetsApi }, { SheetsGateway }] = await Promise.all([
    import("./sheets/client.js"),
    import("./sheets/gateway.js"),
  ]);
  return new SheetsGateway(
    sheetsApi(config.sheetsApiRootUrl),
    config.spreadsheetId,
    config.sheetName,
  );
}

async function reconcile(config: SyncConfig, trigger: ReconcileTrigger) {
  const { reconcileSheet } = await import("./sync/reconcile.js");
  const w = wiring(config);
  const report = await reconcileSheet({ ...w, sheet: await gateway(config) }, trigger);
  logs.reconcileFinished({
    sheet: w.store.sheetKey,
    trigger,
    rows: report.rows,
    counts: report.counts,
    conflicts: report.conflicts,
    ms: report.durationMs,
  });
  return report;
}

export const sheetWebhook = onRequest(
  {
    region: REGION,
    secrets: [webhookSecret],
    // A 10,000-row batch is a hundred transactions; leave room for a slow Firestore.
    timeoutSeconds: 300,
    memory: "512MiB",
    // The sender retries from its outbox; no need for a big fleet for one sheet.
    maxInstances: 10,
    concurrency: 20,
  },
  createWebhookHandler({
    secret: () => webhookSecret.value(),
    sheet: () => syncConfig(),
    ingest: (batch) => ingestBatch(wiring(syncConfig()), batch),
    reconcile: () => reconcile(syncConfig(), "request"),
    describe: (ids) => describeRows(wiring(syncConfig()).store, ids),
    now: Date.now,
    maxBodyBytes: MAX_BODY_BYTES,
  }),
);

export const onRowWritten = onDocumentWritten(
  // Retried on failure, so a delete whose handling failed once is not lost.
  { region: REGION, document: ROWS_TRIGGER_DOCUMENT, retry: true },
  async (event) => {
    const rowId = (event.params as Record<string, string | undefined>).rowId;
    if (!rowId) return;
    if (!isRowId(rowId)) {
      // The sheet's script would re-key such a row, making a second document on every edit.
      logs.rowIdUnusable({ rowId });
      return;
    }
    const isDelete = !event.data?.after.exists;
    const outcome = await handleDocEvent(wiring(syncConfig()), rowId, {
      at: Date.parse(event.time) || Date.now(),
      isDelete,
    });
    if (outcome !== "unchanged") logs.docEventHandled({ rowId, outcome, isDelete });
  },
);

const sheetTaskSchema = z.strictObject({
  spreadsheetId: z.string().min(1),
  sheetName: z.string().min(1),
});

/** A task for another tab than the configured one (an old deployment's) can never succeed. */
function taskFor(data: unknown, config: SyncConfig): string | null {
  const parsed = sheetTaskSchema.safeParse(data);
  if (!parsed.success) return `bad task payload: ${parsed.error.message}`;
  if (
    parsed.data.spreadsheetId !== config.spreadsheetId ||
    parsed.data.sheetName !== config.sheetName
  ) {
    return `task for another tab (${parsed.data.spreadsheetId}:${parsed.data.sheetName})`;
  }
  return null;
}

export const flushToSheet = onTaskDispatched(
  {
    region: REGION,
    retryConfig: FLUSH_RETRY,
    rateLimits: FLUSH_RATE_LIMITS,
    timeoutSeconds: 540,
    memory: "512MiB",
  },
  async (req) => {
    const config = syncConfig();
    const w = wiring(config);
    const problem = taskFor(req.data, config);
    if (problem) {
      // A malformed task can never succeed: acknowledge it rather than retry forever.
      logs.flushFailedPermanently({ sheet: w.store.sheetKey, reason: problem });
      return;
    }
    const { flushSheet } = await import("./sync/flush.js");
    try {
      const report = await flushSheet(
        {
          ...w,
          sheet: await gateway(config),
          requestReconcile: (at = Date.now()) =>
            enqueue(
              "reconcileSheet",
              w.task,
              flushTaskId(w.store.sheetKey, `recovery:${Math.floor(at / 60_000)}`),
              at,
            ),
        },
        req.id,
      );
      if (report.outcome === "permanent_error")
        logs.flushFailedPermanently({ sheet: w.store.sheetKey, reason: report.error ?? "" });
      else logs.flushFinished({ sheet: w.store.sheetKey, ...report });
    } catch (err) {
      logs.flushWillRetry({
        sheet: w.store.sheetKey,
        error: err instanceof Error ? err.message : String(err),
        retryCount: req.retryCount,
      });
      throw err;
    }
  },
);

export const reconcileSheet = onTaskDispatched(
  {
    region: REGION,
    retryConfig: RECONCILE_RETRY,
    rateLimits: RECONCILE_RATE_LIMITS,
    timeoutSeconds: 540,
    memory: "1GiB",
  },
  async (req) => {
    const config = syncConfig();
    const problem = taskFor(req.data, config);
    if (problem) {
      logs.reconcileFailed(new Error(problem));
      return;
    }
    await reconcile(config, "recovery");
  },
);

/**
 * The safety net, on a schedule: a reconcile of the whole tab (finds what a
 * lost webhook or event left different), and a flush for rows that waited
 * too long (the trigger wrote them but could not enqueue the task).
 */
export const scheduledReconcile = onSchedule(
  { region: REGION, schedule: RECONCILE_SCHEDULE, timeoutSeconds: 540, memory: "1GiB" },
  async () => {
    const config = syncConfig();
    const w = wiring(config);
    const waiting = await w.store.queued(1);
    if (waiting.length && Date.now() - waiting[0]!.queuedAt > 2 * 60_000) {
      logs.outboxSwept({ sheet: w.store.sheetKey, rows: waiting.length });
      await w.schedule(
        flushTaskId(w.store.sheetKey, `sweep:${Math.floor(Date.now() / 600_000)}`),
        Date.now(),
      );
    }
    await reconcile(config, "schedule");
  },
);
