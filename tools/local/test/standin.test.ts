/**
 * The Firestore stand-in (@firestore-emulator/server, patched by
 * patches/@firestore-emulator+server+0.3.15.patch) must behave like Firestore
 * where the sync code relies on it: transactions are isolated (a commit whose
 * reads went stale is ABORTED and the Admin SDK retries it), a commit is
 * all-or-nothing, and lastUpdateTime preconditions are enforced.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import { FieldPath, FieldValue, getFirestore, type Firestore } from "firebase-admin/firestore";
import type { FirestoreServer } from "@firestore-emulator/server";
import { startStandIn } from "../src/firestore.js";
import { freePort, within, HOST } from "./helpers.js";

function grpcCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

describe("Firestore stand-in: transactions and commits", function () {
  // The Admin SDK backs off ~1 s, 1.5 s, 2.25 s (with jitter) between transaction attempts.
  this.timeout(40_000);

  let server: FirestoreServer | undefined;
  let app: App | undefined;
  let db: Firestore;
  const savedHost = process.env.FIRESTORE_EMULATOR_HOST;

  before(async () => {
    const port = await freePort();
    server = await startStandIn(HOST, port);
    process.env.FIRESTORE_EMULATOR_HOST = `${HOST}:${port}`;
    app = initializeApp({ projectId: "demo-standin-test" }, `standin-test-${randomUUID()}`);
    db = getFirestore(app);
  });

  after(async () => {
    try {
      if (app) await within(10_000, deleteApp(app), "deleteApp");
    } finally {
      server?.stop();
      if (savedHost === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
      else process.env.FIRESTORE_EMULATOR_HOST = savedHost;
    }
  });

  const col = () => db.collection(`standin-${randomUUID().slice(0, 8)}`);

  it("serializes concurrent read-increment-write transactions on one document (no lost update)", async () => {
    const ref = col().doc("counter");
    const N = 5; // the Admin SDK makes at most 5 attempts; each abort means another commit won
    let attempts = 0;
    await within(
      35_000,
      Promise.all(
        Array.from({ length: N }, () =>
          db.runTransaction(async (tx) => {
            attempts++;
            const snap = await tx.get(ref);
            tx.set(ref, { n: ((snap.get("n") as number | undefined) ?? 0) + 1 });
          }),
        ),
      ),
      "concurrent transactions",
    );
    assert.equal((await ref.get()).get("n"), N);
    assert.ok(attempts > N, `expected some aborted attempts to be retried, got ${attempts}`);
  });

  it("aborts and retries a transaction whose read document was written in between", async () => {
    const ref = col().doc("doc");
    await ref.set({ n: 1 });
    const seen: number[] = [];
    await within(
      15_000,
      db.runTransaction(async (tx) => {
        const n = (await tx.get(ref)).get("n") as number;
        seen.push(n);
        if (seen.length === 1) await ref.set({ n: 100 }); // outside write after the read
        tx.set(ref, { n: n + 1 });
      }),
      "transaction",
    );
    assert.deepEqual(seen, [1, 100]);
    assert.equal((await ref.get()).get("n"), 101);
  });

  it("aborts a transaction when a document it read as missing gets created", async () => {
    const ref = col().doc("late");
    const seen: boolean[] = [];
    await within(
      15_000,
      db.runTransaction(async (tx) => {
        const snap = await tx.get(ref);
        seen.push(snap.exists);
        if (seen.length === 1) await ref.set({ by: "outside" });
        if (!snap.exists) tx.set(ref, { by: "transaction" });
      }),
      "transaction",
    );
    assert.deepEqual(seen, [false, true]);
    assert.equal((await ref.get()).get("by"), "outside");
  });

  it("aborts a transaction when the result of a query it ran changes", async () => {
    const c = col();
    await c.doc("a").set({ group: "g" });
    const summary = c.doc("summary");
    const counts: number[] = [];
    await within(
      15_000,
      db.runTransaction(async (tx) => {
        const q = await tx.get(c.where("group", "==", "g"));
        counts.push(q.size);
        if (counts.length === 1) await c.doc("b").set({ group: "g" }); // a new match
        tx.set(summary, { count: q.size });
      }),
      "transaction",
    );
    assert.deepEqual(counts, [1, 2]);
    assert.equal((await summary.get()).get("count"), 2);
  });

  it("commits transactions on disjoint documents concurrently without aborts", async () => {
    const c = col();
    await c.doc("shared-read-only").set({ v: 1 }); // read by all, written by none
    const N = 8;
    let attempts = 0;
    await within(
      15_000,
      Promise.all(
        Array.from({ length: N }, (_, i) =>
          db.runTransaction(async (tx) => {
            attempts++;
            const [own, shared] = await tx.getAll(c.doc(`d${i}`), c.doc("shared-read-only"));
            tx.set(c.doc(`d${i}`), {
              n: ((own?.get("n") as number | undefined) ?? 0) + 1,
              v: shared?.get("v"),
            });
          }),
        ),
      ),
      "disjoint transactions",
    );
    assert.equal(attempts, N, "no transaction should have been aborted");
    const snaps = await c.get();
    assert.equal(snaps.size, N + 1);
  });

  it("applies none of a batch's writes when its last write fails a precondition", async () => {
    const c = col();
    await c.doc("existing").set({ v: "old" });

    const createExisting = db.batch();
    createExisting.set(c.doc("a"), { v: 1 });
    createExisting.update(c.doc("existing"), { v: "new" });
    createExisting.create(c.doc("existing"), { v: "dup" });
    await assert.rejects(createExisting.commit(), (err) => grpcCode(err) === 6); // ALREADY_EXISTS
    assert.equal((await c.doc("a").get()).exists, false);
    assert.equal((await c.doc("existing").get()).get("v"), "old");

    const updateMissing = db.batch();
    updateMissing.set(c.doc("b"), { v: 1 });
    updateMissing.delete(c.doc("existing"));
    updateMissing.update(c.doc("missing"), { v: 2 });
    await assert.rejects(updateMissing.commit(), (err) => grpcCode(err) === 5); // NOT_FOUND
    assert.equal((await c.doc("b").get()).exists, false);
    assert.equal((await c.doc("existing").get()).get("v"), "old");
  });

  it("checks preconditions against earlier writes of the same commit", async () => {
    const c = col();
    const ok = db.batch();
    ok.create(c.doc("x"), { v: 1 });
    ok.update(c.doc("x"), { w: 2 }); // x exists by now
    await ok.commit();
    assert.deepEqual((await c.doc("x").get()).data(), { v: 1, w: 2 });

    const bad = db.batch();
    bad.set(c.doc("y"), { v: 1 });
    bad.delete(c.doc("x"));
    bad.update(c.doc("x"), { v: 3 }); // x was deleted by the previous write
    await assert.rejects(bad.commit(), (err) => grpcCode(err) === 5);
    assert.equal((await c.doc("y").get()).exists, false);
    assert.deepEqual((await c.doc("x").get()).data(), { v: 1, w: 2 });
  });

  it("applies none of a transaction's writes when one fails a precondition", async () => {
    const c = col();
    await c.doc("existing").set({ v: "old" });
    let attempts = 0;
    await assert.rejects(
      within(
        15_000,
        db.runTransaction(async (tx) => {
          attempts++;
          await tx.get(c.doc("existing"));
          tx.set(c.doc("a"), { v: 1 });
          tx.update(c.doc("existing"), { v: FieldValue.increment(1) });
          tx.create(c.doc("existing"), { v: "dup" });
        }),
        "transaction",
      ),
      (err) => grpcCode(err) === 6,
    );
    assert.equal(attempts, 1);
    assert.equal((await c.doc("a").get()).exists, false);
    assert.equal((await c.doc("existing").get()).get("v"), "old");
  });

  it("enforces lastUpdateTime preconditions (FAILED_PRECONDITION when stale)", async () => {
    const ref = col().doc("versioned");
    const first = await ref.set({ v: 1 });
    const second = await ref.update({ v: 2 }, { lastUpdateTime: first.writeTime });
    assert.notEqual(second.writeTime.toMillis(), first.writeTime.toMillis());

    await assert.rejects(
      ref.update({ v: 3 }, { lastUpdateTime: first.writeTime }),
      (err) => grpcCode(err) === 9,
    );
    await assert.rejects(
      ref.delete({ lastUpdateTime: first.writeTime }),
      (err) => grpcCode(err) === 9,
    );
    assert.equal((await ref.get()).get("v"), 2);

    const snap = await ref.get();
    assert.ok(snap.updateTime);
    await ref.delete({ lastUpdateTime: snap.updateTime });
    assert.equal((await ref.get()).exists, false);
    await assert.rejects(
      ref.delete({ lastUpdateTime: snap.updateTime }),
      (err) => grpcCode(err) === 9,
    );
  });

  it("set() without merge replaces the document; masked fields missing from the data are deleted", async () => {
    const ref = col().doc("d");
    await ref.set({ s: "x", i: 1, m: { a: 1, b: 2 }, "Unit price": 3 });
    await ref.set({ s: "y" });
    assert.deepEqual((await ref.get()).data(), { s: "y" });
    await ref.set({ s: "y", i: 2, m: { a: 1, b: 2 }, "Unit price": 3 });
    await ref.update({ i: FieldValue.delete(), "m.a": FieldValue.delete() });
    assert.deepEqual((await ref.get()).data(), { s: "y", m: { b: 2 }, "Unit price": 3 });
    await ref.set({ s: "z", "Unit price": 4 }, { mergeFields: ["s", new FieldPath("Unit price")] });
    assert.deepEqual((await ref.get()).data(), { s: "z", m: { b: 2 }, "Unit price": 4 });
  });
});
