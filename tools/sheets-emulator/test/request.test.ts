// SheetsEmulator.request(): the HTTP code path without a socket, checked against the real
// client over HTTP.

import { strict as assert } from "node:assert";
import type { RequestEvent } from "../src/index.js";
import { failure, startHarness, type Harness } from "./helpers.js";

const ID = "req-1";

describe("in-process request()", () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.running.close();
  });
  beforeEach(() => {
    h.running.emulator.reset();
    h.running.emulator.seed(ID, {
      timeZone: "America/New_York",
      sheets: [
        {
          title: "Sheet1",
          rows: [
            ["id", "due", "total"],
            ["r1", "2026-11-20", "=2*3"],
          ],
        },
        { title: "My Sheet", rows: [["x"]] },
      ],
    });
  });

  it("answers values.batchGet exactly as the real client sees it over HTTP", async () => {
    const emulator = h.running.emulator;
    const ranges = ["Sheet1!A1:C2", "'My Sheet'!A1:B9", "Sheet1!D5"];
    const http = await h.api.spreadsheets.values.batchGet({
      spreadsheetId: ID,
      ranges,
      valueRenderOption: "UNFORMATTED_VALUE",
      dateTimeRenderOption: "FORMATTED_STRING",
    });
    const direct = await emulator.request({
      method: "GET",
      path: `/v4/spreadsheets/${ID}/values:batchGet`,
      query: {
        ranges,
        valueRenderOption: "UNFORMATTED_VALUE",
        dateTimeRenderOption: "FORMATTED_STRING",
      },
    });
    assert.equal(direct.status, 200);
    assert.deepEqual(direct.body, http.data);
    const stats = emulator.stats();
    assert.equal(stats.byMethod["values.batchGet"], 2);
    assert.equal(stats.reads, 2);
  });

  it("gives errors, faults and quota the wire's status and body", async () => {
    const emulator = h.running.emulator;
    const events: RequestEvent[] = [];
    const listener = (e: RequestEvent) => events.push(e);
    emulator.on("request", listener);
    const bad = await failure(
      h.api.spreadsheets.values.get({ spreadsheetId: ID, range: "Nope!A1" }),
    );
    const direct = await emulator.request({
      path: `/v4/spreadsheets/${ID}/values/${encodeURIComponent("Nope!A1")}`,
    });
    assert.deepEqual(direct, { status: 400, body: bad.response?.data });

    emulator.injectFaults([{ status: 503, count: 1, methods: ["spreadsheets.get"] }]);
    const faulted = await emulator.request({ path: `/v4/spreadsheets/${ID}` });
    assert.equal(faulted.status, 503);
    assert.deepEqual(faulted.body, {
      error: { code: 503, message: "The service is currently unavailable.", status: "UNAVAILABLE" },
    });

    emulator.setQuota({ readsPerMinute: 1 });
    const user = { headers: { authorization: "Bearer someone" } };
    assert.equal((await emulator.request({ path: `/v4/spreadsheets/${ID}`, ...user })).status, 200);
    const over = await emulator.request({ path: `/v4/spreadsheets/${ID}`, ...user });
    assert.equal(over.status, 429);
    // Another user (the real client sends no Authorization here) has its own window.
    await h.api.spreadsheets.get({ spreadsheetId: ID });
    const overHttp = await failure(h.api.spreadsheets.get({ spreadsheetId: ID }));
    assert.deepEqual(over.body, overHttp.response?.data);
    emulator.off("request", listener);
    assert.deepEqual(
      events.map((e) => [e.method, e.status, e.outcome]),
      [
        ["values.get", 400, "error"],
        ["values.get", 400, "error"],
        ["spreadsheets.get", 503, "fault"],
        ["spreadsheets.get", 200, "ok"],
        ["spreadsheets.get", 429, "quota"],
        ["spreadsheets.get", 200, "ok"],
        ["spreadsheets.get", 429, "quota"],
      ],
    );
  });

  it("writes with a JSON body and reads grid data like the client", async () => {
    const emulator = h.running.emulator;
    const written = await emulator.request({
      method: "PUT",
      path: `/v4/spreadsheets/${ID}/values/${encodeURIComponent("Sheet1!A3")}?valueInputOption=USER_ENTERED`,
      body: { values: [["r2", "'=1+1", "=C2+1"]] },
    });
    assert.deepEqual(written, {
      status: 200,
      body: {
        spreadsheetId: ID,
        updatedRange: "Sheet1!A3:C3",
        updatedRows: 1,
        updatedColumns: 3,
        updatedCells: 3,
      },
    });
    const query = {
      ranges: ["Sheet1!A2:C3"],
      includeGridData: true,
      fields: "sheets(properties.title,data)",
    };
    const direct = await emulator.request({ path: `/v4/spreadsheets/${ID}`, query });
    const http = await h.api.spreadsheets.get({ spreadsheetId: ID, ...query });
    assert.equal(direct.status, 200);
    assert.deepEqual(direct.body, http.data);
    const invalidJson = await emulator.request({
      method: "POST",
      path: `/v4/spreadsheets/${ID}/values:batchClear`,
      body: "{nope",
    });
    assert.equal(invalidJson.status, 400);
  });

  it("serves the admin endpoints and 404s foreign paths", async () => {
    const emulator = h.running.emulator;
    await emulator.request({ path: `/v4/spreadsheets/${ID}` });
    const stats = await emulator.request({ path: "/__emulator/stats" });
    assert.deepEqual(stats, { status: 200, body: emulator.stats() });
    const seeded = await emulator.request({
      method: "POST",
      path: "/__emulator/spreadsheets/other",
      body: { sheets: [{ title: "A", rows: [[{ $date: "2026-11-20T00:00:00Z" }]] }] },
    });
    assert.deepEqual(seeded, { status: 200, body: { spreadsheetId: "other" } });
    assert.equal(emulator.snapshot("other")?.sheets[0]?.formatted[0]?.[0], "2026-11-20");
    assert.equal((await emulator.request({ path: "/elsewhere" })).status, 404);
    const unrouted = await emulator.request({ method: "DELETE", path: `/v4/spreadsheets/${ID}` });
    assert.equal(unrouted.status, 404);
  });
});
