import { strict as assert } from "node:assert";
import type { RequestEvent } from "../src/index.js";
import { failure, startHarness, type Harness } from "./helpers.js";

const ID = "q";

describe("quotas, faults, stats and admin endpoints", () => {
  let h: Harness;

  before(async () => {
    h = await startHarness({ writes: 3, reads: 2 });
  });
  after(async () => {
    await h.running.close();
  });
  beforeEach(() => {
    const e = h.running.emulator;
    e.reset();
    e.setQuota({ writesPerMinute: 3, readsPerMinute: 2 });
    e.seed(ID, { sheets: [{ title: "S", rows: [["a"]] }] });
  });

  const write = (v: string) =>
    h.api.spreadsheets.values.update({
      spreadsheetId: ID,
      range: "S!A1",
      valueInputOption: "RAW",
      requestBody: { values: [[v]] },
    });
  const read = () => h.api.spreadsheets.values.get({ spreadsheetId: ID, range: "S!A1" });

  it("answers 429 after N writes in a minute, changes nothing, and recovers after the window", async () => {
    await write("1");
    h.clock.now += 20_000;
    await write("2");
    await write("3");
    const err = await failure(write("4"));
    assert.equal(err.status, 429);
    assert.equal(err.code, 429);
    assert.match(
      err.message,
      /^Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com'/,
    );
    assert.equal(err.response?.data?.error?.status, "RESOURCE_EXHAUSTED");
    assert.ok(Array.isArray(err.response?.data?.error?.details));
    assert.equal(h.running.emulator.snapshot(ID)?.sheets[0]?.values[0]?.[0], "3");
    // Reads have their own bucket.
    await read();
    // 40 s after the first write it leaves the sliding window: one slot frees up.
    h.clock.now += 40_001;
    await write("5");
    await failure(write("6"));
    h.clock.now += 20_000;
    await write("7");
    const stats = h.running.emulator.stats();
    assert.equal(stats.byMethod["values.update"], 7);
    assert.equal(stats.writes, 5);
    assert.equal(stats.reads, 1);
    assert.equal(stats.rejectedByMethod["values.update"], 2);
    assert.equal(stats.rejected, 2);
    assert.equal(stats.errorsByStatus["429"], 2);
  });

  it("counts reads separately and keys quota by user", async () => {
    await read();
    await h.api.spreadsheets.values.batchGet({ spreadsheetId: ID, ranges: ["S!A1", "S!B1"] });
    const err = await failure(h.api.spreadsheets.get({ spreadsheetId: ID }));
    assert.match(err.message, /'Read requests per minute per user'/);
    // Another user (quotaUser, or a different Authorization header) has its own quota.
    await h.api.spreadsheets.get({ spreadsheetId: ID, quotaUser: "someone-else" });
  });

  it("returns injected faults exactly count times, then behaves normally", async () => {
    h.running.emulator.injectFaults([
      { status: 503, count: 2, methods: ["values.batchUpdate"] },
      { status: 403, count: 1, methods: ["values.get"] },
    ]);
    const batch = () =>
      h.api.spreadsheets.values.batchUpdate({
        spreadsheetId: ID,
        requestBody: { valueInputOption: "RAW", data: [{ range: "S!B1", values: [["x"]] }] },
      });
    for (let i = 0; i < 2; i += 1) {
      const err = await failure(batch());
      assert.equal(err.status, 503);
      assert.equal(err.message, "The service is currently unavailable.");
      assert.equal(err.response?.data?.error?.status, "UNAVAILABLE");
    }
    await batch();
    const denied = await failure(read());
    assert.equal(denied.status, 403);
    assert.equal(denied.message, "The caller does not have permission");
    assert.equal(denied.response?.data?.error?.status, "PERMISSION_DENIED");
    assert.deepEqual((await read()).data.values, [["a"]]);
    assert.deepEqual(h.running.emulator.pendingFaults(), []);
    // Faulted requests never reached the data, nor the quota.
    assert.equal(h.running.emulator.stats().writes, 1);
  });

  it("lets the client's own retries absorb a transient 500 on GET", async () => {
    h.running.emulator.injectFaults([{ status: 500, count: 1 }]);
    const { data } = await h.retryingApi.spreadsheets.values.get({
      spreadsheetId: ID,
      range: "S!A1",
    });
    assert.deepEqual(data.values, [["a"]]);
    assert.equal(h.running.emulator.stats().byMethod["values.get"], 2);
  });

  it("emits request events and applies latency", async () => {
    const events: RequestEvent[] = [];
    const listener = (e: RequestEvent) => events.push(e);
    h.running.emulator.on("request", listener);
    h.running.emulator.setLatency(30);
    const started = Date.now();
    await read();
    await failure(h.api.spreadsheets.values.get({ spreadsheetId: ID, range: "Nope!A1" }));
    h.running.emulator.off("request", listener);
    assert.ok(Date.now() - started >= 55);
    assert.deepEqual(
      events.map((e) => [e.method, e.status, e.outcome, e.spreadsheetId]),
      [
        ["values.get", 200, "ok", ID],
        ["values.get", 400, "error", ID],
      ],
    );
  });

  it("rejects unknown query parameters like Google", async () => {
    const err = await failure(
      h.api.spreadsheets.values.get({ spreadsheetId: ID, range: "S!A1", bogus: "1" } as never),
    );
    assert.equal(err.status, 400);
    assert.match(err.message, /Unknown name "bogus": Cannot bind query parameter/);
  });

  it("offers the admin API over HTTP for other processes", async () => {
    const base = `${h.running.url}__emulator`;
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      });
    let res = await post("/spreadsheets/http-1", {
      timeZone: "America/New_York",
      sheets: [
        {
          title: "Log",
          rows: [
            ["when", "n"],
            [{ $date: "2026-11-21T15:30:00Z" }, "=1+1"],
          ],
        },
      ],
    });
    assert.equal(res.status, 200);
    res = await fetch(`${base}/spreadsheets/http-1`);
    const snap = (await res.json()) as {
      sheets: { values: unknown[][]; formatted: unknown[][]; formulas: unknown[][] }[];
    };
    assert.deepEqual(snap.sheets[0]?.values, [
      ["when", "n"],
      [46347.4375, 2],
    ]);
    assert.deepEqual(snap.sheets[0]?.formatted, [
      ["when", "n"],
      ["2026-11-21 10:30:00", "2"],
    ]);
    assert.deepEqual(snap.sheets[0]?.formulas, [
      [null, null],
      [null, "=1+1"],
    ]);

    await post("/faults", [{ status: 500, count: 1, methods: ["spreadsheets.get"] }]);
    const faulted = await failure(h.api.spreadsheets.get({ spreadsheetId: "http-1" }));
    assert.equal(faulted.status, 500);
    assert.equal(faulted.response?.data?.error?.status, "INTERNAL");

    await post("/quota", { writesPerMinute: 1, readsPerMinute: 100 });
    await post("/latency", { ms: 0 });
    const stats = (await (await fetch(`${base}/stats`)).json()) as {
      byMethod: Record<string, number>;
    };
    assert.equal(stats.byMethod["spreadsheets.get"], 1);
    await post("/stats/reset", {});
    const cleared = (await (await fetch(`${base}/stats`)).json()) as { total: number };
    assert.equal(cleared.total, 0);

    await post("/reset", {});
    assert.equal((await fetch(`${base}/spreadsheets/http-1`)).status, 404);
    assert.equal((await fetch(`${h.running.url}elsewhere`)).status, 404);
  });

  it("leaves foreign paths to the host server", () => {
    const fake = { url: "/__stack/status", method: "GET", headers: {} };
    assert.equal(h.running.emulator.handle(fake as never, {} as never), false);
  });
});
