/**
 * The flush and the trigger's recording, called in-process against the
 * running Firestore and Sheets emulators, on a collection and a spreadsheet
 * no deployed trigger watches: what a task handler returns (acknowledge) or
 * throws (retry) is observed directly, not inferred from timing.
 */
import assert from "node:assert/strict";
import { FieldValue } from "firebase-admin/firestore";
import { parseWebhookBody } from "../../../contract/src/schema.js";
import { SheetsGateway } from "../../src/sheets/gateway.js";
import { FirestoreStore } from "../../src/store/firestoreStore.js";
import { handleDocEvent } from "../../src/sync/docEvents.js";
import { flushSheet, type FlushDeps } from "../../src/sync/flush.js";
import { ingestBatch } from "../../src/sync/ingest.js";
import type { SyncStore } from "../../src/sync/ports.js";
import { db, uniqueId } from "./stack.js";
import { emulatorAdmin, sheetsApi } from "./sheets.js";

const SPREADSHEET = "flush-test";
const SHEET = "Perm Tab";
const COLLECTION = "flushRows";
const HEADER = ["_id", "name", "qty", "total", "_modified", "_rev"];
const store = () =>
  new FirestoreStore(db(), {
    collection: COLLECTION,
    spreadsheetId: SPREADSHEET,
    sheetName: SHEET,
    tombstoneRetentionMs: 30 * 24 * 3600 * 1000,
  });
const outbox = (id: string) => db().collection("syncOutbox").doc(`${COLLECTION}:${id}`);
const doc = (id: string) => db().collection(COLLECTION).doc(id);

function deps(over: Partial<FlushDeps> = {}): FlushDeps {
  // A clock past every debounce: these tests flush at once.
  return {
    store: store(),
    sheet: new SheetsGateway(sheetsApi, SPREADSHEET, SHEET),
    now: () => Date.now() + 60_000,
    schedule: async () => undefined,
    ...over,
  };
}
const trigger = (id: string, isDelete = false, at = Date.now()) =>
  handleDocEvent({ store: store(), schedule: async () => undefined, now: Date.now }, id, {
    at,
    isDelete,
  });

async function changeRow(id: string, data: Record<string, unknown>) {
  await doc(id).set(data, { merge: true });
  return trigger(id);
}

async function sheetValues(range = "A2:F20") {
  const { data } = await sheetsApi.spreadsheets.values.get({
    spreadsheetId: SPREADSHEET,
    range: `'${SHEET}'!${range}`,
    valueRenderOption: "UNFORMATTED_VALUE",
  });
  return (data.values ?? []) as unknown[][];
}
const rowOf = async (id: string) => (await sheetValues()).find((r) => r[0] === id);

describe("flushSheet and the trigger, in-process", function () {
  this.timeout(60_000);

  before(async () => {
    // These tests make many requests in a few seconds; the quota is tested elsewhere.
    await emulatorAdmin("POST", "quota", { readsPerMinute: 100_000, writesPerMinute: 100_000 });
  });

  after(async () => {
    await emulatorAdmin("POST", "quota", { readsPerMinute: 60, writesPerMinute: 60 });
    // Leave no queued rows behind for other suites (some tests end with rows waiting on purpose).
    const left = await db().collection("syncOutbox").where("collection", "==", COLLECTION).get();
    await Promise.all(left.docs.map((d) => d.ref.delete()));
  });

  beforeEach(async () => {
    await emulatorAdmin("POST", `spreadsheets/${SPREADSHEET}`, {
      timeZone: "Europe/Berlin",
      sheets: [{ title: SHEET, rows: [HEADER] }],
    });
    await emulatorAdmin("DELETE", "faults");
    // Rows other tests left queued on purpose must not change these tests' counts.
    const left = await db().collection("syncOutbox").where("collection", "==", COLLECTION).get();
    await Promise.all(left.docs.map((d) => d.ref.delete()));
    await store().saveSheet({
      lastError: null,
      sheetId: undefined,
      timeZone: undefined,
      idColumn: undefined,
    });
  });

  it("records a document edit once, however often or late its event comes", async () => {
    const id = uniqueId("dup");
    assert.equal(await changeRow(id, { name: "a", qty: 1 }), "queued");
    assert.equal(await trigger(id), "unchanged", "a redelivered event queued the row twice");
    await flushSheet(deps(), "t1");
    assert.ok(await rowOf(id));

    await doc(id).delete();
    const deletedAt = Date.now();
    assert.equal(await trigger(id, true, deletedAt), "queued");
    assert.equal((await outbox(id).get()).get("op"), "delete");
    assert.equal(
      (await outbox(id).get()).get("changedAt"),
      deletedAt,
      "the delete keeps its own time",
    );
    // Redelivered, or an old update event arriving after the delete's: nothing changes.
    assert.equal(await trigger(id, true, deletedAt), "unchanged");
    assert.equal(await trigger(id, false, deletedAt - 10_000), "unchanged");
    await flushSheet(deps(), "t2");
    assert.equal(await rowOf(id), undefined);
  });

  it("a document created and deleted before any flush never reaches the sheet", async () => {
    const id = uniqueId("brief");
    await changeRow(id, { name: "brief" });
    await doc(id).delete();
    assert.equal(await trigger(id, true), "recorded");
    assert.equal((await outbox(id).get()).exists, false, "nothing for the sheet to do");
  });

  it("appends a new document's row, then writes only what changes, with _rev", async () => {
    const id = uniqueId("row");
    await changeRow(id, { name: "Widget", qty: 3 });
    const first = await flushSheet(deps(), "t1");
    assert.equal(first.appended, 1);
    assert.deepEqual(await rowOf(id), [id, "Widget", 3, "", "", 1]);

    await changeRow(id, { qty: 4 });
    const second = await flushSheet(deps(), "t2");
    assert.equal(second.written, 1);
    assert.deepEqual(await rowOf(id), [id, "Widget", 4, "", "", 2]);
    assert.equal((await outbox(id).get()).exists, false);
  });

  it("a permanent error (no permission) is recorded and acknowledged; the rows wait; recovery asks for a reconcile", async () => {
    const id = uniqueId("perm");
    await changeRow(id, { name: "waits", qty: 2 });
    await emulatorAdmin("POST", "faults", [{ status: 403, count: 1 }]);

    const report = await flushSheet(deps(), "t1"); // resolves: Cloud Tasks will not retry
    assert.equal(report.outcome, "permanent_error");
    assert.match(report.error!, /share the spreadsheet/);
    assert.equal((await store().sheet()).lastError?.status, 403);
    assert.ok((await outbox(id).get()).exists, "the row was dropped");

    let reconciles = 0;
    const next = await flushSheet(deps({ requestReconcile: async () => void reconciles++ }), "t2");
    assert.equal(next.outcome, "flushed");
    assert.equal(next.appended, 1);
    assert.equal((await store().sheet()).lastError, undefined, "the error was not cleared");
    assert.equal(reconciles, 1, "a reconcile catches up after the outage");
    assert.equal((await outbox(id).get()).exists, false);
    assert.deepEqual((await rowOf(id))?.slice(1, 3), ["waits", 2]);
  });

  it("quota and server errors throw, so Cloud Tasks retries; nothing is lost", async () => {
    const id = uniqueId("quota");
    await changeRow(id, { name: "retry me", qty: 3 });
    for (const status of [429, 500, 503]) {
      await emulatorAdmin("POST", "faults", [{ status, count: 1 }]);
      await assert.rejects(flushSheet(deps(), `t-${status}`));
      assert.ok((await outbox(id).get()).exists);
    }
    assert.equal((await flushSheet(deps(), "t-ok")).appended, 1);
  });

  it("a Firestore error inside the flush is retried, never recorded as a Sheets error (sequence 13)", async () => {
    const id = uniqueId("grpc");
    await changeRow(id, { name: "x" });
    for (const [code, name] of [
      [14, "UNAVAILABLE"],
      [10, "ABORTED"],
      [4, "DEADLINE_EXCEEDED"],
    ] as const) {
      const failing: SyncStore = Object.create(store());
      failing.update = async () => {
        throw Object.assign(new Error(`${code} ${name}: try again`), { code });
      };
      await assert.rejects(flushSheet(deps({ store: failing }), "t"), new RegExp(name));
      assert.equal(
        (await store().sheet()).lastError,
        undefined,
        `${name} was taken for a Sheets error`,
      );
    }
    assert.equal((await flushSheet(deps(), "t-ok")).appended, 1);
  });

  it("a missing tab is a permanent error naming the setting", async () => {
    const id = uniqueId("tab");
    await changeRow(id, { name: "x" });
    const report = await flushSheet(
      deps({ sheet: new SheetsGateway(sheetsApi, SPREADSHEET, "No Such Tab") }),
      "t",
    );
    assert.equal(report.outcome, "permanent_error");
    assert.match(report.error!, /no tab named "No Such Tab".*SHEET_SYNC_SHEET_NAME/);
  });

  it("keeps a change made while the flush was writing, and flushes it next time", async () => {
    const id = uniqueId("inflight");
    await changeRow(id, { name: "v1", qty: 1 });
    // The app writes again right after the flush planned (and before its Sheets write).
    const s = store();
    const racing: SyncStore = Object.create(s);
    let planned = false;
    racing.update = async (ids, decide) => {
      const out = await s.update(ids, decide);
      if (!planned) {
        planned = true;
        await changeRow(id, { name: "v2" });
      }
      return out;
    };
    assert.equal((await flushSheet(deps({ store: racing }), "t1")).appended, 1);
    assert.equal((await rowOf(id))?.[1], "v1");
    assert.ok(
      (await outbox(id).get()).exists,
      "the newer change was acknowledged without being written",
    );
    await flushSheet(deps(), "t2");
    assert.equal((await rowOf(id))?.[1], "v2");
    assert.equal((await outbox(id).get()).exists, false);
  });

  it("defers while rows are still changing, but not past the maximum wait", async () => {
    const id = uniqueId("defer");
    await changeRow(id, { name: "busy" });
    const scheduled: string[] = [];
    const busy = await flushSheet(
      deps({ now: () => Date.now(), schedule: async (taskId) => void scheduled.push(taskId) }),
      "t1",
    );
    assert.equal(busy.outcome, "deferred");
    assert.equal(scheduled.length, 1, "a deferred flush schedules its follow-up");
    const late = await flushSheet(deps({ now: () => Date.now() + 16_000 }), "t2");
    assert.equal(late.outcome, "flushed");
  });

  it("deletes the right row when the same flush appends below a blank row inside the data", async () => {
    const [a, c, n] = [uniqueId("a"), uniqueId("c"), uniqueId("n")];
    for (const id of [a, c]) await changeRow(id, { name: id === a ? "A" : "C", qty: 1 });
    await flushSheet(deps(), "t0");
    await emulatorAdmin("POST", `spreadsheets/${SPREADSHEET}`, {
      sheets: [
        { title: SHEET, rows: [HEADER, [a, "A", 1, "", "", 1], [], [c, "C", 1, "", "", 1]] },
      ],
    });
    await doc(c).delete();
    await trigger(c, true);
    await changeRow(n, { name: "N", qty: 9 });

    const report = await flushSheet(deps(), "t");
    assert.equal(report.deleted, 1, JSON.stringify(report));
    const ids = (await sheetValues("A2:A10")).map((r) => r[0] ?? "");
    assert.ok(ids.includes(a) && ids.includes(n), ids.join(","));
    assert.ok(!ids.includes(c), `the wrong row was deleted: ${ids.join(",")}`);
  });

  it("a field deleted from a synced document clears its cell", async () => {
    const id = uniqueId("clear");
    await changeRow(id, { name: "Keeps", qty: 5 });
    await flushSheet(deps(), "t1");
    await doc(id).update({ qty: FieldValue.delete() });
    await trigger(id);
    await flushSheet(deps(), "t2");
    assert.deepEqual((await rowOf(id))?.slice(0, 3), [id, "Keeps", ""]);
  });

  it("never overwrites a formula: the document gets the formula's value back, on record (sequence 9)", async () => {
    const id = uniqueId("formula");
    await changeRow(id, { name: "F", qty: 2 });
    await flushSheet(deps(), "t1");
    const rowNumber = (await sheetValues()).findIndex((r) => r[0] === id) + 2;
    await sheetsApi.spreadsheets.values.update({
      spreadsheetId: SPREADSHEET,
      range: `'${SHEET}'!D${rowNumber}`,
      valueInputOption: "USER_ENTERED",
      requestBody: { values: [[`=C${rowNumber}*10`]] },
    });
    await changeRow(id, { total: 99 });
    const report = await flushSheet(deps(), "t2");
    assert.equal(report.conflicts, 1);
    assert.equal((await doc(id).get()).get("total"), 20, "Firestore gets the formula's value");
    const recorded = await db().collection("syncConflicts").where("rowId", "==", id).get();
    assert.equal(recorded.docs[0]!.get("rule"), "formula-owns-column");
    assert.equal(recorded.docs[0]!.get("rejected.values.total"), 99);
    assert.equal((await outbox(id).get()).exists, false, "nothing left to send");
  });

  it("sets aside one row the Sheets API refuses and writes the others", async () => {
    const [ok1, bad, ok2] = [uniqueId("ok"), uniqueId("bad"), uniqueId("ok")];
    await changeRow(ok1, { name: "fine 1" });
    await changeRow(bad, { name: "POISON" });
    await changeRow(ok2, { name: "fine 2" });
    await emulatorAdmin("POST", "faults", [
      { status: 400, count: 10, methods: ["values.append"], bodyIncludes: "POISON" },
    ]);
    const report = await flushSheet(deps(), "t");
    assert.equal(report.outcome, "flushed");
    assert.equal(report.appended, 2);
    assert.equal(report.refused, 1);
    const ids = (await sheetValues("A2:A10")).map((r) => r[0]);
    assert.ok(ids.includes(ok1) && ids.includes(ok2) && !ids.includes(bad));
    const recorded = await db().collection("syncConflicts").where("rowId", "==", bad).get();
    assert.equal(recorded.docs[0]!.get("rule"), "refused-by-the-sheet");
    assert.equal((await outbox(bad).get()).exists, false, "set aside, not retried forever");
  });

  it("a flush that dies after writing leaves nothing for a late webhook to undo, and no false conflict", async () => {
    const id = uniqueId("dies");
    await changeRow(id, { name: "v1", qty: 1 });
    await flushSheet(deps(), "t0");
    await changeRow(id, { qty: 2 });
    // The commit after the Sheets write fails: the write is recorded as in flight only.
    const s = store();
    let calls = 0;
    const dying: SyncStore = Object.create(s);
    dying.update = (ids, decide) => {
      if (++calls === 2) throw new Error("the function instance went away");
      return s.update(ids, decide);
    };
    await assert.rejects(flushSheet(deps({ store: dying }), "t1"), /went away/);
    assert.deepEqual((await rowOf(id))?.slice(1, 3), ["v1", 2], "the write landed");
    // The app edits again before anything else runs; then the sheet's script sends the row it
    // reads (with the write's _rev): the merge must see the app's own value, not a sheet edit.
    await changeRow(id, { qty: 3 });
    const row = (await rowOf(id))!;
    const parsed = parseWebhookBody(
      {
        spreadsheetId: SPREADSHEET,
        sheetName: SHEET,
        header: HEADER,
        readAt: Date.now(),
        changes: [
          { id, modifiedAt: Date.now(), rev: row[5], values: { name: "v1", qty: 2, total: null } },
        ],
      },
      { now: Date.now(), timestamp: Date.now() },
    );
    assert.ok(parsed.ok);
    const [result] = await ingestBatch(
      { store: store(), schedule: async () => undefined, now: Date.now },
      parsed.batch,
    );
    assert.equal(result!.conflicts, undefined, "the write's own value is no conflict");
    assert.equal((await doc(id).get()).get("qty"), 3, "the app's newest value stays");
    await flushSheet(deps(), "t2");
    assert.deepEqual((await rowOf(id))?.slice(1, 3), ["v1", 3]);
  });
});
