/**
 * The local reconcile: the signed request, the period setting, the stand-in
 * for Cloud Scheduler against a fake Functions emulator (which keys the
 * scheduled function by generation, as firebase-tools does), and how the page
 * words a row's sync state.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { syncView } from "../src/page/server.js";
import {
  localReconcileMs,
  requestReconcile,
  signedHeaders,
  startReconcileSchedule,
} from "../src/reconcile.js";
import { HOST, waitFor } from "./helpers.js";

interface Hit {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A fake Functions emulator: `routes` answers by path; every request is recorded. */
async function fakeEmulator(
  routes: (hit: Hit) => { status: number; body: string },
): Promise<{ origin: string; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      const hit = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body };
      hits.push(hit);
      const reply = routes(hit);
      res.writeHead(reply.status, { "content-type": "application/json" }).end(reply.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  return { origin: `http://${HOST}:${(server.address() as AddressInfo).port}`, hits, server };
}

const BACKENDS = JSON.stringify({
  backends: [
    {
      functionTriggers: [
        { id: "us-central1-sheetWebhook", name: "sheetWebhook" },
        {
          id: "us-central1-scheduledReconcile",
          name: "scheduledReconcile",
          schedule: { schedule: "every 60 minutes" },
        },
      ],
    },
  ],
});

describe("local reconcile", function () {
  this.timeout(20_000);
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it("reads SHEET_SYNC_LOCAL_RECONCILE_MS: 5 min by default, 0 is off, nonsense is refused", () => {
    assert.equal(localReconcileMs({}), 300_000);
    assert.equal(localReconcileMs({ SHEET_SYNC_LOCAL_RECONCILE_MS: "0" }), 0);
    assert.equal(localReconcileMs({ SHEET_SYNC_LOCAL_RECONCILE_MS: "60000" }), 60_000);
    for (const bad of ["soon", "100", "-5", "1.5e3"]) {
      assert.throws(
        () => localReconcileMs({ SHEET_SYNC_LOCAL_RECONCILE_MS: bad }),
        /SHEET_SYNC_LOCAL_RECONCILE_MS/,
      );
    }
  });

  it("signs the reconcile request like the webhook: v1= HMAC-SHA256(secret, timestamp.body)", async () => {
    const fake = await fakeEmulator(() => ({
      status: 200,
      body: JSON.stringify({ at: 1, trigger: "request", rows: 2, counts: { "in-sync": 2 } }),
    }));
    servers.push(fake.server);
    const report = await requestReconcile({
      webhookUrl: `${fake.origin}/demo/us-central1/sheetWebhook/`,
      secret: "s3cret",
      spreadsheetId: "ss",
      sheetName: "Sheet1",
    });
    assert.deepEqual(report, { at: 1, trigger: "request", rows: 2, counts: { "in-sync": 2 } });
    const [hit] = fake.hits;
    assert.equal(hit?.path, "/demo/us-central1/sheetWebhook/reconcile");
    assert.equal(hit.body, '{"spreadsheetId":"ss","sheetName":"Sheet1"}');
    const ts = String(hit.headers["x-sheet-sync-timestamp"]);
    const mac = createHmac("sha256", "s3cret").update(`${ts}.${hit.body}`).digest("hex");
    assert.equal(hit.headers["x-sheet-sync-signature"], `v1=${mac}`);
    assert.deepEqual(Object.keys(signedHeaders("k", "{}")).sort(), [
      "content-type",
      "x-sheet-sync-signature",
      "x-sheet-sync-timestamp",
    ]);
  });

  it("runs scheduledReconcile through the emulator on its timer, following the trigger's generation", async () => {
    const fake = await fakeEmulator((hit) => {
      if (hit.path === "/backends") return { status: 200, body: BACKENDS };
      if (hit.path.endsWith("/triggers/us-central1-scheduledReconcile-2"))
        return { status: 200, body: "" };
      return {
        status: 404,
        body: "Function x does not exist, valid functions are: us-central1-sheetWebhook, us-central1-scheduledReconcile-2",
      };
    });
    servers.push(fake.server);
    const logged: string[] = [];
    const runs: number[] = [];
    const schedule = await startReconcileSchedule({
      functionsOrigin: fake.origin,
      project: "demo",
      region: "us-central1",
      name: "scheduledReconcile",
      everyMs: 200,
      log: (m) => logged.push(m),
      onRun: (view) => runs.push(view.last?.at ?? 0),
      summary: async () => "2 rows: 2 in-sync",
    });
    try {
      const view = schedule.view();
      assert.equal(view.deployed, "every 60 minutes");
      assert.equal(view.everyMs, 200);
      assert.ok(view.nextAt !== null && view.nextAt > Date.now() - 1_000);
      await waitFor("two scheduled runs", async () => (runs.length >= 2 ? true : undefined), 5_000);
    } finally {
      schedule.stop();
    }
    const calls = fake.hits.filter((h) => h.path.includes("/triggers/"));
    // The first call finds the generation moved; later ones go straight there.
    assert.equal(
      calls[0]?.path,
      "/functions/projects/demo/triggers/us-central1-scheduledReconcile-0",
    );
    assert.ok(calls.slice(1).every((h) => h.path.endsWith("-2")));
    assert.equal(calls[1]?.method, "POST");
    assert.equal(
      calls[1]?.headers["x-cloudscheduler-jobname"],
      "firebase-schedule-scheduledReconcile-us-central1",
    );
    assert.ok(
      !Number.isNaN(Date.parse(String(calls[1]?.headers["x-cloudscheduler-scheduletime"]))),
    );
    assert.match(
      logged[0] ?? "",
      /^scheduled reconcile: ran scheduledReconcile in \d+ ms: 2 rows: 2 in-sync$/,
    );
    assert.equal(schedule.view().nextAt, null, "a stopped schedule shows no next run");
  });

  it("says what went wrong when the function cannot be run", async () => {
    const fake = await fakeEmulator((hit) =>
      hit.path === "/backends" ? { status: 200, body: BACKENDS } : { status: 500, body: "boom" },
    );
    servers.push(fake.server);
    const logged: string[] = [];
    const schedule = await startReconcileSchedule({
      functionsOrigin: fake.origin,
      project: "demo",
      region: "us-central1",
      name: "scheduledReconcile",
      everyMs: 0,
      log: (m) => logged.push(m),
    });
    assert.equal(schedule.view().nextAt, null, "0 runs nothing on a timer");
    await schedule.runNow();
    schedule.stop();
    assert.equal(schedule.view().last?.ok, false);
    assert.match(logged.join("\n"), /scheduledReconcile answered HTTP 500 boom/);
  });

  it("words a row's sync state from syncRows and syncOutbox", () => {
    const state = {
      inSheet: true,
      docEdits: {},
      deleted: null,
      parked: false,
      inFlight: null,
    };
    assert.equal(syncView(state, undefined).label, "in sync");
    assert.equal(syncView(undefined, undefined).kind, "unknown");
    assert.equal(
      syncView({ ...state, docEdits: { qty: { key: "n:4", at: 1 } } }, undefined).label,
      "→ sheet: qty",
    );
    assert.equal(syncView(state, { rowId: "r", op: "upsert" }).label, "→ sheet");
    assert.equal(syncView({ ...state, parked: true }, undefined).label, "waiting for the sheet");
    assert.equal(
      syncView({ ...state, deleted: { at: 1, by: "sheet" } }, undefined).label,
      "deleted in the sheet",
    );
    const gone = syncView({ ...state, deleted: { at: 1, by: "firestore" } }, { op: "delete" });
    assert.equal(gone.label, "deleted in Firestore, delete → sheet");
    assert.match(gone.raw, /"by": "firestore"/);
  });
});
