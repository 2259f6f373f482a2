/**
 * Firestore → sheet on the running stack: documents written with the Admin
 * SDK (as the console or an app would) reach the Sheets API emulator through
 * onRowWritten, the outbox and the flushToSheet task queue.
 */
import assert from "node:assert/strict";
import { Timestamp } from "firebase-admin/firestore";
import { dateToSerial } from "../../src/core/cells.js";
import {
  batch,
  COLLECTION,
  db,
  postBatch,
  SHEET_NAME,
  SPREADSHEET_ID,
  uniqueId,
  waitFor,
  waitForWebhook,
} from "./stack.js";
import {
  injectFaults,
  outboxDrained,
  resetStats,
  seedSpreadsheet,
  sheetRow,
  sheetRows,
  sheetsApi,
  stats,
  triggersSettled,
} from "./sheets.js";

const TZ = "America/New_York";
const HEADER = ["_id", "name", "qty", "due", "done", "total", "_modified", "_rev"];
const rows = () => db().collection(COLLECTION);

async function rowShown(
  id: string,
  check: (cells: Record<string, unknown>) => boolean,
  what: string,
) {
  return waitFor(what, async () => {
    const row = await sheetRow(id);
    return row && check(row.cells) ? row : undefined;
  });
}

describe("Firestore → sheet on the emulators", function () {
  this.timeout(240_000);
  const seeded = { a: uniqueId("seed"), b: uniqueId("seed"), c: uniqueId("seed") };

  before(async () => {
    await waitForWebhook();
    const now = Date.now() - 3_600_000;
    await seedSpreadsheet({
      title: "Demo",
      timeZone: TZ,
      sheets: [
        {
          title: SHEET_NAME,
          rows: [
            HEADER,
            [seeded.a, "Alpha", 2, "", false, "=C2*2", now, ""],
            [seeded.b, "Beta", 3, "", true, "=C3*2", now, ""],
            [seeded.c, "Gamma", 4, "", false, "=C4*2", now, ""],
          ],
        },
      ],
    });
    // The same rows in Firestore, as the sheet's first sync would have left them.
    const res = await postBatch(
      batch(
        [
          {
            id: seeded.a,
            modifiedAt: now,
            values: { name: "Alpha", qty: 2, due: null, done: false, total: 4 },
          },
          {
            id: seeded.b,
            modifiedAt: now,
            values: { name: "Beta", qty: 3, due: null, done: true, total: 6 },
          },
          {
            id: seeded.c,
            modifiedAt: now,
            values: { name: "Gamma", qty: 4, due: null, done: false, total: 8 },
          },
        ],
        [],
        HEADER,
      ),
    );
    assert.equal(res.status, 200, res.text);
    await triggersSettled();
  });

  it("a document created in Firestore appears as a new row, cells typed for the sheet", async () => {
    const id = uniqueId("create");
    const due = new Date("2026-12-24T18:00:00.000Z");
    await rows()
      .doc(id)
      .set({ name: "From the console", qty: 5, due: Timestamp.fromDate(due), done: true });
    const row = await rowShown(id, () => true, "the created row in the sheet");
    assert.equal(row.cells.name, "From the console");
    assert.equal(row.cells.qty, 5);
    assert.equal(row.cells.done, true);
    assert.ok(
      Math.abs((row.cells.due as number) - dateToSerial(due, TZ)) < 1e-9,
      `due ${row.cells.due}`,
    );
    assert.equal(row.cells._rev, 1, "the sync's first write of the row");
    assert.equal(row.cells._modified, "", "no person has edited it");
    const state = await db().collection("syncRows").doc(`${COLLECTION}:${id}`).get();
    assert.equal(state.get("inSheet"), true);
    assert.deepEqual(Object.keys((await rows().doc(id).get()).data()!).sort(), [
      "done",
      "due",
      "name",
      "qty",
    ]);
  });

  it("an update changes only its cells, in one write request", async () => {
    await outboxDrained();
    await resetStats();
    await rows().doc(seeded.a).update({ qty: 7 });
    const row = await rowShown(seeded.a, (c) => c.qty === 7, "qty 7 in the sheet");
    assert.equal(row.formulas.total, `=C${row.rowNumber}*2`);
    assert.equal(row.cells.total, 14, "the formula computes from the new qty");
    assert.equal(row.cells.name, "Alpha");
    await outboxDrained();
    const s = await stats();
    assert.equal(s.byMethod["values.batchUpdate"], 1);
    assert.equal(s.writes, 1, JSON.stringify(s.byMethod));
  });

  it("never overwrites a formula: the app's value is on record and Firestore gets the formula's (sequence 9)", async () => {
    await outboxDrained();
    await rows().doc(seeded.a).update({ total: 999 });
    await waitFor("the formula's value back in Firestore", async () =>
      (await rows().doc(seeded.a).get()).get("total") === 14 ? true : undefined,
    );
    const row = (await sheetRow(seeded.a))!;
    assert.equal(row.formulas.total, `=C${row.rowNumber}*2`, "the formula was overwritten");
    const snap = await db().collection("syncConflicts").where("rowId", "==", seeded.a).get();
    const c = snap.docs.find((d) => d.get("rule") === "formula-owns-column");
    assert.equal(c?.get("rejected.values.total"), 999);
    await outboxDrained();
  });

  it("a deleted document removes its row", async () => {
    const before = (await sheetRows()).length;
    await rows().doc(seeded.b).delete();
    await waitFor("the row to go", async () => ((await sheetRow(seeded.b)) ? undefined : true));
    assert.equal((await sheetRows()).length, before - 1);
    assert.ok(await sheetRow(seeded.c), "the row below was kept");
  });

  it("a sheet edit ingested through the webhook causes no Sheets API write", async () => {
    await outboxDrained();
    // The person's edit, in the sheet, then its webhook.
    const row = (await sheetRow(seeded.c))!;
    await sheetsApi.spreadsheets.values.update({
      spreadsheetId: SPREADSHEET_ID,
      range: `${SHEET_NAME}!B${row.rowNumber}`,
      valueInputOption: "RAW",
      requestBody: { values: [["Gamma (edited in sheet)"]] },
    });
    await resetStats();
    const res = await postBatch(
      batch(
        [
          {
            id: seeded.c,
            modifiedAt: Date.now(),
            values: { name: "Gamma (edited in sheet)", qty: 4, due: null, done: false, total: 8 },
          },
        ],
        [],
        HEADER,
      ),
    );
    assert.equal(res.status, 200, res.text);
    await triggersSettled();
    const doc = await rows().doc(seeded.c).get();
    assert.equal(doc.get("name"), "Gamma (edited in sheet)");
    assert.equal(
      (await db().collection("syncOutbox").doc(`${COLLECTION}:${seeded.c}`).get()).exists,
      false,
    );
    assert.equal((await stats()).writes, 0);
  });

  it("a document whose id cannot be a row id is not synced (the script would re-key it on every edit)", async () => {
    await rows().doc("Widget 1").set({ name: "spaces in the id" });
    await triggersSettled();
    assert.equal(
      (await db().collection("syncOutbox").doc(`${COLLECTION}:Widget 1`).get()).exists,
      false,
    );
    assert.equal(
      (await db().collection("syncRows").doc(`${COLLECTION}:Widget 1`).get()).exists,
      false,
    );
    await rows().doc("Widget 1").delete();
  });

  it("a column changed in both places waits for the sheet's edit, and the later one wins, on record (sequence 6)", async () => {
    await outboxDrained();
    const row = (await sheetRow(seeded.c))!;
    await rows().doc(seeded.c).update({ qty: 40, done: true });
    // A person types qty=41 right after; their webhook is still on its way when the flush runs.
    const personAt = Date.now() + 5_000;
    await sheetsApi.spreadsheets.values.batchUpdate({
      spreadsheetId: SPREADSHEET_ID,
      requestBody: {
        valueInputOption: "USER_ENTERED",
        data: [
          { range: `${SHEET_NAME}!C${row.rowNumber}`, values: [[41]] },
          { range: `${SHEET_NAME}!G${row.rowNumber}`, values: [[personAt]] },
        ],
      },
    });
    // The row is stamped after the app's change by an edit no webhook has brought yet: the person
    // may have typed a value back (A→B→A), which no cell shows, so the flush waits for that webhook.
    await waitFor("the flush to wait for the person's webhook", async () => {
      const state = await db().collection("syncRows").doc(`${COLLECTION}:${seeded.c}`).get();
      return state.get("parked") === true ? true : undefined;
    });
    const waiting = (await sheetRow(seeded.c))!.cells;
    assert.equal(waiting.qty, 41, "the person's edit was overwritten");
    assert.notEqual(
      waiting.done,
      true,
      "the flush wrote over a row whose edit is still on its way",
    );
    // The webhook arrives with when the person typed.
    const res = await postBatch(
      batch(
        [
          {
            id: seeded.c,
            modifiedAt: personAt,
            rev: Number((await sheetRow(seeded.c))!.cells._rev),
            // What the sheet shows: the person's qty, and done as it was before the app's change.
            values: {
              name: waiting.name,
              qty: 41,
              due: null,
              done: waiting.done,
              total: waiting.total,
            },
          },
        ],
        [],
        HEADER,
      ),
    );
    assert.equal(res.status, 200, res.text);
    assert.equal((await rows().doc(seeded.c).get()).get("qty"), 41);
    const snap = await db().collection("syncConflicts").where("rowId", "==", seeded.c).get();
    const c = snap.docs.find((d) => d.get("field") === "qty")?.data();
    assert.deepEqual(c?.kept.values, { qty: 41 });
    assert.deepEqual(c?.rejected.values, { qty: 40 });
    // Then the app's other column goes in, and the person's qty stays.
    await rowShown(seeded.c, (c) => c.done === true, "done=true from the app");
    await outboxDrained();
    assert.equal((await sheetRow(seeded.c))!.cells.qty, 41);
    assert.equal((await rows().doc(seeded.c).get()).get("done"), true);
  });

  it("1,000 document writes in a burst reach the sheet in a handful of write requests", async () => {
    await outboxDrained();
    await resetStats();
    const prefix = uniqueId("burst");
    const ids = Array.from({ length: 1000 }, (_, i) => `${prefix}_${i}`);
    for (let i = 0; i < ids.length; i += 250) {
      const b = db().batch();
      for (const id of ids.slice(i, i + 250))
        b.set(rows().doc(id), { name: `Burst ${id}`, qty: Number(id.split("_").pop()) });
      await b.commit();
    }
    const started = Date.now();
    await waitFor(
      "all 1,000 rows in the sheet",
      async () => {
        const present = new Set((await sheetRows()).map((r) => r.cells._id));
        return ids.every((id) => present.has(id)) ? true : undefined;
      },
      200_000,
    );
    await outboxDrained();
    const s = await stats();
    console.log(
      `      1,000 documents → sheet in ${Date.now() - started} ms; Sheets requests: ${JSON.stringify(s.byMethod)}`,
    );
    assert.ok(
      s.writes <= 5,
      `expected a handful of write requests, got ${s.writes}: ${JSON.stringify(s.byMethod)}`,
    );
    const row = await sheetRow(ids[999]!);
    assert.equal(row!.cells.qty, 999);
  });

  it("injected 429s and 500s delay the flush but lose nothing", async () => {
    await outboxDrained();
    await resetStats();
    await injectFaults([
      { status: 429, count: 1 },
      { status: 500, count: 1 },
    ]);
    await rows().doc(seeded.a).update({ name: "After faults" });
    await rowShown(seeded.a, (c) => c.name === "After faults", "the update despite faults");
    await outboxDrained();
    const s = await stats();
    assert.ok(s.rejected >= 2, `faults were not hit: ${JSON.stringify(s)}`);
  });
});
