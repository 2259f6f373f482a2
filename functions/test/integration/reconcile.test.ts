/**
 * The reconcile, in-process against the running Firestore and Sheets
 * emulators: after each kind of lost message (a webhook never sent, a
 * trigger event never delivered, a delete neither side was told of) one
 * reconcile and the flush it queues bring the sheet and Firestore back to
 * equal, and the report says what it found. Also its cost on a 10,000-row
 * tab, counted from the Sheets emulator.
 */
import assert from "node:assert/strict";
import { SheetsGateway } from "../../src/sheets/gateway.js";
import { FirestoreStore } from "../../src/store/firestoreStore.js";
import { parseWebhookBody } from "../../../contract/src/schema.js";
import { flushSheet } from "../../src/sync/flush.js";
import { ingestBatch } from "../../src/sync/ingest.js";
import { reconcileSheet } from "../../src/sync/reconcile.js";
import { db } from "./stack.js";
import { emulatorAdmin, sheetsApi } from "./sheets.js";

const SPREADSHEET = "reconcile-test";
const SHEET = "Stock";
const COLLECTION = "reconcileRows";
const HEADER = ["_id", "name", "qty", "_modified", "_rev"];

const store = () =>
  new FirestoreStore(db(), {
    collection: COLLECTION,
    spreadsheetId: SPREADSHEET,
    sheetName: SHEET,
    tombstoneRetentionMs: 30 * 24 * 3600 * 1000,
  });
const gateway = () => new SheetsGateway(sheetsApi, SPREADSHEET, SHEET);
const doc = (id: string) => db().collection(COLLECTION).doc(id);

const reconcile = (sheet = gateway()) =>
  reconcileSheet(
    { store: store(), sheet, schedule: async () => undefined, now: Date.now },
    "request",
  );
// A clock past the flush's debounce: the repairs go out at once.
const flush = () =>
  flushSheet(
    {
      store: store(),
      sheet: gateway(),
      schedule: async () => undefined,
      now: () => Date.now() + 60_000,
    },
    "reconcile-test",
  );

async function sheetRows(): Promise<Map<string, unknown[]>> {
  const { data } = await sheetsApi.spreadsheets.values.get({
    spreadsheetId: SPREADSHEET,
    range: `${SHEET}!A2:C`,
    valueRenderOption: "UNFORMATTED_VALUE",
  });
  return new Map(((data.values ?? []) as unknown[][]).map((r) => [String(r[0]), r.slice(1)]));
}

async function documents(): Promise<Map<string, unknown[]>> {
  const snap = await db().collection(COLLECTION).get();
  return new Map(snap.docs.map((d) => [d.id, [d.get("name") ?? "", d.get("qty") ?? ""]]));
}

async function assertEqualSides(): Promise<void> {
  const sheet = await sheetRows();
  const docs = await documents();
  assert.deepEqual(
    [...docs].sort(([a], [b]) => a.localeCompare(b)),
    [...sheet]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, r]) => [id, [r[0] ?? "", r[1] ?? ""]]),
  );
}

async function clear(): Promise<void> {
  for (const collection of [COLLECTION, "syncRows", "syncOutbox"]) {
    const where =
      collection === COLLECTION
        ? db().collection(collection)
        : db().collection(collection).where("collection", "==", COLLECTION);
    const snap = await where.get();
    for (let i = 0; i < snap.docs.length; i += 400) {
      const batch = db().batch();
      for (const d of snap.docs.slice(i, i + 400)) batch.delete(d.ref);
      await batch.commit();
    }
  }
  await db().collection("syncSheets").doc(`${SPREADSHEET}:${SHEET}`).delete();
}

async function seed(rows: unknown[][]): Promise<void> {
  await emulatorAdmin("POST", `spreadsheets/${SPREADSHEET}`, {
    timeZone: "Europe/Berlin",
    sheets: [{ title: SHEET, rows: [HEADER, ...rows] }],
  });
}

describe("reconcileSheet, in-process", function () {
  // The 10,000-row run takes 150–220 s on the stand-in here, more behind a trigger backlog.
  this.timeout(600_000);

  before(async () => {
    await emulatorAdmin("POST", "quota", { readsPerMinute: 100_000, writesPerMinute: 100_000 });
  });
  after(async () => {
    await emulatorAdmin("POST", "quota", { readsPerMinute: 60, writesPerMinute: 60 });
    await clear();
  });
  beforeEach(async () => {
    await clear();
    await emulatorAdmin("DELETE", "faults");
  });

  it("brings a tab Firestore has never seen in, then finds it in sync for one read", async () => {
    await seed([
      ["r_a", "Widget", 3, "", ""],
      ["r_b", "Gadget", 5, "", ""],
      ["r_c", "Gizmo", 7, "", ""],
    ]);
    const first = await reconcile();
    assert.equal(first.counts["new-in-sheet"], 3);
    assert.deepEqual(first.ids["new-in-sheet"]?.sort(), ["r_a", "r_b", "r_c"]);
    await assertEqualSides();

    const second = await reconcile();
    assert.deepEqual(second.counts, { "in-sync": 3 });
    assert.deepEqual(second.sheetsRequests, { reads: 1, writes: 0 });
    // The report is in Firestore: the run's, and the tab's last summary.
    const saved = await db()
      .collection("syncReconciles")
      .where("sheetKey", "==", `${SPREADSHEET}:${SHEET}`)
      .get();
    assert.equal(saved.size >= 2, true);
    const info = await db().collection("syncSheets").doc(`${SPREADSHEET}:${SHEET}`).get();
    assert.deepEqual(info.get("lastReconcile.counts"), { "in-sync": 3 });
  });

  it("repairs every kind of lost message in one run, and says which rows", async () => {
    await seed([
      ["r_edit", "Widget", 3, "", ""],
      ["r_event", "Gadget", 5, "", ""],
      ["r_gone", "Gizmo", 7, "", ""],
      ["r_docgone", "Sprocket", 9, "", ""],
      ["r_same", "Bolt", 1, "", ""],
    ]);
    await reconcile();
    await assertEqualSides();

    // A sheet edit whose webhook never came (an API write fires no onEdit).
    await sheetsApi.spreadsheets.values.update({
      spreadsheetId: SPREADSHEET,
      range: `${SHEET}!C2`,
      valueInputOption: "RAW",
      requestBody: { values: [[30]] },
    });
    // A document edit whose trigger event was lost.
    await doc("r_event").set({ qty: 50 }, { merge: true });
    // A row deleted in the sheet, never reported; a document deleted, its event lost.
    const tab = await gateway().tab();
    await gateway().deleteRows(tab.sheetId, [4]);
    await doc("r_docgone").delete();
    // A document an app created, whose event was lost too.
    await doc("r_new").set({ name: "Nut", qty: 2 });

    const report = await reconcile();
    assert.deepEqual(report.ids["sheet-to-firestore"], ["r_edit"]);
    assert.deepEqual(report.ids["firestore-to-sheet"], ["r_event"]);
    assert.deepEqual(report.ids["deleted-in-sheet"], ["r_gone"]);
    assert.deepEqual(report.ids["deleted-in-firestore"], ["r_docgone"]);
    assert.deepEqual(report.ids["new-in-firestore"], ["r_new"]);
    assert.equal(report.counts["in-sync"], 1);
    assert.equal((await doc("r_edit").get()).get("qty"), 30);
    assert.equal((await doc("r_gone").get()).exists, false);

    // The sheet's repairs go through the flush, as any Firestore change does.
    const flushed = await flush();
    assert.equal(flushed.written + flushed.appended + flushed.deleted, 3);
    await assertEqualSides();
    assert.deepEqual((await reconcile()).counts, { "in-sync": 4 });
  });

  it("leaves cells changed under the script's stamp to the script until it reports an idle read since, then merges them", async () => {
    await seed([["r_a", "Widget", 3, 1_000, ""]]);
    const t0 = Date.now();
    const send = async (at: number, readAt: number, changes: unknown[]) => {
      const parsed = parseWebhookBody(
        { spreadsheetId: SPREADSHEET, sheetName: SHEET, header: HEADER, readAt, changes },
        { now: at, timestamp: at },
      );
      assert.ok(parsed.ok, parsed.ok ? "" : parsed.issues.join("; "));
      return ingestBatch(
        { store: store(), schedule: async () => undefined, now: () => at },
        parsed.batch,
      );
    };
    // The script sent the row, stamped 1,000; then a cell changed under that stamp (the script
    // has not looked at it yet: a sort may have brought it, the script will say).
    await send(t0, t0, [{ id: "r_a", modifiedAt: 1_000, values: { name: "Widget", qty: 3 } }]);
    await sheetsApi.spreadsheets.values.update({
      spreadsheetId: SPREADSHEET,
      range: `${SHEET}!C2`,
      valueInputOption: "RAW",
      requestBody: { values: [[30]] },
    });
    const at = (ms: number) =>
      reconcileSheet(
        { store: store(), sheet: gateway(), schedule: async () => undefined, now: () => t0 + ms },
        "schedule",
      );
    assert.deepEqual((await at(1_000)).ids["looks-moved"], ["r_a"]);
    // An hour on, no read of the script's since: still its to send.
    assert.deepEqual((await at(3_600_000)).ids["looks-moved"], ["r_a"]);
    assert.equal((await doc("r_a").get()).get("qty"), 3);
    // The script's idle minute run reports a read a minute after the finding, nothing to send:
    // it is not going to send the row. A webhook without rows is taken, and answers no rows.
    assert.deepEqual(await send(t0 + 3_700_000, t0 + 62_000, []), []);
    const merged = await at(3_800_000);
    assert.deepEqual(merged.ids["sheet-to-firestore"], ["r_a"]);
    assert.equal((await doc("r_a").get()).get("qty"), 30);
  });

  it("a change on both sides of one cell is decided by time and recorded", async () => {
    await seed([["r_both", "Widget", 3, "", ""]]);
    await reconcile();
    await doc("r_both").set({ qty: 4 }, { merge: true }); // event lost
    await new Promise((r) => setTimeout(r, 20));
    const typedAt = Date.now();
    await sheetsApi.spreadsheets.values.update({
      spreadsheetId: SPREADSHEET,
      range: `${SHEET}!C2:D2`,
      valueInputOption: "RAW",
      requestBody: { values: [[5, typedAt]] }, // the script stamps _modified when it sees the edit
    });
    const report = await reconcile();
    assert.deepEqual(report.ids.conflict, ["r_both"]);
    assert.equal((await doc("r_both").get()).get("qty"), 5);
    const conflicts = await db().collection("syncConflicts").where("rowId", "==", "r_both").get();
    assert.equal(conflicts.size, 1);
    assert.deepEqual(conflicts.docs[0]!.get("rejected.values"), { qty: 4 });
    await flush();
    await assertEqualSides();
  });

  it("costs one Sheets read on a 10,000-row tab in sync (and one more when rows differ)", async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => [
      `r_${String(i).padStart(5, "0")}`,
      `Item ${i}`,
      i % 97,
      "",
      "",
    ]);
    await seed(rows);
    let started = Date.now();
    const first = await reconcile();
    const importMs = Date.now() - started;
    assert.equal(first.counts["new-in-sheet"], 10_000);

    started = Date.now();
    const inSync = await reconcile();
    const inSyncMs = Date.now() - started;
    assert.deepEqual(inSync.counts, { "in-sync": 10_000 });
    assert.deepEqual(inSync.sheetsRequests, { reads: 1, writes: 0 });

    // Ten rows edited in the sheet behind the sync's back: one more read, of those rows' cells.
    await sheetsApi.spreadsheets.values.batchUpdate({
      spreadsheetId: SPREADSHEET,
      requestBody: {
        valueInputOption: "RAW",
        data: Array.from({ length: 10 }, (_, k) => ({
          range: `${SHEET}!C${2 + k * 1000}`,
          values: [[1000 + k]],
        })),
      },
    });
    const differing = await reconcile();
    assert.equal(differing.counts["sheet-to-firestore"], 10);
    assert.deepEqual(differing.sheetsRequests, { reads: 2, writes: 0 });
    console.log(
      `      reconcile of 10,000 rows: first (all new) ${importMs} ms, in sync ${inSyncMs} ms; ` +
        `Sheets requests in sync ${inSync.sheetsRequests.reads} reads, with 10 rows differing ${differing.sheetsRequests.reads}`,
    );
  });
});
