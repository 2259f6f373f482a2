/**
 * The flush and the trigger's recording, called in-process against the
 * running Firestore and Sheets emulators, on a collection and a spreadsheet
 * no deployed trigger watches: what a task handler returns (acknowledge) or
 * throws (retry) is observed directly, not inferred from timing.
 */
import assert from "node:assert/strict";
import { FieldValue } from "firebase-admin/firestore";
import type { SyncConfig } from "../../src/config.js";
import { parseSheetBatch } from "../../src/core/batch.js";
import { ingestBatch } from "../../src/ingest/rowStore.js";
import { flushSheet, type FlushDeps } from "../../src/outbound/flush.js";
import { recordRowWrite } from "../../src/outbound/rowTrigger.js";
import { STALE_AFTER_MS, sweepOutbox } from "../../src/outbound/sweep.js";
import { db, uniqueId } from "./stack.js";
import { LOCAL, sheetsApi } from "./sheets.js";

const SPREADSHEET = "flush-test";
const SHEET = "Perm Tab";
const config: SyncConfig = {
  collection: "flushRows",
  spreadsheetId: SPREADSHEET,
  sheetName: SHEET,
  tombstoneRetentionMs: 30 * 24 * 3600 * 1000,
  sheetsApiRootUrl: `${LOCAL}/`,
};
const task = { spreadsheetId: SPREADSHEET, sheetName: SHEET };
const sheetDoc = () =>
  db()
    .collection("syncSheets")
    .doc(`${SPREADSHEET}:${encodeURIComponent(SHEET)}`);
const outbox = (id: string) => db().collection("syncOutbox").doc(`flushRows:${id}`);

async function emulator(method: string, path: string, body?: unknown) {
  const res = await fetch(`${LOCAL}/__emulator/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.ok, `${path}: ${res.status}`);
  return res.json();
}

function deps(scheduled: Array<{ id: string; runAt: number }> = []): FlushDeps {
  // A clock past every debounce: these tests flush at once.
  return {
    db: db(),
    api: sheetsApi,
    config,
    now: () => Date.now() + 60_000,
    schedule: async (_t, id, runAt) => void scheduled.push({ id, runAt }),
  };
}

async function changeRow(id: string, data: Record<string, unknown>) {
  await db().collection(config.collection).doc(id).set(data);
  return recordRowWrite(db(), config, id, { timeMs: Date.now(), isDelete: false, now: Date.now() });
}

describe("flushSheet and recordRowWrite, in-process", function () {
  this.timeout(60_000);

  after(async () => {
    // Leave no queued rows behind for other suites (some tests end with rows waiting on purpose).
    const left = await db()
      .collection("syncOutbox")
      .where("collection", "==", config.collection)
      .get();
    await Promise.all(left.docs.map((d) => d.ref.delete()));
  });

  beforeEach(async () => {
    await emulator("POST", `spreadsheets/${SPREADSHEET}`, {
      timeZone: "Europe/Berlin",
      sheets: [{ title: SHEET, rows: [["_id", "name", "qty", "_modified"]] }],
    });
    await emulator("DELETE", "faults");
  });

  it("records a document edit once, however often or late its event comes", async () => {
    const id = uniqueId("dup");
    const first = await changeRow(id, { name: "a", qty: 1 });
    assert.equal(first.outcome, "queued_upsert");
    const again = await recordRowWrite(db(), config, id, {
      timeMs: Date.now(),
      isDelete: false,
      now: Date.now(),
    });
    assert.equal(again.outcome, "echo", "a redelivered event queued the row twice");
    const doc = await db().collection(config.collection).doc(id).get();
    assert.equal(doc.get("_sync.origin"), "firestore");
    assert.equal((await outbox(id).get()).get("changedAt"), first.entry!.changedAt);

    // Deleted, then an old update event arrives after the delete's.
    await db().collection(config.collection).doc(id).delete();
    const deletedAt = Date.now();
    const deleted = await recordRowWrite(db(), config, id, {
      timeMs: deletedAt,
      isDelete: true,
      now: Date.now(),
    });
    assert.equal(deleted.outcome, "queued_delete");
    const late = await recordRowWrite(db(), config, id, {
      timeMs: deletedAt - 10_000,
      isDelete: false,
      now: Date.now(),
    });
    assert.equal(late.outcome, "already_deleted");
    assert.equal((await outbox(id).get()).get("op"), "delete");
    assert.equal(
      (await outbox(id).get()).get("changedAt"),
      deletedAt,
      "the delete keeps its own time",
    );

    // An update event that arrives after the document is gone, before the delete's own event: nothing yet.
    const other = uniqueId("late");
    await changeRow(other, { name: "x" });
    await db().collection(config.collection).doc(other).delete();
    const early = await recordRowWrite(db(), config, other, {
      timeMs: Date.now() - 5_000,
      isDelete: false,
      now: Date.now(),
    });
    assert.equal(early.entry, null, "a late update event queued a delete with the wrong time");
    assert.equal((await outbox(other).get()).get("op"), "upsert");
  });

  it("a permanent error (no permission) is recorded and acknowledged; the rows wait for the next flush", async () => {
    const id = uniqueId("perm");
    await changeRow(id, { name: "waits", qty: 2 });
    await emulator("POST", "faults", [{ status: 403, count: 1 }]);

    const report = await flushSheet(deps(), task, "t1"); // resolves: Cloud Tasks will not retry
    assert.equal(report.outcome, "permanent_error");
    assert.match(report.error!, /share the spreadsheet/);
    assert.equal((await sheetDoc().get()).get("lastError.status"), 403);
    assert.ok((await outbox(id).get()).exists, "the row was dropped");

    const next = await flushSheet(deps(), task, "t2");
    assert.equal(next.outcome, "flushed");
    assert.equal(next.appended, 1);
    assert.equal((await sheetDoc().get()).get("lastError"), undefined, "the error was not cleared");
    assert.equal((await outbox(id).get()).exists, false);
    const { data } = await sheetsApi.spreadsheets.values.get({
      spreadsheetId: SPREADSHEET,
      range: `'${SHEET}'!B2:C2`,
    });
    assert.deepEqual(data.values, [["waits", "2"]]);
  });

  it("quota and server errors throw, so Cloud Tasks retries; nothing is lost", async () => {
    const id = uniqueId("quota");
    await changeRow(id, { name: "retry me", qty: 3 });
    for (const status of [429, 500, 503]) {
      await emulator("POST", "faults", [{ status, count: 1 }]);
      await assert.rejects(
        flushSheet(deps(), task, `t-${status}`),
        (e: { status?: number }) => e.status === status,
      );
      assert.ok((await outbox(id).get()).exists);
    }
    assert.equal((await flushSheet(deps(), task, "t-ok")).appended, 1);
  });

  it("a missing tab is a permanent error naming the setting", async () => {
    const id = uniqueId("tab");
    await changeRow(id, { name: "x" });
    const report = await flushSheet(
      deps(),
      { spreadsheetId: SPREADSHEET, sheetName: "No Such Tab" },
      "t",
    );
    // The outbox is per sheet: this sheet has nothing queued yet, so nothing is read.
    assert.equal(report.outcome, "empty");
    await db()
      .collection("syncOutbox")
      .doc(`flushRows:${id}`)
      .update({ sheetKey: `${SPREADSHEET}:No%20Such%20Tab` });
    const missing = await flushSheet(
      deps(),
      { spreadsheetId: SPREADSHEET, sheetName: "No Such Tab" },
      "t",
    );
    assert.equal(missing.outcome, "permanent_error");
    assert.match(missing.error!, /no tab named "No Such Tab".*SHEET_SYNC_SHEET_NAME/);
  });

  it("keeps an outbox entry that changed while the flush was writing, and flushes it next time", async () => {
    const id = uniqueId("inflight");
    await changeRow(id, { name: "v1", qty: 1 });
    await emulator("POST", "latency", { ms: 700 });
    try {
      const running = flushSheet(deps(), task, "t1");
      await new Promise((r) => setTimeout(r, 200)); // the flush is inside its first Sheets request now
      await db().collection(config.collection).doc(id).update({ name: "v2" });
      await recordRowWrite(db(), config, id, {
        timeMs: Date.now(),
        isDelete: false,
        now: Date.now(),
      });
      const report = await running;
      assert.equal(report.outcome, "flushed");
    } finally {
      await emulator("POST", "latency", { ms: 0 });
    }
    assert.ok(
      (await outbox(id).get()).exists,
      "the newer change was acknowledged without being written",
    );
    await flushSheet(deps(), task, "t2");
    const { data } = await sheetsApi.spreadsheets.values.get({
      spreadsheetId: SPREADSHEET,
      range: `'${SHEET}'!A2:B3`,
    });
    assert.deepEqual(data.values, [[id, "v2"]]);
    assert.equal((await outbox(id).get()).exists, false);
  });

  it("defers while rows are still changing, but not past the maximum wait", async () => {
    const id = uniqueId("defer");
    await changeRow(id, { name: "busy" });
    const scheduled: Array<{ id: string; runAt: number }> = [];
    const busy = await flushSheet({ ...deps(scheduled), now: () => Date.now() }, task, "t1");
    assert.equal(busy.outcome, "deferred");
    assert.equal(scheduled.length, 1, "a deferred flush schedules its follow-up");
    const late = await flushSheet({ ...deps(), now: () => Date.now() + 16_000 }, task, "t2");
    assert.equal(late.outcome, "flushed");
  });

  it("the sweep schedules a flush for a sheet whose rows wait too long, once per slot", async () => {
    const id = uniqueId("stuck");
    await changeRow(id, { name: "stuck" });
    const scheduled: string[] = [];
    const sweep = (at: number) =>
      sweepOutbox(db(), at, async (_t, key, taskId) => void scheduled.push(`${key} ${taskId}`));
    const key = `${SPREADSHEET}:${encodeURIComponent(SHEET)}`;
    assert.ok(!(await sweep(Date.now())).includes(key), "a fresh row is not stale");
    const later = Date.now() + STALE_AFTER_MS + 1000;
    assert.ok((await sweep(later)).includes(key));
    await sweep(later + 1);
    const ours = scheduled.filter((s) => s.startsWith(key));
    assert.equal(ours.length, 2);
    assert.equal(
      ours[0],
      ours[1],
      "the same slot gives the same task id (deduplicated by Cloud Tasks)",
    );
  });

  it("deletes the right row when the same flush appends below a blank row inside the data", async () => {
    const [a, c, n] = [uniqueId("a"), uniqueId("c"), uniqueId("n")];
    await emulator("POST", `spreadsheets/${SPREADSHEET}`, {
      sheets: [
        {
          title: SHEET,
          rows: [["_id", "name", "qty", "_modified"], [a, "A", 1, 100], [], [c, "C", 3, 100]],
        },
      ],
    });
    await db().collection(config.collection).doc(c).set({ name: "C", qty: 3 });
    await db().collection(config.collection).doc(c).delete();
    await recordRowWrite(db(), config, c, { timeMs: Date.now(), isDelete: true, now: Date.now() });
    await changeRow(n, { name: "N", qty: 9 });

    // (Rows left queued by earlier tests of this file may be appended too.)
    const report = await flushSheet(deps(), task, "t");
    assert.equal(report.deleted, 1);
    const { data } = await sheetsApi.spreadsheets.values.get({
      spreadsheetId: SPREADSHEET,
      range: `'${SHEET}'!A2:A10`,
    });
    const ids = (data.values ?? []).map((r) => r[0] ?? "");
    assert.ok(ids.includes(a) && ids.includes(n), ids.join(","));
    assert.ok(!ids.includes(c), `the wrong row was deleted: ${ids.join(",")}`);
  });

  it("a field deleted from a synced document clears its cell", async () => {
    const id = uniqueId("clear");
    await changeRow(id, { name: "Keeps", qty: 5 });
    await flushSheet(deps(), task, "t1");
    await db().collection(config.collection).doc(id).update({ qty: FieldValue.delete() });
    await recordRowWrite(db(), config, id, {
      timeMs: Date.now(),
      isDelete: false,
      now: Date.now(),
    });
    await flushSheet(deps(), task, "t2");
    const { data } = await sheetsApi.spreadsheets.values.get({
      spreadsheetId: SPREADSHEET,
      range: `'${SHEET}'!A2:C20`,
    });
    const row = (data.values ?? []).find((r) => r[0] === id);
    assert.deepEqual(row, [id, "Keeps"], "the deleted field's cell kept its value");
  });

  it("a newer sheet edit over a Firestore edit still queued for the sheet records that edit as a conflict", async () => {
    const id = uniqueId("lost");
    await changeRow(id, { name: "from the console", qty: 1 });
    const parsed = parseSheetBatch(
      {
        spreadsheetId: SPREADSHEET,
        sheetName: SHEET,
        header: ["_id", "name", "qty", "_modified"],
        changes: [
          { id, modifiedAt: Date.now() + 1000, values: { name: "from the sheet", qty: 2 } },
        ],
      },
      Date.now(),
    );
    assert.ok(parsed.ok);
    const [result] = await ingestBatch(db(), parsed.batch, config, Date.now());
    assert.equal(result!.outcome, "applied");
    const recorded = await db().collection("syncConflicts").where("rowId", "==", id).get();
    assert.equal(recorded.size, 1);
    assert.equal(recorded.docs[0]!.get("rejected.origin"), "firestore");
    assert.equal(recorded.docs[0]!.get("rejected.values.name"), "from the console");
  });
});
