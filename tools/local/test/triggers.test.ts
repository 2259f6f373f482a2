/**
 * Firestore trigger delivery from the stand-in to a real Functions emulator
 * (firebase-tools) running the fixture project in test/fixtures/trigger-project:
 * the functions get correct before/after snapshots, params and event
 * attributes, only the event types they asked for, one document's events in
 * order, and idle() waits for whole cascades.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import {
  FieldValue,
  getFirestore,
  Timestamp,
  type DocumentData,
  type Firestore,
} from "firebase-admin/firestore";
import type { FirestoreServer } from "@firestore-emulator/server";
import { startStandIn } from "../src/firestore.js";
import {
  createTriggerDelivery,
  waitForTriggersIdle,
  type TriggerDelivery,
  type TriggerStats,
} from "../src/triggers/index.js";
import { freePort, within, HOST } from "./helpers.js";

const PROJECT = "demo-trigger-test";
const FUNCTIONS_PORT = 5101; // test/fixtures/trigger-project/firebase.json
const FUNCTIONS_ORIGIN = `http://${HOST}:${FUNCTIONS_PORT}`;
const repoRoot = resolve(fileURLToPath(import.meta.url), "../../../..");
const fixture = resolve(fileURLToPath(import.meta.url), "../fixtures/trigger-project");

async function assertPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once("error", () => reject(new Error(`${what}: port ${port} is in use`)));
    srv.listen(port, HOST, () => srv.close(() => resolve()));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Firestore trigger delivery (stand-in → Functions emulator)", function () {
  this.timeout(90_000);

  let standIn: FirestoreServer | undefined;
  let firebase: ChildProcess | undefined;
  let firebaseExit: Promise<void> | undefined;
  let output = "";
  let app: App | undefined;
  let db: Firestore;
  let delivery: TriggerDelivery | undefined;
  let http: Server | undefined;
  let httpBase = "";
  const logs: string[] = [];
  const savedHost = process.env.FIRESTORE_EMULATOR_HOST;

  const newDelivery = (encoding: "protobuf" | "json") =>
    createTriggerDelivery({
      functionsOrigin: FUNCTIONS_ORIGIN,
      project: PROJECT,
      emitter: standIn!.state.emitter,
      state: standIn!.state,
      encoding,
      log: (m) => logs.push(m),
    });

  const idle = () => within(30_000, delivery!.idle(25_000), "idle()");
  const data = async (path: string): Promise<DocumentData | undefined> =>
    (await db.doc(path).get()).data();
  const delivered = (fn: string) => delivery!.stats().byFunction[fn]?.delivered ?? 0;

  before(async function () {
    this.timeout(90_000);
    await assertPortFree(FUNCTIONS_PORT, "the fixture's Functions emulator");
    const port = await freePort();
    standIn = await startStandIn(HOST, port);
    process.env.FIRESTORE_EMULATOR_HOST = `${HOST}:${port}`;

    // detached: its own process group, so the CLI and its function workers can be killed together.
    firebase = spawn(
      join(repoRoot, "node_modules", ".bin", "firebase"),
      [
        "emulators:start",
        "--only",
        "functions",
        "--project",
        PROJECT,
        "--config",
        join(fixture, "firebase.json"),
      ],
      {
        cwd: fixture,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          FIRESTORE_EMULATOR_HOST: `${HOST}:${port}`,
          NO_UPDATE_NOTIFIER: "1",
          METADATA_SERVER_DETECTION: "none",
        },
      },
    );
    const child = firebase;
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    firebaseExit = new Promise((res) => child.once("exit", () => res()));

    // The functions are loaded once /backends lists them.
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`firebase exited early:\n${output}`);
      try {
        const res = await fetch(`${FUNCTIONS_ORIGIN}/backends`, {
          signal: AbortSignal.timeout(2000),
        });
        const body = (await res.json()) as { backends: { functionTriggers: unknown[] }[] };
        if ((body.backends[0]?.functionTriggers.length ?? 0) >= 6) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`functions did not load within 60 s:\n${output}`);
      await sleep(250);
    }

    app = initializeApp({ projectId: PROJECT }, `triggers-test-${randomUUID()}`);
    db = getFirestore(app);
    delivery = newDelivery("protobuf");
    delivery.start();

    const d = delivery;
    http = createHttpServer((req, res) => {
      if (!d.handleHttp(req, res)) res.writeHead(404).end();
    });
    const h = http;
    await new Promise<void>((r) => h.listen(0, HOST, () => r()));
    const addr = http.address();
    httpBase = `http://${HOST}:${typeof addr === "object" && addr ? addr.port : 0}`;
  });

  after(async function () {
    this.timeout(30_000);
    try {
      delivery?.stop();
      if (http) await new Promise<void>((r) => http!.close(() => r()));
      if (firebase?.pid && firebase.exitCode === null) {
        process.kill(-firebase.pid, "SIGTERM");
        const exited = await Promise.race([
          firebaseExit!.then(() => true),
          sleep(10_000).then(() => false),
        ]);
        if (!exited) process.kill(-firebase.pid, "SIGKILL");
      }
      // Workers of the group may outlive the CLI briefly.
      if (firebase?.pid) {
        try {
          process.kill(-firebase.pid, "SIGKILL");
        } catch {
          // the group is gone
        }
      }
      if (app) await within(10_000, deleteApp(app), "deleteApp");
    } finally {
      standIn?.stop();
      if (savedHost === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
      else process.env.FIRESTORE_EMULATOR_HOST = savedHost;
    }
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") {
      console.log(`--- delivery log ---\n${logs.join("\n")}\n--- firebase output (tail) ---`);
      console.log(output.slice(-6000));
    }
  });

  const T = Timestamp.fromMillis(1_700_000_000_123);
  const typed = {
    s: "text",
    empty: "",
    i: 42,
    zero: 0,
    d: 1.5,
    b: true,
    f: false,
    n: null,
    t: T,
    m: { k: "v", inner: { x: 1 } },
    a: [1, "two", 3.5, null],
  };

  function assertTyped(fields: Record<string, unknown>) {
    assert.deepEqual(fields.s, { kind: "string", value: "text" });
    assert.deepEqual(fields.empty, { kind: "string", value: "" });
    assert.deepEqual(fields.i, { kind: "bigint", value: "42" }, "integerValue");
    assert.deepEqual(fields.zero, { kind: "bigint", value: "0" }, "integerValue 0");
    assert.deepEqual(fields.d, { kind: "number", value: 1.5 }, "doubleValue");
    assert.deepEqual(fields.b, { kind: "boolean", value: true });
    assert.deepEqual(fields.f, { kind: "boolean", value: false });
    assert.deepEqual(fields.n, { kind: "null" });
    assert.deepEqual(fields.t, { kind: "timestamp", millis: T.toMillis() });
    assert.deepEqual(fields.m, {
      kind: "map",
      fields: {
        k: { kind: "string", value: "v" },
        inner: { kind: "map", fields: { x: { kind: "bigint", value: "1" } } },
      },
    });
    assert.deepEqual(fields.a, {
      kind: "array",
      items: [
        { kind: "bigint", value: "1" },
        { kind: "string", value: "two" },
        { kind: "number", value: 3.5 },
        { kind: "null" },
      ],
    });
  }

  it("create: written and created fire with after only, typed fields, params and event attributes", async () => {
    // The serverTimestamp makes the stand-in emit two events (create, then the transform): one event must arrive.
    const written = await db.doc("items/a").set({ ...typed, at: FieldValue.serverTimestamp() });
    await idle();

    const mirror = (await data("mirror/a"))!;
    assert.ok(mirror, "mirrorItem ran");
    assert.deepEqual(mirror.params, { itemId: "a" });
    assert.deepEqual(mirror.before, { exists: false });
    assert.equal(mirror.after.exists, true);
    assert.equal(mirror.after.path, "items/a");
    assertTyped(mirror.after.fields);
    assert.equal(
      mirror.after.fields.at.kind,
      "timestamp",
      "the transform's result is in the one event",
    );
    assert.equal(mirror.after.updateTime, written.writeTime.toMillis());
    assert.equal(mirror.after.createTime, written.writeTime.toMillis());

    const ev = mirror.event;
    assert.equal(ev.type, "google.cloud.firestore.document.v1.written");
    assert.equal(ev.specversion, "1.0");
    assert.match(ev.id, /^[0-9a-f-]{36}$/);
    assert.equal(ev.source, `//firestore.googleapis.com/projects/${PROJECT}/databases/(default)`);
    assert.equal(ev.subject, "documents/items/a");
    assert.equal(ev.document, "items/a");
    assert.equal(ev.project, PROJECT);
    assert.equal(ev.database, "(default)");
    assert.equal(ev.namespace, "(default)");
    assert.equal(new Date(ev.time).getTime(), written.writeTime.toMillis());

    const created = (await data("created/a"))!;
    assert.equal(created.type, "google.cloud.firestore.document.v1.created");
    assert.deepEqual(created.params, { itemId: "a" });
    assertTyped(created.snapshot.fields);
    assert.equal(await data("updated/a"), undefined, "a create is not an update");
    assert.equal(await data("deleted/a"), undefined);
    assert.equal(delivered("mirrorItem"), 1);
    assert.equal(delivered("itemCreated"), 1);
  });

  it("update: before holds the old values; onDocumentCreated does not fire", async () => {
    // update(), not set(): the stand-in merges a set() into the old fields instead of replacing them.
    await db.doc("items/a").update({ s: "changed", i: 43 });
    await idle();
    const mirror = (await data("mirror/a"))!;
    assert.equal(mirror.before.exists, true);
    assertTyped(mirror.before.fields);
    assert.deepEqual(
      Object.keys(mirror.after.fields).sort(),
      Object.keys(mirror.before.fields).sort(),
    );
    assert.deepEqual(mirror.after.fields.s, { kind: "string", value: "changed" });
    assert.deepEqual(mirror.after.fields.i, { kind: "bigint", value: "43" });
    assert.ok(mirror.after.updateTime > mirror.before.updateTime);
    assert.equal(mirror.after.createTime, mirror.before.createTime);

    const updated = (await data("updated/a"))!;
    assert.equal(updated.type, "google.cloud.firestore.document.v1.updated");
    assert.deepEqual(updated.before.fields.s, { kind: "string", value: "text" });
    assert.deepEqual(updated.after.fields.s, { kind: "string", value: "changed" });
    assert.equal(delivered("itemCreated"), 1, "no created event for an update");
    assert.equal(delivered("mirrorItem"), 2);
  });

  it("a write that changes nothing sends no event (as Firestore)", async () => {
    await db.doc("items/a").update({ s: "changed", i: 43 });
    await idle();
    assert.equal(delivered("mirrorItem"), 2);
  });

  it("delete: only before; onDocumentDeleted fires, created/updated do not", async () => {
    await db.doc("items/a").delete();
    await idle();
    const mirror = (await data("mirror/a"))!;
    assert.equal(mirror.before.exists, true);
    assert.deepEqual(mirror.before.fields.s, { kind: "string", value: "changed" });
    assert.deepEqual(mirror.after, { exists: false });
    const deleted = (await data("deleted/a"))!;
    assert.equal(deleted.type, "google.cloud.firestore.document.v1.deleted");
    assert.deepEqual(deleted.params, { itemId: "a" });
    assert.equal(deleted.snapshot.exists, true);
    assert.deepEqual(deleted.snapshot.fields.i, { kind: "bigint", value: "43" });
    const s = delivery!.stats();
    assert.deepEqual(
      { ...s.byFunction },
      {
        mirrorItem: { delivered: 3, failed: 0 },
        itemCreated: { delivered: 1, failed: 0 },
        itemUpdated: { delivered: 1, failed: 0 },
        itemDeleted: { delivered: 1, failed: 0 },
      },
      "the functions' own writes (mirror/, created/, ...) trigger nothing else",
    );
  });

  it("idle() waits for a whole cascade of function writes", async () => {
    await db.doc("chain/0").set({ from: null });
    await idle();
    for (let n = 1; n <= 5; n++) assert.ok(await data(`chain/${n}`), `chain/${n} exists`);
    assert.equal(delivered("chain"), 6);
  });

  it("routes by path pattern: subcollections and multi-segment wildcards", async () => {
    const before = delivered("mirrorItem");
    await db.doc("items/x/sub/y").set({ v: 1 });
    await db.doc("nested/a/sub/b").set({ v: 1 });
    await db.doc("nested/a/sub/b/deeper/c").set({ v: 1 });
    await idle();
    assert.equal(delivered("mirrorItem"), before, "items/{itemId} does not match items/x/sub/y");
    assert.deepEqual((await data("nestedLog/nested_a_sub_b"))?.params, {
      first: "a",
      rest: "sub/b",
    });
    assert.deepEqual((await data("nestedLog/nested_a_sub_b_deeper_c"))?.params, {
      first: "a",
      rest: "sub/b/deeper/c",
    });
  });

  it("a function that throws is counted as failed and logged; idle() still resolves", async () => {
    const failedBefore = delivery!.stats().failed;
    await db.doc("items/boom").set({ throw: true });
    await idle();
    assert.equal(delivery!.stats().failed, failedBefore + 1);
    assert.equal(delivery!.stats().byFunction.mirrorItem?.failed, 1);
    assert.ok(
      logs.some((l) => /mirrorItem .*items\/boom.* failed: HTTP 500/.test(l)),
      logs.join("\n"),
    );
    assert.ok(await data("created/boom"), "other functions still get the event");
  });

  it("50 rapid writes to 10 documents arrive in per-document order, then idle()", async () => {
    const mirrorBefore = delivered("mirrorItem");
    const deliveredBefore = delivery!.stats().delivered;
    const started = Date.now();
    const writes: Promise<unknown>[] = [];
    for (let seq = 1; seq <= 5; seq++) {
      for (let i = 0; i < 10; i++) writes.push(db.doc(`items/r${i}`).set({ seq, i }));
    }
    await Promise.all(writes);
    await within(60_000, delivery!.idle(55_000), "idle()");
    const seconds = (Date.now() - started) / 1000;
    const events = delivery!.stats().delivered - deliveredBefore;
    console.log(
      `    ${writes.length} writes → ${events} deliveries in ${seconds.toFixed(2)} s ` +
        `(${(events / seconds).toFixed(0)} events/s, including the functions' run time)`,
    );

    assert.equal(delivered("mirrorItem") - mirrorBefore, 50);
    const logDocs = (await db.collection("mirrorLog").get()).docs.filter((d) =>
      /^r\d$/.test(d.get("itemId")),
    );
    assert.equal(logDocs.length, 50);
    for (let i = 0; i < 10; i++) {
      const doc = (await data(`items/r${i}`))!;
      const mirror = (await data(`mirror/r${i}`))!;
      assert.deepEqual(mirror.after.fields.seq, { kind: "bigint", value: String(doc.seq) });
      // Handling order (by the log writes' commit times) must follow the document's history.
      const history = logDocs
        .filter((d) => d.get("itemId") === `r${i}`)
        .sort((x, y) => x.updateTime.toMillis() - y.updateTime.toMillis())
        .map((d) => [d.get("beforeSeq"), d.get("afterSeq")] as [unknown, unknown]);
      let last: unknown = null;
      for (const [b, a] of history) {
        assert.equal(b, last, `r${i}: history ${JSON.stringify(history)}`);
        last = a;
      }
      assert.equal(last, Number(doc.seq));
    }
  });

  it("serves idle and stats over HTTP for other processes", async () => {
    await db.doc("items/slow").set({ sleepMs: 600 });
    const busy = await fetch(`${httpBase}/__stack/triggers/idle?timeoutMs=100`);
    assert.equal(busy.status, 504);
    const busyBody = (await busy.json()) as { idle: boolean; error: string };
    assert.equal(busyBody.idle, false);
    assert.match(
      busyBody.error,
      /not idle after 100 ms.*mirrorItem update items\/slow|mirrorItem create items\/slow/,
    );

    const stats = await within(
      20_000,
      waitForTriggersIdle(httpBase, 15_000),
      "waitForTriggersIdle",
    );
    assert.ok(await data("mirror/slow"));
    assert.equal(stats.inFlight, 0);
    assert.equal(stats.queued, 0);

    const res = await fetch(`${httpBase}/__stack/triggers/stats`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as TriggerStats;
    assert.equal(body.delivered, delivery!.stats().delivered);
    assert.equal((await fetch(`${httpBase}/elsewhere`)).status, 404);
  });

  it("the JSON encoding gives the same snapshots", async () => {
    delivery!.stop();
    delivery = newDelivery("json");
    delivery.start();
    await db.doc("items/j").set(typed);
    await idle();
    const mirror = (await data("mirror/j"))!;
    assert.deepEqual(mirror.before, { exists: false });
    assertTyped(mirror.after.fields);
    await db.doc("items/j").update({ s: "json" });
    await idle();
    const again = (await data("mirror/j"))!;
    assertTyped(again.before.fields);
    assert.deepEqual(again.after.fields.s, { kind: "string", value: "json" });
    assert.equal(again.event.type, "google.cloud.firestore.document.v1.written");
  });

  it("start() records existing documents: their first change is an update, not a create", async () => {
    // items/r0 existed before this delivery started (seeded from the stand-in's state).
    const createdBefore = delivered("itemCreated");
    const updatedBefore = delivered("itemUpdated");
    await db.doc("items/r0").set({ seq: 99 });
    await idle();
    const mirror = (await data("mirror/r0"))!;
    assert.equal(mirror.before.exists, true);
    assert.equal(delivered("itemCreated"), createdBefore);
    assert.equal(delivered("itemUpdated"), updatedBefore + 1);
  });

  it("stop() rejects pending idle() waiters", async () => {
    await db.doc("items/slow2").set({ sleepMs: 300 });
    const waiting = delivery!.idle(10_000);
    delivery!.stop();
    await assert.rejects(waiting, /stopped/);
    await assert.rejects(delivery!.idle(10), /not running/);
  });
});
