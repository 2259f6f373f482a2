/**
 * The Firestore store under concurrency, called in-process so that many
 * transactions on one row really overlap: the merge's decisions hold because
 * each row's read and write are one transaction, not because deliveries
 * happen to arrive one at a time.
 */
import assert from "node:assert/strict";
import { Timestamp } from "firebase-admin/firestore";
import { toWire } from "../../../contract/src/cells.js";
import { parseWebhookBody } from "../../../contract/src/schema.js";
import { FirestoreStore } from "../../src/store/firestoreStore.js";
import { ingestBatch } from "../../src/sync/ingest.js";
import { batch, COLLECTION, db, SHEET_NAME, SPREADSHEET_ID, uniqueId } from "./stack.js";

function store() {
  return new FirestoreStore(db(), {
    collection: COLLECTION,
    spreadsheetId: SPREADSHEET_ID,
    sheetName: SHEET_NAME,
    tombstoneRetentionMs: 30 * 24 * 3600 * 1000,
  });
}
const deps = () => ({ store: store(), schedule: async () => "scheduled", now: Date.now });

function parsed(body: unknown, readAt = Date.now()) {
  const r = parseWebhookBody(
    { ...(body as object), readAt },
    { now: Date.now(), timestamp: readAt },
  );
  if (!r.ok) throw new Error(r.issues.join("; "));
  return r.batch;
}

describe("the Firestore store under concurrent deliveries", function () {
  this.timeout(120_000);

  it("keeps the newest of 16 overlapping updates and deletes of the same rows", async () => {
    const ids = [uniqueId("cc"), uniqueId("cc"), uniqueId("cc")];
    const t0 = Date.now() - 60_000;
    // Version k of every row: an update, except k = 7 which deletes; the newest (15) is an update.
    const deliveries = Array.from({ length: 16 }, (_, k) =>
      k === 7
        ? batch(
            [],
            ids.map((id) => ({ id, modifiedAt: t0 + k })),
          )
        : batch(ids.map((id) => ({ id, modifiedAt: t0 + k, values: { name: `v${k}`, qty: k } }))),
    );
    const order = [9, 15, 2, 7, 12, 0, 14, 5, 11, 3, 8, 13, 1, 10, 4, 6];
    await Promise.all(order.map((k) => ingestBatch(deps(), parsed(deliveries[k], t0 + k))));

    const records = await store().read(ids);
    for (const id of ids) {
      const r = records.get(id)!;
      assert.equal(r.doc?.values.name, "v15", `row ${id} lost the newest write`);
      assert.equal(r.state?.sheetAt, t0 + 15);
      assert.equal(r.state?.deleted, null, "the newest is an update after the delete");
    }
  });

  it("keeps an app's own fields through a sheet delete and writes them back, as they were, when the row returns", async () => {
    const id = uniqueId("kept");
    const t0 = Date.now() - 60_000;
    await ingestBatch(
      deps(),
      parsed(batch([{ id, modifiedAt: t0, values: { name: "Widget", qty: 3 } }]), t0),
    );
    const when = Timestamp.fromMillis(Date.UTC(2026, 0, 2));
    await db()
      .collection(COLLECTION)
      .doc(id)
      .set({ status: "approved", meta: { by: "app", at: when } }, { merge: true });
    await ingestBatch(deps(), parsed(batch([], [{ id, modifiedAt: t0 + 10 }]), t0 + 10));
    assert.equal((await db().collection(COLLECTION).doc(id).get()).exists, false);
    const kept = await db().collection("syncKept").doc(`${COLLECTION}:${id}`).get();
    assert.deepEqual(Object.keys(kept.get("fields")).sort(), ["meta", "status"]);
    // Ctrl-Z: the row is back, stamped after the delete.
    await ingestBatch(
      deps(),
      parsed(batch([{ id, modifiedAt: t0 + 20, values: { name: "Widget", qty: 3 } }]), t0 + 20),
    );
    const doc = (await db().collection(COLLECTION).doc(id).get()).data();
    assert.equal(doc?.name, "Widget");
    assert.equal(doc?.status, "approved");
    assert.ok(
      doc?.meta?.at instanceof Timestamp && doc.meta.at.isEqual(when),
      "a timestamp stays a timestamp",
    );
    assert.equal(
      (await db().collection("syncKept").doc(`${COLLECTION}:${id}`).get()).exists,
      false,
    );
  });

  it("reads every cell type back from Firestore as the value the sheet sent", async () => {
    const id = uniqueId("back");
    const sent = {
      name: "Café 0042",
      qty: -2.5,
      due: { $date: "2026-02-28T23:59:59.999Z" },
      done: true,
    };
    await ingestBatch(deps(), parsed(batch([{ id, modifiedAt: Date.now() - 1000, values: sent }])));
    const row = (await store().read([id])).get(id)!;
    const back = Object.fromEntries(
      Object.entries(row.doc!.values).map(([k, v]) => [k, toWire(v)]),
    );
    assert.deepEqual(back, sent);
    assert.deepEqual(
      Object.fromEntries(Object.entries(row.state!.base).map(([k, v]) => [k, toWire(v as never)])),
      sent,
      "the base holds the same values, dates included",
    );
  });

  it("records each conflict once, however often the same decision is made", async () => {
    const id = uniqueId("once");
    const s = store();
    const conflict = {
      id: `${id}:qty:sheet:5:x`,
      rowId: id,
      field: "qty",
      rule: "last-write-wins" as const,
      kept: { side: "firestore" as const, op: "update" as const, at: 9, values: { qty: 1 } },
      rejected: { side: "sheet" as const, op: "update" as const, at: 5, values: { qty: 2 } },
    };
    await Promise.all(
      [1, 2, 3].map(() =>
        s.update([id], () => ({
          updates: new Map([[id, { conflicts: [conflict] }]]),
          result: null,
        })),
      ),
    );
    const recorded = await db().collection("syncConflicts").where("rowId", "==", id).get();
    assert.equal(recorded.size, 1);
  });

  it("merges sheet info and removes a key set to undefined", async () => {
    const s = store();
    await s.saveSheet({ lastError: { at: 5, status: 403, reason: "no permission" }, idColumn: 0 });
    assert.equal((await s.sheet()).lastError?.status, 403);
    await s.saveSheet({ lastError: null, idColumn: undefined });
    const info = await s.sheet();
    assert.equal(info.lastError, undefined);
    assert.equal(info.idColumn, undefined);
  });
});
