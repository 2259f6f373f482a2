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
});
