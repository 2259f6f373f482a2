/* eslint-disable @typescript-eslint/no-explicit-any -- the manifest is untyped JSON */
import assert from "node:assert/strict";

describe("deploy manifest", () => {
  it("declares sheetWebhook as an HTTPS function with the secret, region and limits", async () => {
    const { sheetWebhook } = await import("../../src/index.js");
    const endpoint = (sheetWebhook as unknown as { __endpoint: Record<string, unknown> })
      .__endpoint;
    assert.deepEqual(endpoint.region, ["us-central1"]);
    assert.deepEqual(endpoint.httpsTrigger, {});
    assert.deepEqual(endpoint.secretEnvironmentVariables, [{ key: "SHEET_SYNC_SECRET" }]);
    assert.equal(endpoint.timeoutSeconds, 300);
    assert.equal(endpoint.availableMemoryMb, 512);
    assert.equal(endpoint.platform, "gcfv2");
  });

  it("declares onRowWritten on the rows collection and flushToSheet with the quota-derived limits", async () => {
    const { onRowWritten, flushToSheet } = await import("../../src/index.js");
    const trigger = (onRowWritten as unknown as { __endpoint: Record<string, any> }).__endpoint;
    assert.equal(trigger.eventTrigger.eventType, "google.cloud.firestore.document.v1.written");
    assert.equal(trigger.eventTrigger.eventFilterPathPatterns.document, "rows/{rowId}");
    assert.equal(trigger.eventTrigger.retry, true, "a failed delete event is retried, not lost");
    const flush = (flushToSheet as unknown as { __endpoint: Record<string, any> }).__endpoint;
    assert.deepEqual(flush.taskQueueTrigger.rateLimits, {
      maxConcurrentDispatches: 1,
      maxDispatchesPerSecond: 0.3,
    });
    assert.deepEqual(flush.taskQueueTrigger.retryConfig, {
      maxAttempts: 12,
      maxRetrySeconds: 3600,
      minBackoffSeconds: 5,
      maxBackoffSeconds: 300,
      maxDoublings: 5,
    });
    // 0.3 flushes/s × 3 write requests = 54 a minute: under Sheets' 60 per minute per user.
    assert.ok(flush.taskQueueTrigger.rateLimits.maxDispatchesPerSecond * 60 * 3 <= 60);
  });

  it("declares the reconcile: a queue that runs one at a time, and a schedule", async () => {
    const { reconcileSheet, scheduledReconcile } = await import("../../src/index.js");
    const queue = (reconcileSheet as unknown as { __endpoint: Record<string, any> }).__endpoint;
    assert.equal(queue.taskQueueTrigger.rateLimits.maxConcurrentDispatches, 1);
    const schedule = (scheduledReconcile as unknown as { __endpoint: Record<string, any> })
      .__endpoint;
    assert.equal(schedule.scheduleTrigger.schedule, "every 60 minutes");
  });
});
