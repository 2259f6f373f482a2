/**
 * Sheet Sync's Cloud Functions. Triggers only: each unpacks its input and
 * hands it to the code in core/, ingest/ and outbound/.
 */
import { initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { onRequest } from "firebase-functions/v2/https";
import { onDocumentWritten } from "firebase-functions/v2/firestore";
import { onTaskDispatched } from "firebase-functions/v2/tasks";
import { onSchedule } from "firebase-functions/v2/scheduler";
import { z } from "zod";
import {
  FLUSH_RATE_LIMITS,
  FLUSH_RETRY,
  MAX_BODY_BYTES,
  REGION,
  ROWS_TRIGGER_DOCUMENT,
  sheetKey,
  syncConfig,
  webhookSecret,
} from "./config.js";
import { ingestBatch } from "./ingest/rowStore.js";
import { ROW_ID_PATTERN } from "./core/batch.js";
import { createWebhookHandler } from "./ingest/webhook.js";
import { recordRowWrite } from "./outbound/rowTrigger.js";
import { flushSheet } from "./outbound/flush.js";
import { scheduleFlush, flushTaskId, windowOf } from "./outbound/schedule.js";
import { sheetsApi } from "./sheets/client.js";
import { sweepOutbox } from "./outbound/sweep.js";
import * as logs from "./logs.js";

// In the emulator, name the service account the task queue would put in a
// task's OIDC token; otherwise the Admin SDK asks the GCE metadata server
// (169.254.169.254) for it, which is not there locally. Deployed, it asks.
initializeApp(
  process.env.FUNCTIONS_EMULATOR === "true"
    ? { serviceAccountId: "sheet-sync@demo-sheet-sync.iam.gserviceaccount.com" }
    : undefined,
);

export const sheetWebhook = onRequest(
  {
    region: REGION,
    secrets: [webhookSecret],
    // A 10,000-row batch is tens of transactions; leave room for a slow Firestore.
    timeoutSeconds: 300,
    memory: "512MiB",
    // The sender retries from its outbox; no need for a big fleet for one sheet.
    maxInstances: 10,
    concurrency: 20,
  },
  createWebhookHandler({
    secret: () => webhookSecret.value(),
    config: syncConfig,
    ingest: (batch, config, now) => ingestBatch(getFirestore(), batch, config, now),
    now: Date.now,
    maxBodyBytes: MAX_BODY_BYTES,
  }),
);

export const onRowWritten = onDocumentWritten(
  { region: REGION, document: ROWS_TRIGGER_DOCUMENT },
  async (event) => {
    const config = syncConfig();
    const rowId = (event.params as Record<string, string | undefined>).rowId;
    if (!rowId) return;
    if (!ROW_ID_PATTERN.test(rowId)) {
      // The sheet's script would re-key such a row, making a second document on every edit.
      logs.rowIdUnusable({ rowId });
      return;
    }
    const now = Date.now();
    const { outcome, entry } = await recordRowWrite(getFirestore(), config, rowId, {
      timeMs: Date.parse(event.time) || now,
      isDelete: !event.data?.after.exists,
      now,
    });
    if (!entry) return;
    logs.rowChangeRecorded({ rowId, outcome, changedAt: entry.changedAt });
    const task = { spreadsheetId: config.spreadsheetId, sheetName: config.sheetName };
    const key = sheetKey(task.spreadsheetId, task.sheetName);
    // The window of when the outbox entry was written, not of when the event arrived.
    const window = windowOf(Date.now());
    await scheduleFlush(task, key, flushTaskId(key, window.label), window.runAt);
  },
);

const flushTaskSchema = z.strictObject({
  spreadsheetId: z.string().min(1),
  sheetName: z.string().min(1),
});

export const flushToSheet = onTaskDispatched(
  {
    region: REGION,
    retryConfig: FLUSH_RETRY,
    rateLimits: FLUSH_RATE_LIMITS,
    timeoutSeconds: 540,
    memory: "512MiB",
  },
  async (req) => {
    const parsed = flushTaskSchema.safeParse(req.data);
    if (!parsed.success) {
      // A malformed task can never succeed: acknowledge it rather than retry forever.
      logs.flushFailedPermanently({
        sheet: "?",
        reason: `bad task payload: ${parsed.error.message}`,
      });
      return;
    }
    const config = syncConfig();
    const task = parsed.data;
    const key = sheetKey(task.spreadsheetId, task.sheetName);
    try {
      const report = await flushSheet(
        {
          db: getFirestore(),
          api: sheetsApi(config.sheetsApiRootUrl),
          config,
          now: Date.now,
          schedule: (t, id, runAt) => scheduleFlush(t, key, id, runAt),
        },
        task,
        req.id,
      );
      if (report.outcome === "permanent_error")
        logs.flushFailedPermanently({ sheet: key, reason: report.error ?? "" });
      else logs.flushFinished({ sheet: key, ...report });
    } catch (err) {
      logs.flushWillRetry({
        sheet: key,
        error: err instanceof Error ? err.message : String(err),
        retryCount: req.retryCount,
      });
      throw err;
    }
  },
);

export const sweepSyncOutbox = onSchedule(
  { region: REGION, schedule: "every 10 minutes" },
  async () => {
    const now = Date.now();
    const sheets = await sweepOutbox(getFirestore(), now, (task, key, id) =>
      scheduleFlush(task, key, id, now),
    );
    if (sheets.length) logs.outboxSwept({ sheets });
  },
);
