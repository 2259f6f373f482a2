/**
 * The thirteen sequences of issue 7, each end to end through the whole
 * system (the script's engine on the emulated sheet, the webhook, the
 * trigger, the flush and the reconcile on the in-memory Firestore), with the
 * interleaving each one names played step by step. Each ends with the
 * model's invariants (check.ts) and what the sequence itself expects.
 */
import assert from "node:assert/strict";
import { startSheetsEmulator, type RunningSheetsEmulator } from "@sheet-sync/sheets-emulator";
import { check } from "../src/check.js";
import { quietLogs } from "../src/quiet.js";
import { World } from "../src/world.js";

let server: RunningSheetsEmulator;
let world: World;

before(async () => {
  // The sheet's clock (NOW(), TODAY()) is the world's.
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

// ---- helpers --------------------------------------------------------------------------------------

function assertConverged(): void {
  assert.deepEqual(check(world).failures, []);
}

/** The 1-based sheet row (as the person sees it, minus the header) holding item `key`. */
function rowOf(key: string): number {
  const i = world.sheetTable().rows.findIndex((r) => r.key === key);
  assert.ok(i >= 0, `item ${key} is not in the sheet`);
  return i + 1;
}

function idOf(key: string): string {
  const row = world.sheetTable().rows.find((r) => r.key === key);
  const id = row?._id;
  assert.ok(typeof id === "string" && id, `item ${key} has no id in the sheet`);
  return id;
}

const docOf = (id: string) => world.db.docs.get(id)?.fields;

/** Runs only the executions whose label starts with `prefix`, to their end; the rest wait. */
async function runOnly(prefix: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    const k = world.sched.blocked().findIndex((b) => b.execution.startsWith(prefix));
    if (k < 0) return;
    await world.sched.step(k);
  }
  throw new Error(`${prefix} did not end`);
}

/** Lets `prefix` run until its next operation waiting is `gate` (not run yet). */
async function runUntil(prefix: string, gate: string): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    const blocked = world.sched.blocked();
    const k = blocked.findIndex((b) => b.execution.startsWith(prefix));
    if (k < 0) throw new Error(`${prefix} ended before ${gate}`);
    if (blocked[k]!.gate === gate) return;
    await world.sched.step(k);
  }
  throw new Error(`${prefix} never reached ${gate}`);
}

/** Delivers every pending Firestore trigger event, in order, each to its end. */
async function deliverEvents(): Promise<void> {
  while (world.db.events.length) {
    await world.startEvent(world.db.events.shift()!);
    await runOnly("event");
  }
}

/** The script's pending triggers, in order, each to its end. */
async function runTriggers(): Promise<void> {
  while (world.scriptTriggers.length) {
    await world.startScript(world.scriptTriggers.shift()!);
    await runOnly("script");
  }
}

/** A person types qty=50 into `key`'s row; onEdit stamps it at once, and its webhook is slow. */
async function editStampedThenSlow(key: string): Promise<void> {
  world.personEdit(rowOf(key), "qty", 50);
  await world.startScript(world.scriptTriggers.shift()!);
  await runUntil("script", "script http");
}

const conflicts = () => [...world.db.conflicts.values()];
const conflictsOf = (id: string) => conflicts().filter((c) => c.rowId === id);

// ---- the sequences --------------------------------------------------------------------------------

describe("the sequences of issue 7, end to end", function () {
  this.timeout(60_000);

  it("1. a sort of the visible columns moves no identity and changes no document", async () => {
    const before = new Map([...world.db.docs].map(([id, d]) => [id, { ...d }]));
    // Sorted by name: Gadget, Gizmo, Sprocket, Widget — every row's content moves, the hidden
    // _id/_modified/_rev columns stay where they were.
    world.personSortVisible("name", true, "change");
    await runTriggers();
    await world.settle();
    assertConverged();
    assert.deepEqual(
      world.sheetTable().rows.map((r) => r.name),
      ["Gadget", "Gizmo", "Sprocket", "Widget"],
    );
    for (const [id, doc] of before) {
      assert.deepEqual(world.db.docs.get(id)?.fields, doc.fields, `document ${id} changed`);
      assert.equal(world.db.docs.get(id)?.updateTime, doc.updateTime, `document ${id} rewritten`);
    }
    assert.equal(conflicts().length, 0);
  });

  it("1d. an app's write the flush set aside after a visible sort reaches the sheet once the script moved the ids, without waiting for the scheduled reconcile", async () => {
    const x = idOf("k1");
    world.advance(1000);
    world.appSet(x, "price", 10);
    await deliverEvents();
    // The visible columns sorted, no trigger yet: the row under X holds another item.
    world.personSortVisible("qty", false, "none");
    world.structuralPending = false;
    world.advance(3000); // past the flush's quiet time
    assert.ok(await world.startFlush());
    await world.sched.drain();
    assert.equal(world.db.states.get(x)?.parked, true, "the flush set X aside");
    // The script's minute scan moves the ids; the flush asked for a reconcile after it. No
    // scheduled reconcile runs here (quiesce runs only a requested one).
    await world.quiesce();
    const row = world.sheetTable().rows.find((r) => r._id === x);
    assert.equal(row?.key, "k1");
    assert.equal(row?.price, 10);
    assertConverged();
  });

  for (const trigger of ["edit", "none"] as const) {
    it(`1${trigger === "edit" ? "b" : "c"}. the same sort ${trigger === "edit" ? "reported as an edit of the whole range" : "that fires no trigger"} moves no identity either`, async () => {
      const keys = new Map(world.sheetTable().rows.map((r) => [r._id as string, r.key]));
      world.personSortVisible("qty", false, trigger);
      await runTriggers();
      await world.settle();
      assertConverged();
      assert.deepEqual(
        world.sheetTable().rows.map((r) => r.qty),
        [4, 3, 2, 1],
      );
      for (const [id, key] of keys) assert.equal(docOf(id)?.key, key);
    });
  }

  it("2. a new column's empty cells are 'no value yet': app values fill it", async () => {
    for (const id of world.docIds()) world.appSet(id, "status", `open ${id.slice(0, 4)}`);
    await world.settle();
    world.personAddColumn("status");
    await runTriggers();
    await world.settle();
    assertConverged();
    for (const row of world.sheetTable().rows) {
      assert.equal(row.status, `open ${String(row._id).slice(0, 4)}`);
      assert.equal(docOf(row._id as string)?.status, row.status);
    }
  });

  it("3. an app's delete waiting for the flush survives a column rename that resends every row", async () => {
    const x = idOf("k2");
    world.advance(1000); // a second after the rows were imported
    world.appDelete(x);
    await deliverEvents();
    assert.ok(world.db.outbox.has(x), "the delete waits in the outbox");
    // Before any flush: the person renames a column; the script resends all rows, X included.
    world.personRenameColumn("price", "unit price");
    await runTriggers();
    assert.equal(docOf(x), undefined, "the resend brought X back");
    await world.settle();
    assertConverged();
    assert.equal(docOf(x), undefined);
    assert.ok(!world.sheetTable().rows.some((r) => r._id === x), "X is still in the sheet");
    assert.equal(docOf(idOf("k1"))?.["unit price"], 2);
  });

  it("4. the app's delete half a second after a person's edit wins, webhook late or not", async () => {
    const x = idOf("k3");
    await editStampedThenSlow("k3");
    world.advance(500);
    world.appDelete(x);
    // The webhook with the edit arrives after the delete, before its event.
    await runOnly("script");
    await deliverEvents();
    await world.settle();
    assertConverged();
    assert.equal(docOf(x), undefined);
    assert.ok(!world.sheetTable().rows.some((r) => r.key === "k3"));
    assert.ok(
      conflictsOf(x).some((c) => c.rejected.side === "sheet" && c.kept.op === "delete"),
      "the losing edit is on record",
    );
  });

  it("4b. a delete event whose handler fails once is retried, and not lost", async () => {
    const x = idOf("k3");
    await editStampedThenSlow("k3");
    world.advance(500);
    world.appDelete(x);
    await runOnly("script");
    const [event] = world.db.events.splice(0);
    world.db.failNextUpdate = "14 UNAVAILABLE: the connection dropped";
    const failed = await world.startEvent(event!);
    await runOnly("event");
    await assert.rejects(failed.result, /UNAVAILABLE/);
    // onRowWritten runs with retries: the same event comes again.
    await world.startEvent(event!);
    await runOnly("event");
    await world.settle();
    assertConverged();
    assert.equal(docOf(x), undefined);
  });

  it("5. a deleted row put back with Ctrl-Z is back on both sides, under its id", async () => {
    const x = idOf("k2");
    const before = { ...docOf(x) };
    world.personDeleteRow(rowOf("k2"));
    await runTriggers();
    await world.settle();
    assert.equal(docOf(x), undefined, "the delete reached Firestore");
    world.advance(5_000);
    world.personUndoDelete();
    await runTriggers();
    await world.settle();
    assertConverged();
    assert.equal(idOf("k2"), x);
    assert.deepEqual(docOf(x), before);
  });

  it("5b. Ctrl-Z before the script saw the delete changes nothing anywhere", async () => {
    const x = idOf("k2");
    const before = world.db.docs.get(x);
    world.personDeleteRow(rowOf("k2"));
    world.advance(5_000);
    world.personUndoDelete();
    await runTriggers();
    await world.settle();
    assertConverged();
    assert.equal(idOf("k2"), x);
    assert.equal(world.db.docs.get(x)?.updateTime, before?.updateTime);
  });

  it("6. an app's rename and a person's qty, unstamped when the flush runs, both survive", async () => {
    const x = idOf("k1");
    world.appSet(x, "name", "Renamed");
    await deliverEvents();
    world.advance(2_000);
    world.personEdit(rowOf("k1"), "qty", 50);
    world.advance(1_000);
    await world.startFlush();
    await runOnly("flush");
    await runTriggers();
    await world.settle();
    assertConverged();
    assert.equal(docOf(x)?.name, "Renamed");
    assert.equal(docOf(x)?.qty, 50);
    assert.equal(conflicts().length, 0);
  });

  it("6b. the same column: the person's later edit wins, the app's value is on record", async () => {
    const x = idOf("k1");
    world.appSet(x, "name", "Renamed");
    await deliverEvents();
    world.advance(2_000);
    world.personEdit(rowOf("k1"), "name", "Typed");
    world.advance(1_000);
    await world.startFlush();
    await runOnly("flush");
    await runTriggers();
    await world.settle();
    assertConverged();
    assert.equal(docOf(x)?.name, "Typed");
    const recorded = conflictsOf(x).find((c) => c.field === "name");
    assert.ok(recorded, "a conflict on name");
    assert.equal(recorded.rejected.side, "firestore");
    assert.deepEqual(recorded.rejected.values, { name: "Renamed" });
    assert.deepEqual(recorded.kept.values, { name: "Typed" });
  });

  for (const created of ["by the sheet", "by an app"] as const) {
    it(`7. a delete on a slow webhook against an app's edit a second later, row created ${created}: one outcome, recorded`, async () => {
      let key = "k2";
      if (created === "by an app") {
        world.appCreate({ name: "App row", qty: 9, price: 1 });
        await world.settle();
        key = world.sheetTable().rows.at(-1)!.key as string;
      }
      const x = idOf(key);
      world.personDeleteRow(rowOf(key));
      const trigger = world.scriptTriggers.shift()!;
      await world.startScript(trigger);
      await runUntil("script", "script http");
      world.advance(1_000);
      world.appSet(x, "qty", 7);
      await deliverEvents();
      // The flush runs while the webhook with the delete is still on its way.
      await world.startFlush();
      await runOnly("flush");
      await runOnly("script");
      await world.settle();
      assertConverged();
      // The later write wins: the row is back on both sides, and the delete is on record.
      assert.equal(docOf(x)?.qty, 7);
      assert.equal(world.sheetTable().rows.filter((r) => r.key === key).length, 1);
      assert.ok(
        conflictsOf(x).some((c) => c.field === null && c.rejected.op === "delete"),
        "the losing delete is on record",
      );
    });
  }

  it("8. a TODAY() that moves on a new day changes that field only; a pending app edit stays", async () => {
    const x = idOf("k4");
    world.personEdit(rowOf("k4"), "due", "=TODAY()");
    await runTriggers();
    await world.settle();
    const dueBefore = docOf(x)?.due;
    assert.ok(dueBefore instanceof Date);
    world.advance(24 * 3600_000);
    // The formula's new value is the sheet's write of the day (the model's record of truth).
    const recalculated = world.sheetTable().rows[rowOf("k4") - 1]!.due;
    world.truth.push({
      t: world.now,
      op: "write",
      side: "sheet",
      key: "k4",
      field: "due",
      value: recalculated ?? null,
    });
    world.appSet(x, "name", "From the app");
    await deliverEvents();
    // The next minute's scan sees the new day before the flush runs.
    await world.startScript({ kind: "timer" });
    await runOnly("script");
    assert.equal(docOf(x)?.name, "From the app", "the recalculation overwrote the app's edit");
    await world.settle();
    assertConverged();
    const dueAfter = docOf(x)?.due;
    assert.ok(dueAfter instanceof Date && dueAfter.getTime() > dueBefore.getTime());
    assert.equal(world.sheetTable().rows[rowOf("k4") - 1]?.name, "From the app");
    assert.equal(conflicts().length, 0);
  });

  it("9. an app's write to a formula column is on record and Firestore gets the formula's value", async () => {
    const x = idOf("k3");
    world.appSet(x, "total", 99);
    await world.settle();
    assertConverged();
    assert.equal(docOf(x)?.total, 6); // =D*E: 3 × 2
    const recorded = conflictsOf(x).find((c) => c.field === "total");
    assert.ok(recorded);
    assert.equal(recorded.rule, "formula-owns-column");
    assert.deepEqual(recorded.rejected.values, { total: 99 });
  });

  it("10. a second app write at any point of a flush: the sheet ends with it, no false conflict", async () => {
    // Count the flush's operations once, then put the second write before each of them.
    const x0 = idOf("k1");
    world.appSet(x0, "name", "First");
    await deliverEvents();
    world.advance(1_000);
    await world.startFlush();
    let steps = 0;
    while (world.sched.blocked().some((b) => b.execution.startsWith("flush"))) {
      await world.sched.step(0);
      steps++;
    }
    assert.ok(steps >= 3, `the flush took ${steps} operations`);
    for (let k = 0; k <= steps; k++) {
      world = await World.create(server, { initialRows: 4 });
      const x = idOf("k1");
      world.appSet(x, "name", "First");
      await deliverEvents();
      world.advance(1_000);
      await world.startFlush();
      for (let i = 0; i < k; i++) {
        const j = world.sched.blocked().findIndex((b) => b.execution.startsWith("flush"));
        if (j >= 0) await world.sched.step(j);
      }
      world.appSet(x, "name", "Second");
      await deliverEvents();
      await runOnly("flush");
      await world.settle();
      assertConverged();
      assert.equal(world.sheetTable().rows[rowOf("k1") - 1]?.name, "Second", `at step ${k}`);
      assert.equal(conflicts().length, 0, `at step ${k}: ${JSON.stringify(conflicts())}`);
      // The row's _rev in the sheet is the revision the sync wrote it with, last.
      const rev = world.sheetTable().rows[rowOf("k1") - 1]?._rev;
      assert.equal(Number(rev), world.db.states.get(x)?.rev, `at step ${k}`);
    }
  });

  it("11. a document copied to a new id, or restored from a backup, is a row in the sheet", async () => {
    const x = idOf("k1");
    world.appCopy(x);
    await world.settle();
    assertConverged();
    const copies = world.sheetTable().rows.filter((r) => r.name === "Widget");
    assert.equal(copies.length, 2);
    const y = idOf("k2");
    const fields = { ...docOf(y) };
    world.appDelete(y);
    await world.settle();
    assert.ok(!world.sheetTable().rows.some((r) => r._id === y));
    world.appRestore();
    await world.settle();
    assertConverged();
    assert.equal(idOf("k2"), y);
    assert.deepEqual(docOf(y), fields);
  });

  it("12. a bad cell is refused alone, noted on its row; the rest of the sheet syncs", async () => {
    // 20261121 typed into the date column: 20,261,121 days after 1899, a date in year 57373.
    const bad = idOf("k2");
    world.personEdit(rowOf("k2"), "due", "2026-12-01");
    await runTriggers();
    await world.settle();
    world.personEdit(rowOf("k2"), "due", 20261121);
    world.personEdit(rowOf("k3"), "name", "Still syncs");
    await runTriggers();
    await world.settle();
    assert.equal(docOf(idOf("k3"))?.name, "Still syncs");
    const dead = world.engine.state.loadDeadLetters();
    assert.ok(dead.has(bad), "the refused row is in the dead-letter list");
    assert.match(new Map(dead.entries()).get(bad)!.reason, /date|year/i);
    assert.ok(
      [...world.notes.values()].some((n) => /year/.test(n)),
      `no note on the row: ${JSON.stringify([...world.notes])}`,
    );
    // The person fixes it: it syncs, and leaves the list.
    world.personEdit(rowOf("k2"), "due", "2027-01-15");
    await runTriggers();
    await world.settle();
    assertConverged();
    assert.ok(!world.engine.state.loadDeadLetters().has(bad));
    assert.equal(world.notes.size, 0, "the note went with the fix");
    assert.ok(docOf(bad)?.due instanceof Date);
  });

  it("12b. one row Sheets refuses does not hold back the others", async () => {
    const poison = idOf("k1");
    const fine = idOf("k2");
    // Sheets refuses any request holding this text (400), as it would a cell it cannot take.
    world.emulator.injectFaults([{ status: 400, count: 1_000, bodyIncludes: "POISON" }]);
    world.appSet(poison, "name", "POISON");
    world.appSet(fine, "name", "Fine");
    await deliverEvents();
    world.advance(1_000);
    await world.startFlush();
    await runOnly("flush");
    assert.equal(world.tasks.size, 0, "the flush is done, the refused row set aside");
    assert.equal(world.sheetTable().rows[rowOf("k2") - 1]?.name, "Fine");
    const recorded = conflictsOf(poison).find((c) => c.rule === "refused-by-the-sheet");
    assert.ok(recorded, "the refused write is on record");
    world.emulator.clearFaults();
    await world.settle();
    assertConverged();
    // Once Sheets takes it again, the reconcile brings the set-aside row over.
    assert.equal(world.sheetTable().rows[rowOf("k1") - 1]?.name, "POISON");
  });

  for (const error of [
    "14 UNAVAILABLE: the connection dropped",
    "10 ABORTED: too much contention",
    "4 DEADLINE_EXCEEDED: deadline exceeded",
  ]) {
    it(`13. a Firestore error inside the flush (${error.split(":")[0]}) is retried, not filed as a Sheets error`, async () => {
      const x = idOf("k1");
      world.appSet(x, "name", "After the error");
      await deliverEvents();
      world.advance(1_000);
      // The flush fails at its last transaction: after writing the sheet, before recording it.
      await world.startFlush();
      await runUntil("flush", "sheets write cells");
      await world.sched.step(
        world.sched.blocked().findIndex((b) => b.execution.startsWith("flush")),
      );
      world.db.failNextUpdate = error;
      await runOnly("flush");
      assert.equal(world.tasks.size, 1, "the task stays for Cloud Tasks to retry");
      assert.equal(world.sheetTable().rows[rowOf("k1") - 1]?.name, "After the error");
      assert.ok(world.db.states.get(x)?.inFlight, "the write is still recorded as in flight");
      assert.equal(conflicts().length, 0);
      await world.settle();
      assertConverged();
      assert.equal(world.sheetTable().rows[rowOf("k1") - 1]?.name, "After the error");
      assert.equal(conflicts().length, 0);
    });
  }
});

// ---- a reconcile racing the other paths ----------------------------------------------------------

describe("a reconcile that read before another path wrote leaves that row alone", function () {
  this.timeout(60_000);

  /** A scheduled reconcile that has read both sides and waits at its first row transaction. */
  async function reconcileHasRead(): Promise<void> {
    await world.sched.spawn("reconcile", () => world.reconcileNow("schedule"));
    await runUntil("reconcile", "firestore transaction");
    world.advance(5_000);
  }

  it("a person's edit whose webhook lands meanwhile is not reverted", async () => {
    const id = idOf("k1");
    await reconcileHasRead();
    world.personEdit(rowOf("k1"), "name", "Zed");
    await runTriggers();
    assert.equal(docOf(id)?.name, "Zed");
    await runOnly("reconcile");
    assert.equal(docOf(id)?.name, "Zed", "the reconcile wrote its older read over the edit");
    await world.settle();
    assertConverged();
  });

  it("an app's new document the flush appends meanwhile is not taken for a sheet delete", async () => {
    const id = world.appCreate({ name: "New", qty: 7, price: 2 });
    await deliverEvents();
    await reconcileHasRead();
    await world.startFlush();
    await runOnly("flush");
    assert.ok(
      world.sheetTable().rows.some((r) => r._id === id),
      "the flush did not append it",
    );
    await runOnly("reconcile");
    assert.ok(docOf(id), "the reconcile deleted the app's new document");
    await world.settle();
    assertConverged();
  });

  it("a row the sheet deletes meanwhile is not brought back", async () => {
    const id = idOf("k2");
    await reconcileHasRead();
    world.personDeleteRow(rowOf("k2"));
    await runTriggers();
    world.structuralPending = false;
    assert.equal(docOf(id), undefined);
    await runOnly("reconcile");
    assert.equal(docOf(id), undefined, "the reconcile recreated the deleted row's document");
    await world.settle();
    assertConverged();
  });
});

describe("a sort of the visible columns over rows the script has not scanned", function () {
  this.timeout(120_000);

  it("150 rows the flush appended, sorted before the script's next run: every id keeps its item", async () => {
    // More rows than one webhook transaction takes: the cycles of the move must not be cut.
    for (let i = 0; i < 150; i++)
      world.appCreate({ name: `Item ${i}`, qty: (i * 37) % 101, price: 2 });
    while (world.db.events.length) {
      await world.startEvent(world.db.events.shift()!);
      await world.sched.drain();
    }
    world.advance(5_000);
    await world.startFlush();
    await world.sched.drain();
    assert.equal(world.sheetTable().rows.length, 154);
    world.personSortVisible("qty", true, "none");
    await world.startScript({ kind: "timer" });
    await world.sched.drain();
    await world.settle();
    assertConverged();
    assert.equal(world.db.conflicts.size, 0);
  });
});
