/**
 * The Firestore adapter under concurrency, called in-process so that many
 * transactions on one row really overlap: last-write-wins must hold because
 * the read and the write are one transaction, not because deliveries happen
 * to arrive one at a time.
 */
import assert from "node:assert/strict";
import { parseSheetBatch } from "../../src/core/batch.js";
import { ingestBatch, readRow } from "../../src/ingest/rowStore.js";
import { toWire } from "../../src/core/values.js";
import type { SyncConfig } from "../../src/config.js";
import { batch, COLLECTION, db, SHEET_NAME, SPREADSHEET_ID, uniqueId } from "./stack.js";

const config: SyncConfig = {
  collection: COLLECTION,
  spreadsheetId: SPREADSHEET_ID,
  sheetName: SHEET_NAME,
  tombstoneRetentionMs: 30 * 24 * 3600 * 1000,
  sheetsApiRootUrl: "",
};

function parsed(body: unknown) {
  const r = parseSheetBatch(body, Date.now());
  if (!r.ok) throw new Error(r.issues.join("; "));
  return r.batch;
}

describe("ingestBatch (Firestore adapter) under concurrent deliveries", function () {
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
    const now = Date.now();
    await Promise.all(order.map((k) => ingestBatch(db(), parsed(deliveries[k]), config, now)));

    const snaps = await db().getAll(...ids.map((id) => db().collection(COLLECTION).doc(id)));
    for (const s of snaps) {
      assert.equal(s.get("name"), "v15", `row ${s.id} lost the newest write`);
      assert.equal(s.get("_sync.modifiedAt"), t0 + 15);
    }
    // The newest is an update after the delete: no tombstone is left behind.
    const tombs = await db().getAll(
      ...ids.map((id) => db().collection("syncTombstones").doc(`${COLLECTION}:${id}`)),
    );
    assert.deepEqual(
      tombs.map((t) => t.exists),
      [false, false, false],
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
    await ingestBatch(
      db(),
      parsed(batch([{ id, modifiedAt: Date.now() - 1000, values: sent }])),
      config,
      Date.now(),
    );
    const row = readRow(await db().collection(COLLECTION).doc(id).get());
    const back = Object.fromEntries(Object.entries(row!.values).map(([k, v]) => [k, toWire(v)]));
    assert.deepEqual(back, sent);
    assert.equal(row!.origin, "sheet");

    await db().collection(COLLECTION).doc(id).update({ qty: 3, due: null, done: false });
    const edited = readRow(await db().collection(COLLECTION).doc(id).get());
    assert.deepEqual(
      Object.fromEntries(Object.entries(edited!.values).map(([k, v]) => [k, toWire(v)])),
      { name: "Café 0042", qty: 3, due: null, done: false },
    );
  });
});
