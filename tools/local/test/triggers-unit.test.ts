/**
 * Trigger delivery without the Functions emulator: path patterns, the
 * /backends listing, the protobuf body as firebase-functions decodes it, and
 * the delivery's queueing against a fake functions server (hot-reload 404s,
 * retries, per-document order).
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { createServer as createHttpServer, type IncomingMessage, type Server } from "node:http";
import { dirname, join } from "node:path";
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import { FieldValue, getFirestore, Timestamp, type Firestore } from "firebase-admin/firestore";
import type { FirestoreServer } from "@firestore-emulator/server";
import { startStandIn } from "../src/firestore.js";
import {
  compilePattern,
  createTriggerDelivery,
  encodeDocumentEventData,
  parseBackends,
  type TriggerDelivery,
} from "../src/triggers/index.js";
import { freePort, within, HOST } from "./helpers.js";

const PROJECT = "demo-trigger-unit";

describe("trigger path patterns", () => {
  it("matches literal and single-segment wildcards, capturing params", () => {
    const p = compilePattern("rows/{rowId}");
    assert.deepEqual(p.match("rows/r1"), { rowId: "r1" });
    assert.equal(p.match("rows/r1/sub/x"), null);
    assert.equal(p.match("cols/r1"), null);
    assert.deepEqual(compilePattern("{col}/{doc}").match("a/b"), { col: "a", doc: "b" });
    assert.deepEqual(compilePattern("a/*/b/{id}").match("a/x/b/y"), { id: "y" });
    assert.deepEqual(compilePattern("config/main").match("config/main"), {});
    assert.equal(compilePattern("config/main").match("config/other"), null);
  });

  it("matches multi-segment wildcards", () => {
    const p = compilePattern("{col}/{doc=**}");
    assert.deepEqual(p.match("a/b"), { col: "a", doc: "b" });
    assert.deepEqual(p.match("a/b/c/d"), { col: "a", doc: "b/c/d" });
    const mid = compilePattern("users/{rest=**}/settings/{id}");
    assert.deepEqual(mid.match("users/u/x/y/settings/s"), { rest: "u/x/y", id: "s" });
    assert.equal(mid.match("users/u/x/y/other/s"), null);
  });
});

describe("/backends parsing", () => {
  it("keeps Firestore triggers with their routing, skips the rest", () => {
    const listing = parseBackends({
      backends: [
        {
          functionTriggers: [
            { id: "us-central1-http", name: "http", httpsTrigger: {} },
            {
              id: "us-central1-w",
              name: "w",
              eventTrigger: {
                eventType: "google.cloud.firestore.document.v1.written",
                eventFilters: { database: "(default)", namespace: "(default)" },
                eventFilterPathPatterns: { document: "rows/{rowId}" },
              },
            },
            {
              id: "europe-west1-d",
              name: "d",
              eventTrigger: {
                eventType: "google.cloud.firestore.document.v1.deleted.withAuthContext",
                eventFilters: { database: "(default)", document: "config/main" },
                retry: true,
              },
            },
          ],
        },
      ],
    });
    assert.equal(listing.functionCount, 3);
    assert.deepEqual(
      listing.firestore.map((t) => [t.id, [...t.kinds], t.withAuthContext, t.retry, t.pattern.raw]),
      [
        ["us-central1-w", ["create", "update", "delete"], false, false, "rows/{rowId}"],
        ["europe-west1-d", ["delete"], true, true, "config/main"],
      ],
    );
  });
});

describe("DocumentEventData encoding", () => {
  it("decodes with firebase-functions' own protobuf definitions", () => {
    const require = createRequire(import.meta.url);
    const v2 = require.resolve("firebase-functions/v2/firestore");
    const protos = require(join(dirname(v2), "../../../protos/compiledFirestore.js")) as {
      google: {
        events: {
          cloud: {
            firestore: {
              v1: { DocumentEventData: { decode(b: Uint8Array): Record<string, unknown> } };
            };
          };
        };
      };
    };
    const { DocumentEventData } = protos.google.events.cloud.firestore.v1;
    // Hand-made Document messages: name = 1 (string, length as a varint).
    const doc = (name: string) => {
      const len =
        name.length < 128 ? [name.length] : [(name.length & 0x7f) | 0x80, name.length >> 7];
      return Buffer.concat([Buffer.from([0x0a, ...len]), Buffer.from(name)]);
    };
    const long = "x".repeat(200); // a length that needs a two-byte varint
    const both = DocumentEventData.decode(encodeDocumentEventData(doc(long), doc("old")));
    assert.equal((both.value as { name: string }).name, long);
    assert.equal((both.oldValue as { name: string }).name, "old");
    const created = DocumentEventData.decode(encodeDocumentEventData(doc("new"), undefined));
    assert.equal((created.value as { name: string }).name, "new");
    assert.equal(created.oldValue ?? null, null);
  });
});

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

describe("trigger delivery against a fake Functions emulator", function () {
  this.timeout(20_000);

  let standIn: FirestoreServer;
  let app: App;
  let db: Firestore;
  let fake: Server;
  let origin = "";
  let delivery: TriggerDelivery | undefined;
  const received: Received[] = [];
  const logs: string[] = [];
  let generation = 0;
  let retryFlag = false;
  /** Per-request behaviour, by trigger id; default 200 after `delayMs`. */
  let respond: (id: string, r: Received) => { status: number; delayMs?: number } = () => ({
    status: 200,
  });
  const savedHost = process.env.FIRESTORE_EMULATOR_HOST;

  const backends = () => ({
    backends: [
      {
        functionTriggers: [
          {
            id: "us-central1-onRow",
            name: "onRow",
            eventTrigger: {
              eventType: "google.cloud.firestore.document.v1.written",
              eventFilters: { database: "(default)", namespace: "(default)" },
              eventFilterPathPatterns: { document: "rows/{rowId}" },
              ...(retryFlag ? { retry: true } : {}),
            },
          },
          {
            id: "us-central1-rowCreated",
            name: "rowCreated",
            eventTrigger: {
              eventType: "google.cloud.firestore.document.v1.created",
              eventFilters: { database: "(default)", namespace: "(default)" },
              eventFilterPathPatterns: { document: "rows/{rowId}" },
            },
          },
        ],
      },
    ],
  });

  before(async () => {
    const port = await freePort();
    standIn = await startStandIn(HOST, port);
    process.env.FIRESTORE_EMULATOR_HOST = `${HOST}:${port}`;
    app = initializeApp({ projectId: PROJECT }, `triggers-unit-${randomUUID()}`);
    db = getFirestore(app);
    fake = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (req.url === "/backends") {
          res
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify(backends()));
          return;
        }
        const m = /^\/functions\/projects\/[^/]+\/triggers\/(.+)-(\d+)$/.exec(req.url ?? "");
        const r: Received = {
          path: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        };
        if (!m || Number(m[2]) !== generation) {
          const valid = backends().backends[0]!.functionTriggers.map(
            (t) => `${t.id}-${generation}`,
          );
          res
            .writeHead(404)
            .end(`Function x does not exist, valid functions are: ${valid.join(", ")}`);
          return;
        }
        received.push(r);
        const { status, delayMs } = respond(m[1]!, r);
        setTimeout(() => res.writeHead(status).end(status === 200 ? "{}" : "boom"), delayMs ?? 0);
      });
    });
    await new Promise<void>((r) => fake.listen(0, HOST, () => r()));
    const addr = fake.address();
    origin = `http://${HOST}:${typeof addr === "object" && addr ? addr.port : 0}`;
  });

  after(async () => {
    delivery?.stop();
    await new Promise<void>((r) => fake.close(() => r()));
    await within(10_000, deleteApp(app), "deleteApp");
    standIn.stop();
    if (savedHost === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
    else process.env.FIRESTORE_EMULATOR_HOST = savedHost;
  });

  beforeEach(() => {
    delivery?.stop();
    standIn.state.clear();
    received.length = 0;
    logs.length = 0;
    generation = 0;
    retryFlag = false;
    respond = () => ({ status: 200 });
  });

  const start = (
    extra: { retry?: { maxAttempts: number; delayMs: number }; encoding?: "json" } = {},
  ) => {
    delivery = createTriggerDelivery({
      functionsOrigin: origin,
      project: PROJECT,
      emitter: standIn.state.emitter,
      log: (m) => logs.push(m),
      settleMs: 20,
      ...extra,
    });
    delivery.start();
    return delivery;
  };
  const idle = () => within(10_000, delivery!.idle(8000), "idle()");
  const json = (r: Received) =>
    JSON.parse(r.body) as {
      value?: { fields: Record<string, unknown> };
      oldValue?: { fields: Record<string, unknown> };
    };

  it("sends one event per commit with the final state, routed by change type, with CloudEvent headers", async () => {
    start({ encoding: "json" });
    await db.doc("rows/r1").set({ a: 1, at: FieldValue.serverTimestamp() });
    await db.doc("other/x").set({ a: 1 });
    await idle();
    assert.deepEqual(received.map((r) => r.path).sort(), [
      `/functions/projects/${PROJECT}/triggers/us-central1-onRow-0`,
      `/functions/projects/${PROJECT}/triggers/us-central1-rowCreated-0`,
    ]);
    const r = received[0]!;
    assert.equal(r.headers["ce-specversion"], "1.0");
    assert.equal(
      r.headers["ce-source"],
      `//firestore.googleapis.com/projects/${PROJECT}/databases/(default)`,
    );
    assert.equal(r.headers["ce-subject"], "documents/rows/r1");
    assert.equal(r.headers["ce-document"], "rows/r1");
    assert.equal(r.headers["ce-datacontenttype"], "application/json");
    assert.equal(
      received[0]!.headers["ce-id"],
      received[1]!.headers["ce-id"],
      "one event, two subscribers",
    );
    const body = json(r);
    assert.equal(body.oldValue, undefined);
    assert.deepEqual(Object.keys(body.value!.fields).sort(), ["a", "at"]);
    assert.deepEqual(body.value!.fields.a, { integerValue: "1" });

    received.length = 0;
    await db
      .doc("rows/r1")
      .update({ a: 1.5, t: Timestamp.fromMillis(1234), n: null, m: { b: false } });
    await db.doc("rows/r1").delete();
    await idle();
    assert.deepEqual(
      received.map((x) => x.headers["ce-type"]),
      ["google.cloud.firestore.document.v1.written", "google.cloud.firestore.document.v1.written"],
      "created-only trigger gets neither the update nor the delete",
    );
    const update = json(received[0]!);
    assert.deepEqual(update.oldValue!.fields.a, { integerValue: "1" });
    assert.deepEqual(update.value!.fields.a, { doubleValue: 1.5 });
    assert.deepEqual(update.value!.fields.t, { timestampValue: "1970-01-01T00:00:01.234000000Z" });
    assert.deepEqual(update.value!.fields.n, { nullValue: null });
    assert.deepEqual(update.value!.fields.m, {
      mapValue: { fields: { b: { booleanValue: false } } },
    });
    const del = json(received[1]!);
    assert.equal(del.value, undefined);
    assert.deepEqual(del.oldValue!.fields.a, { doubleValue: 1.5 });
  });

  it("a commit that fails sends nothing", async () => {
    start();
    await db.doc("rows/r2").set({ v: 1 });
    await idle();
    received.length = 0;
    await assert.rejects(
      db.runTransaction(async (tx) => {
        tx.update(db.doc("rows/r2"), { v: 2 });
        tx.create(db.doc("rows/r2"), { v: 3 }); // fails: exists, so the whole commit rolls back
      }),
    );
    await idle();
    assert.deepEqual(received, []);
    assert.equal((await db.doc("rows/r2").get()).get("v"), 1);
  });

  it("follows a hot reload: a 404 naming the new generation is retried there", async () => {
    start();
    await db.doc("rows/r3").set({ v: 1 });
    await idle();
    generation = 1;
    received.length = 0;
    await db.doc("rows/r3").set({ v: 2 });
    await idle();
    assert.deepEqual(
      received.map((r) => r.path),
      [`/functions/projects/${PROJECT}/triggers/us-central1-onRow-1`],
    );
    assert.equal(delivery!.stats().failed, 0);
  });

  it("retries a failing function only when asked and the trigger has retry: true", async () => {
    let failures = 1;
    respond = () => (failures-- > 0 ? { status: 500 } : { status: 200 });
    start({ retry: { maxAttempts: 3, delayMs: 10 } });
    await db
      .doc("rows/r4")
      .update({ v: 1 })
      .catch(() => db.doc("rows/r4").set({ v: 1 }));
    await idle();
    assert.equal(delivery!.stats().byFunction.onRow?.failed, 1, "retry: false on the trigger");

    delivery!.stop();
    retryFlag = true;
    failures = 1;
    received.length = 0;
    start({ retry: { maxAttempts: 3, delayMs: 10 } });
    await db.doc("rows/r5").set({ v: 1 });
    await idle();
    const onRow = received.filter((r) => r.path.includes("onRow"));
    assert.equal(onRow.length, 2);
    assert.equal(
      onRow[0]!.headers["ce-id"],
      onRow[1]!.headers["ce-id"],
      "a retry keeps the event id",
    );
    assert.deepEqual(delivery!.stats().byFunction.onRow, { delivered: 1, failed: 0 });
  });

  it("keeps one document's events in order and runs documents concurrently", async () => {
    let active = 0;
    let maxActive = 0;
    const activeByDoc = new Map<string, number>();
    respond = (_id, r) => {
      const doc = String(r.headers["ce-document"]);
      const fn = r.path;
      const key = `${fn} ${doc}`;
      active++;
      maxActive = Math.max(maxActive, active);
      activeByDoc.set(key, (activeByDoc.get(key) ?? 0) + 1);
      assert.equal(activeByDoc.get(key), 1, `two deliveries of ${key} at once`);
      setTimeout(() => {
        active--;
        activeByDoc.set(key, activeByDoc.get(key)! - 1);
      }, 15);
      return { status: 200, delayMs: 15 };
    };
    start({ encoding: "json" });
    const writes: Promise<unknown>[] = [];
    for (let seq = 1; seq <= 5; seq++) {
      for (let i = 0; i < 6; i++) writes.push(db.doc(`rows/o${i}`).set({ seq }));
    }
    await Promise.all(writes);
    await idle();
    assert.ok(maxActive > 1, "documents are delivered concurrently");
    assert.ok(maxActive <= 8, "within the concurrency limit");
    for (let i = 0; i < 6; i++) {
      const seqs = received
        .filter((r) => r.headers["ce-document"] === `rows/o${i}` && r.path.includes("onRow"))
        .map((r) => {
          const b = json(r);
          return [b.oldValue?.fields.seq ?? null, b.value?.fields.seq ?? null];
        });
      let last: unknown = null;
      for (const [before, after] of seqs) {
        assert.deepEqual(before, last, `rows/o${i}: ${JSON.stringify(seqs)}`);
        last = after;
      }
      const final = (await db.doc(`rows/o${i}`).get()).get("seq") as number;
      assert.deepEqual(last, { integerValue: String(final) });
    }
  });

  it("idle() times out with what is still pending", async () => {
    respond = () => ({ status: 200, delayMs: 400 });
    start();
    await db.doc("rows/slow").set({ v: 1 });
    await assert.rejects(
      delivery!.idle(50),
      /not idle after 50 ms: .*in flight \(onRow create rows\/slow/,
    );
    await idle();
  });
});
