/**
 * Sequences an attack review of issue 7 found (a helper with fresh eyes, on the model and on
 * `npm start`), each end to end through the whole system as in sequences.test.ts.
 */
import assert from "node:assert/strict";
import { startSheetsEmulator, type RunningSheetsEmulator } from "@sheet-sync/sheets-emulator";
import { check } from "../src/check.js";
import { quietLogs } from "../src/quiet.js";
import { SPREADSHEET, TAB, World } from "../src/world.js";

let server: RunningSheetsEmulator;
let world: World;

before(async () => {
  server = await startSheetsEmulator({ port: 0, now: () => world?.now ?? Date.now() });
});
after(async () => {
  await server.close();
});

let loud: () => void;
beforeEach(async () => {
  loud = quietLogs();
  world = await World.create(server, { initialRows: 4 });
});
afterEach(() => loud());

function rowOf(key: string): number {
  const i = world.sheetTable().rows.findIndex((r) => r.key === key);
  assert.ok(i >= 0, `item ${key} is not in the sheet`);
  return i + 1;
}

const idOf = (key: string) => world.sheetTable().rows.find((r) => r.key === key)?._id as string;

async function runTriggers(): Promise<void> {
  while (world.scriptTriggers.length) {
    await world.startScript(world.scriptTriggers.shift()!);
    await world.sched.drain();
  }
}

describe("sequences the attack review of issue 7 found", function () {
  this.timeout(60_000);

  for (const trigger of ["change", "none"] as const) {
    it(`a document with no column values keeps its row through a sort of the visible columns (${trigger})`, async () => {
      // Its row holds its id alone; a sort moves its blank cells last, where its id must go too.
      world.db.writeDoc("appdoc1", { status: "open" }, false);
      await world.settle();
      assert.ok(world.sheetTable().rows.some((r) => r._id === "appdoc1"));
      world.personNewRow({ name: "Aardvark", qty: 0, price: 2 });
      await runTriggers();
      await world.settle();
      world.personSortVisible("name", true, trigger);
      await runTriggers();
      await world.startScript({ kind: "timer" });
      await world.sched.drain();
      await world.settle();
      assert.equal(world.db.docs.get("appdoc1")?.fields.status, "open");
      const rows = world.sheetTable().rows;
      assert.equal(rows.filter((r) => r._id === "appdoc1").length, 1);
      // Sorted by name (Aardvark, Gadget, Gizmo, Sprocket, Widget), the blank row last.
      assert.deepEqual(
        rows.map((r) => r.key ?? null),
        ["k5", "k2", "k3", "k4", "k1", null],
      );
      assert.equal(rows.at(-1)?._id, "appdoc1");
      assert.deepEqual(check(world).failures, []);
    });
  }

  it("a document whose id no row can hold is left alone by the reconcile, as by its events", async () => {
    world.db.writeDoc("item 1", { name: "Spaced", qty: 3, price: 2 }, false);
    world.db.events.splice(0); // onRowWritten skips such an id (see functions/src/index.ts)
    const report = await world.reconcileNow("schedule");
    assert.equal(report.counts["unusable-id"], 1);
    assert.deepEqual(report.ids["unusable-id"], ["item 1"]);
    await world.quiesce();
    await world.reconcileNow("request");
    await world.quiesce();
    assert.deepEqual(world.db.docs.get("item 1")?.fields, { name: "Spaced", qty: 3, price: 2 });
    assert.equal(world.db.docs.size, 5);
    assert.ok(world.sheetTable().rows.every((r) => r.name !== "Spaced"));
  });

  for (const seen of [true, false]) {
    it(`Ctrl-Z of a delete ${seen ? "after" : "before"} it reached Firestore brings the app's own fields back too`, async () => {
      const x = idOf("k2");
      world.appSet(x, "status", "approved");
      await world.settle();
      world.advance(5000);
      world.personDeleteRow(rowOf("k2"));
      if (seen) {
        await runTriggers();
        await world.settle();
        assert.equal(world.db.docs.has(x), false);
      }
      world.advance(5000);
      world.personUndoDelete();
      await runTriggers();
      await world.settle();
      assert.equal(world.db.docs.get(x)?.fields.status, "approved");
      assert.equal(world.db.docs.get(x)?.fields.name, "Gadget");
      assert.equal(world.db.kept.size, 0);
      assert.deepEqual(check(world).failures, []);
    });
  }

  it("a sheet delete keeps the app's own fields only until the row comes back, and never over an app's restore", async () => {
    const x = idOf("k3");
    world.appSet(x, "status", "old");
    await world.settle();
    world.personDeleteRow(rowOf("k3"));
    await runTriggers();
    await world.settle();
    assert.deepEqual(world.db.kept.get(x), { status: "old" });
    // The app restores the document itself, with a status of its own, before any undo.
    world.db.writeDoc(x, { key: "k3", name: "Gizmo", qty: 3, price: 2, status: "new" }, false);
    await world.settle();
    assert.equal(world.db.docs.get(x)?.fields.status, "new");
  });

  for (const seen of [true, false]) {
    it(`an app's own field that became a column while its row was deleted comes back with the undo (${seen ? "delete seen" : "not seen"})`, async () => {
      const x = idOf("k2");
      world.appSet(x, "status", "approved");
      await world.settle();
      world.advance(5000);
      world.personDeleteRow(rowOf("k2"));
      if (seen) {
        await runTriggers();
        await world.settle();
      }
      // Another person adds the column (each has an undo history of their own: the model's
      // column clears the deleting person's, so theirs is put back).
      const undo = [...(world as unknown as { deleted: unknown[] }).deleted];
      world.personAddColumn("status");
      (world as unknown as { deleted: unknown[] }).deleted.push(...undo);
      await runTriggers();
      await world.settle();
      world.advance(5000);
      world.personUndoDelete();
      await runTriggers();
      await world.settle();
      const row = world.sheetTable().rows.find((r) => r._id === x);
      assert.equal(world.db.docs.get(x)?.fields.status, "approved");
      assert.equal(row?.status, "approved");
      assert.deepEqual(check(world).failures, []);
    });
  }

  for (const at of [1, 3]) {
    it(`typing into a document's blank row is its edit, with a blank row inserted at ${at} (review)`, async () => {
      world.db.writeDoc("appdoc1", { status: "open" }, false);
      await world.settle();
      world.personInsertRow(at);
      await runTriggers();
      await world.settle();
      const row = world.sheetTable().rows.findIndex((r) => r._id === "appdoc1") + 1;
      world.personEdit(row, "name", "Foo");
      await runTriggers();
      await world.settle();
      assert.equal(world.db.docs.get("appdoc1")?.fields.name, "Foo");
      assert.equal(world.db.docs.get("appdoc1")?.fields.status, "open");
      assert.equal(world.sheetTable().rows.find((r) => r.name === "Foo")?._id, "appdoc1");
    });
  }

  it("a date typed as a column header names no column on either side: nothing diverges", async () => {
    const header = world.sheetTable().header;
    const col = header.length;
    world.emulator.userSetValues(SPREADSHEET, TAB, 0, col, [["2026-12-01"]]);
    assert.equal(typeof world.emulator.scriptValues(SPREADSHEET, TAB)[0]![col], "object");
    await world.settle();
    world.emulator.userSetValues(SPREADSHEET, TAB, rowOf("k1"), col, [[5]]);
    world.personEdit(rowOf("k1"), "qty", 9);
    await runTriggers();
    await world.settle();
    const report = await world.reconcileNow("request");
    await world.settle();
    for (const [, doc] of world.db.docs) {
      assert.deepEqual(Object.keys(doc.fields).sort(), [
        "due",
        "key",
        "name",
        "price",
        "qty",
        "total",
      ]);
    }
    assert.equal(world.db.docs.get(idOf("k1"))?.fields.qty, 9);
    assert.deepEqual(report.counts["sheet-to-firestore"] ?? 0, 0);
    assert.deepEqual(check(world).failures, []);
  });
});
