/**
 * Sheet Sync's Cloud Functions. Triggers only: each unpacks its input and
 * hands it to the code in core/ and ingest/.
 */
import { initializeApp } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { onRequest } from "firebase-functions/v2/https";
import { MAX_BODY_BYTES, REGION, syncConfig, webhookSecret } from "./config.js";
import { ingestBatch } from "./ingest/rowStore.js";
import { createWebhookHandler } from "./ingest/webhook.js";

initializeApp();

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
