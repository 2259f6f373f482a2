import assert from "node:assert/strict";
import {
  mergeSheetDelete,
  mergeSheetRow,
  recordDocEvent,
  type RowDecision,
} from "../../src/core/merge.js";
import {
  emptyRowState,
  agreedMoves,
  describedRow,
  findMovedRows,
  isSettledDelete,
  outboxOpFor,
  setBaseRow,
  type DocSnapshot,
  type RowState,
} from "../../src/core/rowState.js";
import type { RowValues } from "../../src/core/values.js";
import { stateWithWrite } from "../../src/sync/rows.js";

const columns = ["name", "qty"];
const NOW = 1_000_000;

/** A row both sides agree on: base = values, in the sheet, seen in Firestore at 50, last sheet send at 100. */
function synced(values: RowValues, over: Partial<RowState> = {}): RowState {
  const s: RowState = {
    ...emptyRowState(),
    inSheet: true,
    docSeenAt: 50,
    sheetAt: 100,
    sheetReadAt: 100,
  };
  setBaseRow(s, values, 0);
  // Frozen: a decision that changed the state it was given would throw here.
  return deepFreeze({ ...s, ...over });
}
function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !(value instanceof Date)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
const doc = (values: RowValues, updateTime = 50): DocSnapshot => ({ values, updateTime });
const row = (values: RowValues, modifiedAt: number, rev = 0) => ({ values, modifiedAt, rev });
const delivery = (modifiedAt: number, readAt = modifiedAt + 1) => ({ modifiedAt, readAt });

function fromSheet(
  state: RowState | null,
  d: DocSnapshot | null,
  values: RowValues,
  at: number,
  rev = 0,
): RowDecision {
  return mergeSheetRow({
    rowId: "r",
    state,
    doc: d,
    columns,
    now: NOW,
    row: row(values, at, rev),
    delivery: delivery(at),
  });
}
const opOf = (d: RowDecision, docExists: boolean) => outboxOpFor(d.state, docExists);
/** The row as a server read (the reconcile) sees it: no delivery, `_modified` and `_rev` as read. */
function readByServer(
  state: RowState,
  d: DocSnapshot | null,
  values: RowValues,
  at: number,
  rev = 0,
): RowDecision {
  return mergeSheetRow({
    rowId: "r",
    state,
    doc: d,
    columns,
    now: NOW,
    row: row(values, at, rev),
    delivery: null,
  });
}

describe("three-way merge: a sheet row against the document and the base", () => {
  const base = { name: "Widget", qty: 3 };

  it("takes a column only the sheet changed", () => {
    const d = fromSheet(synced(base), doc(base), { name: "Widget", qty: 4 }, 200);
    assert.deepEqual(d.doc, { kind: "set", values: { qty: 4 } });
    assert.equal(d.conflicts.length, 0);
    assert.equal(d.state.base.qty, 4);
    assert.equal(opOf(d, true), null);
  });

  it("leaves a column edited on both sides to the sheet's webhook when the server read it under an older stamp", () => {
    // The app set qty 8 at 300. The reconcile reads the person's 9 under `_modified` 100: the
    // script has not stamped that edit yet, so 100 is not when it was made.
    const edited = deepFreeze({ ...synced(base), docEdits: { qty: { key: "n:8", at: 300 } } });
    const read = readByServer(
      edited,
      doc({ name: "Widget", qty: 8 }, 300),
      { name: "Widget", qty: 9 },
      100,
    );
    assert.equal(read.doc, null);
    assert.equal(read.conflicts.length, 0, "no decision on a time that is not the edit's");
    assert.equal(read.state.base.qty, 3);
    assert.ok(read.state.docEdits.qty, "the app's edit still waits");
    // The webhook carries the edit's own time, after the app's: the person's 9 wins, on record.
    const sent = fromSheet(
      deepFreeze(read.state),
      doc({ name: "Widget", qty: 8 }, 300),
      {
        name: "Widget",
        qty: 9,
      },
      350,
    );
    assert.deepEqual(sent.doc, { kind: "set", values: { qty: 9 } });
    assert.equal(sent.conflicts[0]!.rejected.side, "firestore");
  });

  it("decides such a column by the row's time when a sync write of the row never landed (the webhook came while it was in flight)", () => {
    // The flush's write (rev 1) died; a webhook read then could not take qty 9 (the write was
    // for that cell). The row's `_rev` (0) is behind: that webhook came and went.
    const edited = deepFreeze({
      ...synced(base),
      rev: 1,
      docEdits: { qty: { key: "n:8", at: 300 } },
    });
    const read = readByServer(
      edited,
      doc({ name: "Widget", qty: 8 }, 300),
      { name: "Widget", qty: 9 },
      100,
      0,
    );
    assert.equal(read.conflicts.length, 1, "decided now, on record");
    assert.equal(read.conflicts[0]!.kept.side, "firestore", "the app's later 8 wins");
  });

  it("an app's write that the sheet happened to hold already still beats a sheet change stamped before it", () => {
    // The app set qty 8 at 300; the person had typed 8 (stamped 200), then 3 (stamped 250).
    const edited = deepFreeze({ ...synced(base), docEdits: { qty: { key: "n:8", at: 300 } } });
    const first = fromSheet(
      edited,
      doc({ name: "Widget", qty: 8 }, 300),
      { name: "Widget", qty: 8 },
      200,
    );
    assert.equal(first.conflicts.length, 0);
    assert.equal(first.state.base.qty, 8);
    const second = fromSheet(
      deepFreeze(first.state),
      doc({ name: "Widget", qty: 8 }, 300),
      { name: "Widget", qty: 3 },
      250,
    );
    assert.equal(second.doc, null, "the document keeps the app's 8");
    assert.equal(second.conflicts.length, 1);
    assert.equal(second.conflicts[0]!.rejected.side, "sheet");
    assert.equal(opOf(second, true), "upsert", "the flush writes 8 back into the sheet");
    // Stamped after the app's write, the sheet's 3 wins.
    const later = fromSheet(
      deepFreeze(first.state),
      doc({ name: "Widget", qty: 8 }, 300),
      { name: "Widget", qty: 3 },
      400,
    );
    assert.deepEqual(later.doc, { kind: "set", values: { qty: 3 } });
  });

  it("keeps a column only Firestore changed, and queues it for the sheet", () => {
    const d = fromSheet(synced(base), doc({ name: "Gizmo", qty: 3 }, 150), base, 200);
    assert.equal(d.doc, null);
    assert.deepEqual(Object.keys(d.state.docEdits), ["name"]);
    assert.equal(opOf(d, true), "upsert");
  });

  it("lets edits of different columns on both sides both survive (sequence 6)", () => {
    // The app renamed the item at 150; the person typed qty=50 at 152.
    const d = fromSheet(
      synced(base),
      doc({ name: "Gizmo", qty: 3 }, 150),
      { name: "Widget", qty: 50 },
      152,
    );
    assert.deepEqual(d.doc, { kind: "set", values: { qty: 50 } });
    assert.equal(d.conflicts.length, 0);
    assert.deepEqual(
      Object.keys(d.state.docEdits),
      ["name"],
      "the new name still goes to the sheet",
    );
  });

  it("takes a column the person typed its agreed value back into, after an app's change, as a later edit (A→B→A)", () => {
    const state = synced(base, { docEdits: { name: { key: "s:Gizmo", at: 150 } } });
    const typedBack = (fields?: string[]) =>
      mergeSheetRow({
        rowId: "r",
        state,
        doc: doc({ name: "Gizmo", qty: 3 }, 150),
        columns,
        now: NOW,
        row: { ...row(base, 200), fields },
        delivery: delivery(200),
      });
    const d = typedBack(["name"]);
    assert.deepEqual(d.doc, { kind: "set", values: { name: "Widget" } });
    assert.deepEqual(d.conflicts[0]!.rejected.values, { name: "Gizmo" });
    // Without the edit's columns (a scan's resend), the cell says nothing: the app's value stays.
    assert.equal(typedBack().doc, null);
    assert.equal(typedBack(["qty"]).doc, null);
  });

  it("decides each column the script's outbox merged by its own time, not the row's latest", () => {
    // The person changed name at 100 (not sent: the network was down), the app changed name at
    // 150, the person changed qty at 200; one webhook brings both, stamped 200.
    const state = synced(base, { docEdits: { name: { key: "s:Gizmo", at: 150 } } });
    const d = mergeSheetRow({
      rowId: "r",
      state,
      doc: doc({ name: "Gizmo", qty: 3 }, 150),
      columns,
      now: NOW,
      row: {
        ...row({ name: "Gadget", qty: 7 }, 200),
        fields: ["name", "qty"],
        fieldsAt: { name: 100 },
      },
      delivery: delivery(200),
    });
    assert.deepEqual(d.doc, { kind: "set", values: { qty: 7 } }, "the app's later name stays");
    assert.deepEqual(d.conflicts[0]!.kept.values, { name: "Gizmo" });
    assert.equal(d.conflicts[0]!.rejected.at, 100);
    assert.ok(d.state.docEdits.name, "the app's name goes to the sheet");
  });

  it("reads a column named like an Object member (constructor) by its own time like any other (review)", () => {
    const cols = ["name", "constructor"];
    const state = synced(
      { name: "Widget", constructor: "a" },
      {
        docEdits: { constructor: { key: "s:b", at: 300 } },
      },
    );
    const d = mergeSheetRow({
      rowId: "r",
      state,
      doc: doc({ name: "Widget", constructor: "b" }, 300),
      columns: cols,
      now: NOW,
      row: {
        ...row({ name: "Widget", constructor: "c" }, 400),
        fields: ["constructor"],
        fieldsAt: {},
      },
      delivery: delivery(400),
    });
    assert.deepEqual(
      d.doc,
      { kind: "set", values: { constructor: "c" } },
      "the later sheet edit wins",
    );
    assert.equal(d.conflicts[0]!.kept.at, 400);
  });

  it("keeps the person's cells a write in flight masks, with their stamp, for when it never lands", () => {
    const inFlight = { rev: 2, cells: { name: "Gizmo" }, since: 90 };
    const state = synced(base, { docEdits: { name: { key: "s:Gizmo", at: 150 } }, inFlight });
    const d = fromSheet(state, doc({ name: "Gizmo", qty: 3 }, 150), { name: "", qty: 3 }, 200);
    assert.equal(d.doc, null, "the write will overwrite the cell, if it lands");
    assert.deepEqual(d.state.inFlight?.unread, { name: { at: 200, value: null } });
    // A later webhook under the same write: its read and stamp replace the older ones.
    const next = fromSheet(
      d.state,
      doc({ name: "Gizmo", qty: 3 }, 150),
      { name: "Gadget", qty: 3 },
      300,
    );
    assert.deepEqual(next.state.inFlight?.unread, { name: { at: 300, value: "Gadget" } });
  });

  it("sees no conflict when both sides changed a column to the same value", () => {
    const d = fromSheet(
      synced(base),
      doc({ name: "Widget", qty: 9 }, 150),
      { name: "Widget", qty: 9 },
      200,
    );
    assert.equal(d.doc, null);
    assert.equal(d.conflicts.length, 0);
    assert.deepEqual(d.state.docEdits, {});
    assert.equal(d.state.base.qty, 9);
  });

  it("gives a column changed on both sides to the later edit and records the other (sheet later)", () => {
    const d = fromSheet(
      synced(base),
      doc({ name: "Widget", qty: 7 }, 150),
      { name: "Widget", qty: 50 },
      152,
    );
    assert.deepEqual(d.doc, { kind: "set", values: { qty: 50 } });
    assert.equal(d.conflicts.length, 1);
    const [c] = d.conflicts;
    assert.equal(c!.field, "qty");
    assert.equal(c!.rule, "last-write-wins");
    assert.deepEqual([c!.kept.side, c!.kept.values], ["sheet", { qty: 50 }]);
    assert.deepEqual([c!.rejected.side, c!.rejected.values], ["firestore", { qty: 7 }]);
    assert.equal(opOf(d, true), null);
  });

  it("gives a column changed on both sides to the later edit and records the other (Firestore later)", () => {
    const d = fromSheet(
      synced(base),
      doc({ name: "Widget", qty: 7 }, 300),
      { name: "Widget", qty: 50 },
      152,
    );
    assert.equal(d.doc, null, "the document keeps its value");
    assert.equal(
      d.state.base.qty,
      50,
      "the base holds the sheet's value, so the flush writes 7 over it",
    );
    assert.deepEqual(Object.keys(d.state.docEdits), ["qty"]);
    assert.equal(opOf(d, true), "upsert");
    assert.deepEqual(
      [d.conflicts[0]!.kept.values, d.conflicts[0]!.rejected.values],
      [{ qty: 7 }, { qty: 50 }],
    );
  });

  it("breaks a tie in the same millisecond the same way whichever side is looked at first", () => {
    const d = fromSheet(
      synced(base),
      doc({ name: "Widget", qty: 7 }, 150),
      { name: "Widget", qty: 50 },
      150,
    );
    // valueKey("n:7") > valueKey("n:50"): the document's value wins the tie.
    assert.equal(d.doc, null);
    assert.equal(d.conflicts[0]!.kept.side, "firestore");
  });

  it("reads a new column's empty cells as 'no value yet', so app values reach the sheet (sequence 2)", () => {
    const cols = ["name", "qty", "status"];
    const d = mergeSheetRow({
      rowId: "r",
      state: synced(base),
      doc: doc({ ...base, status: "active" }),
      columns: cols,
      now: NOW,
      row: row({ ...base, status: null }, 100),
      delivery: delivery(100, 500), // the header was edited: the row is resent with its own time
    });
    assert.equal(d.doc, null, "status stays 'active'");
    assert.deepEqual(Object.keys(d.state.docEdits), ["status"]);
    assert.equal(opOf(d, true), "upsert");
  });

  it("changes only the column a recalculated formula changed, whatever else is pending (sequence 8)", () => {
    const cols = ["name", "qty", "today"];
    const yesterday = new Date(Date.UTC(2026, 10, 29));
    const today = new Date(Date.UTC(2026, 10, 30));
    const state = synced({ ...base, today: yesterday });
    const d = mergeSheetRow({
      rowId: "r",
      state,
      doc: doc({ name: "Gizmo", qty: 3, today: yesterday }, 150),
      columns: cols,
      now: NOW,
      row: row({ ...base, today }, 86_400_000),
      delivery: delivery(86_400_000),
    });
    assert.deepEqual(d.doc, { kind: "set", values: { today } });
    assert.equal(d.conflicts.length, 0, "the app's pending rename is not overruled");
    assert.deepEqual(Object.keys(d.state.docEdits), ["name"]);
  });

  it("ignores columns a sync write changed after the webhook read the row (no revert)", () => {
    // The flush wrote qty=7 at rev 2; the webhook's values were read at rev 1.
    const state = synced({ name: "Widget", qty: 7 }, { baseRev: { qty: 2 }, rev: 2 });
    const d = fromSheet(state, doc({ name: "Widget", qty: 7 }), { name: "Gadget", qty: 3 }, 200, 1);
    assert.deepEqual(
      d.doc,
      { kind: "set", values: { name: "Gadget" } },
      "qty=3 is stale, not an edit",
    );
  });

  it("settles a write in flight: a read at its revision includes it, an earlier read predates it", () => {
    const state = synced(base, { rev: 1, inFlight: { rev: 2, cells: { qty: 7 }, since: NOW } });
    const app = doc({ name: "Widget", qty: 7 }, 150);
    const before = fromSheet(state, app, { name: "Widget", qty: 3 }, 200, 1);
    assert.equal(before.doc, null);
    assert.ok(before.state.inFlight, "still in flight");
    const after = fromSheet(state, app, { name: "Widget", qty: 7 }, 200, 2);
    assert.equal(after.state.inFlight, null);
    assert.equal(after.state.base.qty, 7);
    assert.equal(after.conflicts.length, 0, "the sheet showing the app's own value is no conflict");
  });

  it("orders deliveries of one row: an older one is stale, the same one a duplicate", () => {
    const state = synced(base, { sheetAt: 300, sheetReadAt: 310 });
    const old = mergeSheetRow({
      rowId: "r",
      state,
      doc: doc(base),
      columns,
      now: NOW,
      row: row({ name: "Old", qty: 3 }, 200),
      delivery: delivery(200, 400),
    });
    assert.equal(old.outcome, "stale");
    const same = mergeSheetRow({
      rowId: "r",
      state,
      doc: doc(base),
      columns,
      now: NOW,
      row: row({ name: "Old", qty: 3 }, 300),
      delivery: { modifiedAt: 300, readAt: 310 },
    });
    assert.equal(same.outcome, "duplicate");
    const reread = mergeSheetRow({
      rowId: "r",
      state,
      doc: doc(base),
      columns,
      now: NOW,
      row: row({ name: "New", qty: 3 }, 300),
      delivery: { modifiedAt: 300, readAt: 320 },
    });
    assert.equal(reread.outcome, "applied");
  });

  it("ends at the newest delivery's content in every delivery order", () => {
    const deliveries = [
      { values: { name: "a", qty: 1 }, at: 200 },
      { values: { name: "b", qty: 1 }, at: 300 },
      { values: { name: "b", qty: 2 }, at: 400 },
    ];
    const orders = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const order of orders) {
      let state: RowState | null = synced(base);
      let values: RowValues = { ...base };
      for (const i of order) {
        const { values: v, at } = deliveries[i]!;
        const d = fromSheet(state, doc(values), v, at);
        state = d.state;
        if (d.doc?.kind === "set") values = { ...values, ...d.doc.values };
      }
      assert.deepEqual(values, { name: "b", qty: 2 }, `order ${order.join(",")}`);
    }
  });
});

describe("three-way merge: whole rows (creates and deletes)", () => {
  const base = { name: "Widget", qty: 3 };

  it("creates a new row from the sheet", () => {
    const d = fromSheet(null, null, base, 200);
    assert.deepEqual(d.doc, { kind: "set", values: base });
    assert.ok(d.state.inSheet);
  });

  it("keeps a Firestore delete when the sheet only resends the row unchanged (sequence 3)", () => {
    const state = synced(base, { deleted: { at: 150, by: "firestore" } });
    // A rename resent the row with its own (older) time and a new column's empty cell.
    const d = mergeSheetRow({
      rowId: "r",
      state,
      doc: null,
      columns: [...columns, "note"],
      now: NOW,
      row: row({ ...base, note: null }, 100),
      delivery: delivery(100, 500),
    });
    assert.equal(d.doc, null);
    assert.equal(d.conflicts.length, 0);
    assert.equal(opOf(d, false), "delete", "the flush still removes the row from the sheet");
  });

  it("decides a Firestore delete against a later sheet edit by time: the edit brings the row back", () => {
    const state = synced(base, { deleted: { at: 150, by: "firestore" } });
    const d = fromSheet(state, null, { name: "Widget", qty: 9 }, 160);
    assert.deepEqual(d.doc, { kind: "set", values: { name: "Widget", qty: 9 } });
    assert.equal(d.state.deleted, null);
    assert.equal(d.conflicts.length, 1);
    assert.equal(d.conflicts[0]!.rejected.op, "delete");
  });

  it("decides a Firestore delete against an earlier sheet edit by time: the delete stays (sequence 4)", () => {
    const state = synced(base, { deleted: { at: 150, by: "firestore" } });
    const d = fromSheet(state, null, { name: "Widget", qty: 9 }, 140);
    assert.equal(d.doc, null);
    assert.equal(d.conflicts[0]!.kept.op, "delete");
    assert.equal(
      d.state.base.qty,
      9,
      "the sheet's values join the base, so the flush may delete the row",
    );
    assert.equal(opOf(d, false), "delete");
  });

  it("leaves a sheet edit the server read before the script stamped it to the edit's webhook, not to a Firestore delete", () => {
    // The reconcile reads qty 9 under the row's old `_modified` (100): the script has not run yet.
    const state = synced(base, { deleted: { at: 150, by: "firestore" } });
    const read = readByServer(state, null, { name: "Widget", qty: 9 }, 100);
    assert.equal(read.doc, null);
    assert.equal(read.conflicts.length, 0, "no decision on a time that is not the edit's");
    assert.equal(read.state.base.qty, 3, "the base keeps the agreed value");
    // Its webhook, stamped after the delete, brings the row back.
    const sent = fromSheet(read.state, null, { name: "Widget", qty: 9 }, 160);
    assert.deepEqual(sent.doc, { kind: "set", values: { name: "Widget", qty: 9 } });
    assert.equal(sent.state.deleted, null);
  });

  it("deletes the document of a row deleted in the sheet, and remembers the delete", () => {
    const d = mergeSheetDelete({
      rowId: "r",
      state: synced(base),
      doc: doc(base),
      columns,
      now: NOW,
      at: 200,
      delivery: delivery(200),
    });
    assert.deepEqual(d.doc, { kind: "delete" });
    assert.deepEqual(d.state.deleted, { at: 200, by: "sheet", ownDelete: null });
    assert.equal(d.state.inSheet, false);
  });

  it("a sheet delete older than a Firestore edit loses: the row goes back into the sheet (sequence 7)", () => {
    const d = mergeSheetDelete({
      rowId: "r",
      state: synced(base),
      doc: doc({ name: "Gizmo", qty: 3 }, 300),
      columns,
      now: NOW,
      at: 200,
      delivery: delivery(200),
    });
    assert.equal(d.doc, null);
    assert.equal(d.state.inSheet, false);
    assert.equal(opOf(d, true), "upsert", "appended again");
    assert.equal(d.conflicts[0]!.rejected.op, "delete");
  });

  describe("a document deleted and written again while its delete's event is on the way (seed 2205)", () => {
    const restored = (createTime: number) => ({ ...doc(base, 450), createTime });
    const sheetDelete = (d: DocSnapshot) =>
      mergeSheetDelete({
        rowId: "r",
        state: synced(base, { docCreatedAt: 40 }),
        doc: d,
        columns,
        now: NOW,
        at: 300,
        delivery: delivery(300),
      });

    it("is a new incarnation: the restore, newer than the sheet's delete, keeps the row on both sides", () => {
      const d = sheetDelete(restored(450));
      assert.equal(d.doc, null, "the restored document stays");
      assert.equal(d.state.docCreatedAt, 450);
      assert.equal(opOf(d, true), "upsert", "the row goes back into the sheet");
    });

    it("is the same incarnation when the create time is unchanged: the sheet's delete wins", () => {
      assert.deepEqual(sheetDelete(restored(40)).doc, { kind: "delete" });
    });
  });

  it("does not take the sync's own create of a document for an app's restore", () => {
    const state = synced(base, { docCreatedAt: 40 });
    const record = { rowId: "r", doc: null, state, outbox: null };
    const created = stateWithWrite(record, { kind: "set", values: base }, state);
    assert.equal(created.docCreatedAt, 0, "the commit's create time is adopted when next read");
    const merged = { rowId: "r", doc: doc(base, 450), state, outbox: null };
    assert.equal(stateWithWrite(merged, { kind: "set", values: base }, state), state);
    const next = recordDocEvent({
      rowId: "r",
      state: created,
      doc: { ...doc(base, 450), createTime: 450 },
      columns,
      now: NOW,
      event: { at: 450, isDelete: false },
    });
    assert.equal(next.state.docCreatedAt, 450);
    assert.deepEqual(next.state.docEdits, {}, "its own write is no app edit");
  });

  it("a sheet delete newer than a Firestore edit wins, and the edit is on record", () => {
    const d = mergeSheetDelete({
      rowId: "r",
      state: synced(base),
      doc: doc({ name: "Gizmo", qty: 3 }, 150),
      columns,
      now: NOW,
      at: 200,
      delivery: delivery(200),
    });
    assert.deepEqual(d.doc, { kind: "delete" });
    assert.deepEqual(d.conflicts[0]!.rejected.values, { name: "Gizmo" });
  });

  it("brings a row back on both sides when its delete is undone (sequence 5)", () => {
    const deleted = mergeSheetDelete({
      rowId: "r",
      state: synced(base),
      doc: doc(base),
      columns,
      now: NOW,
      at: 200,
      delivery: delivery(200),
    }).state;
    // Ctrl-Z: the row is back with its id; the script stamps its appearance with the time it saw it.
    const back = fromSheet(deleted, null, base, 205);
    assert.deepEqual(back.doc, { kind: "set", values: base });
    assert.equal(back.state.deleted, null);
    // And a delivery of the delete arriving late changes nothing.
    const late = mergeSheetDelete({
      rowId: "r",
      state: back.state,
      doc: doc(base, 400),
      columns,
      now: NOW,
      at: 200,
      delivery: delivery(200),
    });
    assert.equal(late.outcome, "stale");
  });

  it("an update delivered after the row's delete, but made before it, stays out", () => {
    const deleted = mergeSheetDelete({
      rowId: "r",
      state: synced(base),
      doc: doc(base),
      columns,
      now: NOW,
      at: 200,
      delivery: delivery(200),
    }).state;
    assert.equal(fromSheet(deleted, null, { name: "x", qty: 1 }, 150).outcome, "stale");
  });

  it("a delete arriving before any update of a row keeps a later-delivered older update out", () => {
    const d = mergeSheetDelete({
      rowId: "r",
      state: null,
      doc: null,
      columns,
      now: NOW,
      at: 200,
      delivery: delivery(200),
    });
    assert.equal(fromSheet(d.state, null, base, 150).outcome, "stale");
  });
});

describe("three-way merge: a Firestore delete the trigger has not recorded yet (sequence 4)", () => {
  const base = { name: "Widget", qty: 3 };
  const live = () => synced(base, { docSeenAt: 150 });

  it("with the sheet unchanged, leaves it to the trigger", () => {
    const d = fromSheet(live(), null, base, 200);
    assert.equal(d.doc, null);
    assert.equal(d.state.deleted, null);
  });

  it("with a sheet edit older than the document's last sight, the delete is certainly newer", () => {
    const d = fromSheet(live(), null, { name: "Widget", qty: 4 }, 140);
    assert.equal(d.doc, null);
    assert.equal(d.state.deleted?.by, "firestore");
    assert.equal(opOf(d, false), "delete");
  });

  it("otherwise keeps the data for now, and the delete's event settles it by time", () => {
    const d = fromSheet(live(), null, { name: "Widget", qty: 4 }, 200);
    assert.deepEqual(d.doc, { kind: "set", values: { name: "Widget", qty: 4 } });
    assert.deepEqual(d.state.provisional, { at: 200 });
    const recreated = doc({ name: "Widget", qty: 4 }, 900);
    // The delete was made at 250, after the person's edit at 200: it wins after all.
    const newer = recordDocEvent({
      rowId: "r",
      state: d.state,
      doc: recreated,
      columns,
      now: NOW,
      event: { at: 250, isDelete: true },
    });
    assert.deepEqual(newer.doc, { kind: "delete" });
    assert.equal(opOf(newer, false), "delete");
    assert.equal(newer.conflicts[0]!.kept.op, "delete");
    // Had it been made at 180, before the edit, the row stays.
    const older = recordDocEvent({
      rowId: "r",
      state: d.state,
      doc: recreated,
      columns,
      now: NOW,
      event: { at: 180, isDelete: true },
    });
    assert.equal(older.doc, null);
    assert.equal(older.state.provisional, null);
  });
});

describe("document events (the trigger)", () => {
  const base = { name: "Widget", qty: 3 };

  it("ignores the sync's own write: the document equals the base", () => {
    const d = recordDocEvent({
      rowId: "r",
      state: synced(base),
      doc: doc(base, 400),
      columns,
      now: NOW,
      event: { at: 400, isDelete: false },
    });
    assert.equal(opOf(d, true), null);
    assert.deepEqual(d.state.docEdits, {});
  });

  it("records an app edit once: a redelivered or late event changes nothing more", () => {
    const first = recordDocEvent({
      rowId: "r",
      state: synced(base),
      doc: doc({ name: "Gizmo", qty: 3 }, 400),
      columns,
      now: NOW,
      event: { at: 400, isDelete: false },
    });
    assert.deepEqual(first.state.docEdits, { name: { key: "s:Gizmo", at: 400 } });
    const again = recordDocEvent({
      rowId: "r",
      state: first.state,
      doc: doc({ name: "Gizmo", qty: 3 }, 400),
      columns,
      now: NOW,
      event: { at: 400, isDelete: false },
    });
    assert.equal(again.outcome, "duplicate");
  });

  it("makes a document copied to a new id a new row, whatever fields it carries (sequence 11)", () => {
    const d = recordDocEvent({
      rowId: "copy",
      state: null,
      doc: doc({ ...base, _sync: "{}" }, 400),
      columns,
      now: NOW,
      event: { at: 400, isDelete: false },
    });
    assert.equal(opOf(d, true), "upsert");
  });

  it("makes a deleted row restored from a backup a row again", () => {
    const gone = synced({}, { inSheet: false, deleted: { at: 300, by: "firestore" } });
    const d = recordDocEvent({
      rowId: "r",
      state: gone,
      doc: doc(base, 500),
      columns,
      now: NOW,
      event: { at: 500, isDelete: false },
    });
    assert.equal(d.state.deleted, null);
    assert.equal(opOf(d, true), "upsert");
  });

  it("records a delete with the event's time; a late event of an earlier write changes nothing", () => {
    const d = recordDocEvent({
      rowId: "r",
      state: synced(base),
      doc: null,
      columns,
      now: NOW,
      event: { at: 400, isDelete: true },
    });
    assert.deepEqual(d.state.deleted, { at: 400, by: "firestore" });
    assert.equal(opOf(d, false), "delete");
    const late = recordDocEvent({
      rowId: "r",
      state: synced(base),
      doc: null,
      columns,
      now: NOW,
      event: { at: 300, isDelete: false },
    });
    assert.equal(late.outcome, "duplicate");
  });

  it("ignores a delete event for a document written again since", () => {
    const d = recordDocEvent({
      rowId: "r",
      state: synced(base),
      doc: doc(base, 500),
      columns,
      now: NOW,
      event: { at: 400, isDelete: true },
    });
    assert.equal(d.doc, null);
    assert.equal(d.state.deleted, null);
  });
});

describe("isSettledDelete (the state's TTL)", () => {
  it("lets a forgotten delete expire, but not while an append of the row is in flight", () => {
    const gone: RowState = { ...emptyRowState(), deleted: { at: 10, by: "firestore" } };
    assert.equal(isSettledDelete(gone), true);
    const appending: RowState = { ...gone, inFlight: { rev: 1, cells: {}, since: 5 } };
    // Expired, the appended row would come back as a new one.
    assert.equal(isSettledDelete(appending), false);
    assert.equal(isSettledDelete({ ...gone, inSheet: true }), false);
  });
});

describe("rows whose content moved to other ids (a sort the script could not follow)", () => {
  const cols = ["code", "name", "qty"];
  // The flush appended x, and the sheet never sent it (the script had not scanned it).
  const unsent = (v: RowValues) => synced(v, { sheetAt: 0, sheetReadAt: 0 });
  const a = { code: "A1", name: "Widget", qty: 5 };
  const b = { code: "B2", name: "Widget", qty: 2 };
  const c = { code: "C3", name: "Gizmo", qty: 1 };

  it("finds a swap: each row holds exactly what the other last held", () => {
    const moved = findMovedRows(
      [
        { id: "x", state: unsent(a), values: b },
        { id: "y", state: synced(b), values: a },
      ],
      cols,
    );
    assert.deepEqual(
      moved,
      new Map([
        ["x", "y"],
        ["y", "x"],
      ]),
    );
  });

  it("finds a swap when a column outside the sorted range stayed with the row", () => {
    const withNote = (v: RowValues, note: string) => ({ ...v, note });
    const moved = findMovedRows(
      [
        { id: "x", state: unsent(withNote(a, "urgent")), values: withNote(b, "urgent") },
        { id: "y", state: synced(withNote(b, "ok")), values: withNote(a, "ok") },
      ],
      [...cols, "note"],
    );
    assert.deepEqual(
      moved,
      new Map([
        ["x", "y"],
        ["y", "x"],
      ]),
    );
  });

  it("finds a cycle of three", () => {
    const moved = findMovedRows(
      [
        { id: "x", state: unsent(a), values: c },
        { id: "y", state: synced(b), values: a },
        { id: "z", state: synced(c), values: b },
      ],
      cols,
    );
    assert.deepEqual(
      moved,
      new Map([
        ["x", "z"],
        ["y", "x"],
        ["z", "y"],
      ]),
    );
  });

  it("finds a swap of two items alike but for one cell (the first column tells them apart nowhere)", () => {
    // Two app rows with the same code and name, qty 1 and 2, sorted by qty before any scan.
    const one = { ...a, qty: 1 };
    const two = { ...a, qty: 2 };
    assert.deepEqual(
      findMovedRows(
        [
          { id: "x", state: unsent(one), values: two },
          { id: "y", state: unsent(two), values: one },
        ],
        cols,
      ),
      new Map([
        ["x", "y"],
        ["y", "x"],
      ]),
    );
  });

  it("takes no row for a move whose first column stayed its own while its other cells are another's", () => {
    // x kept its code A1 and shows b's other cells: typed, not sorted (a sort moves the code too).
    const moved = findMovedRows(
      [
        { id: "x", state: unsent(a), values: { ...b, code: "A1" } },
        { id: "y", state: synced(b), values: a },
      ],
      cols,
    );
    assert.equal(moved.size, 0);
  });

  it("finds a swap where a row was also edited after the sort", () => {
    const moved = findMovedRows(
      [
        { id: "x", state: unsent(a), values: { ...b, qty: 3 } },
        { id: "y", state: synced(b), values: a },
      ],
      cols,
    );
    assert.deepEqual(
      moved,
      new Map([
        ["x", "y"],
        ["y", "x"],
      ]),
    );
  });

  it("leaves rows the script knew to the script: two first columns swapped by typing are edits", () => {
    const moved = findMovedRows(
      [
        { id: "x", state: synced(a), values: { ...a, code: "B2" } },
        { id: "y", state: synced({ ...a, code: "B2" }), values: a },
      ],
      cols,
    );
    assert.equal(moved.size, 0);
    // The same swap of whole rows the script knew: it follows those itself.
    assert.equal(
      findMovedRows(
        [
          { id: "x", state: synced(a), values: b },
          { id: "y", state: synced(b), values: a },
        ],
        cols,
      ).size,
      0,
    );
  });

  it("leaves edits alone: a row given another's content whose own row still holds it, a partial match, a row not in the sheet", () => {
    // y still holds b: x copied it (an edit of x, not a move).
    assert.equal(
      findMovedRows(
        [
          { id: "x", state: unsent(a), values: b },
          { id: "y", state: synced(b), values: b },
        ],
        cols,
      ).size,
      0,
    );
    // The other's first column, but most other cells neither item's: edits, not a move.
    assert.equal(
      findMovedRows(
        [
          { id: "x", state: unsent(a), values: { ...b, name: "Gizmo", qty: 9 } },
          { id: "y", state: synced(b), values: a },
        ],
        cols,
      ).size,
      0,
    );
    // The same first column, one row given the other's quantity: an edit (its own row still
    // shows the other item).
    assert.equal(
      findMovedRows(
        [
          { id: "x", state: unsent(a), values: { ...a, qty: 2 } },
          { id: "y", state: synced({ ...a, qty: 2 }), values: { ...a, qty: 2 } },
        ],
        cols,
      ).size,
      0,
    );
    // y is not in the sheet (deleted there): its content has nowhere to have moved from.
    assert.equal(
      findMovedRows(
        [
          { id: "x", state: unsent(a), values: b },
          { id: "y", state: synced(b, { inSheet: false }), values: a },
        ],
        cols,
      ).size,
      0,
    );
  });

  describe("chains: a blank row sorted in shifted content by one", () => {
    // The flush appended x (a) and y (b) under a blank row a person had inserted; a sort moved
    // the blank to the end: the row without id (sent as new: n) holds a, x's row holds b, and
    // y's row is empty (or the script's own matching gave it to another id: a displaced delete).
    const blank = { code: null, name: null, qty: null };
    const chain = (last: RowValues | null, more: Partial<{ displaced: boolean }> = {}) => [
      { id: "n", state: null, values: a },
      { id: "x", state: unsent(a), values: b },
      { id: "y", state: unsent(b), values: last, ...more },
    ];

    it("finds the chain from the new row to the emptied or displaced one, which holds nothing", () => {
      for (const rows of [chain(blank), chain(null, { displaced: true })]) {
        assert.deepEqual(
          findMovedRows(rows, cols, { chains: true }),
          new Map([
            ["n", "x"],
            ["x", "y"],
            ["y", ""],
          ]),
        );
      }
    });

    it("finds no chain for a sender that does not follow them, or when a link is missing", () => {
      assert.equal(findMovedRows(chain(blank), cols).size, 0);
      // A person's delete is no end of a chain: only the script's displaced ids are.
      assert.equal(findMovedRows(chain(null), cols, { chains: true }).size, 0);
      // y still holds b: x's b is a copy, n's a is a copy too. Nothing moved.
      assert.equal(findMovedRows(chain(b), cols, { chains: true }).size, 0);
      // A row cleared by a person with nothing else moved: no chain.
      assert.equal(findMovedRows(chain(blank).slice(2), cols, { chains: true }).size, 0);
      // Known rows only (the script follows those itself): no chain.
      const known = chain(blank).map((r) =>
        r.state ? { ...r, state: synced(r.id === "x" ? a : b) } : r,
      );
      assert.equal(findMovedRows(known, cols, { chains: true }).size, 0);
      // Two new rows naming one item: which one holds it is not known.
      const twice = [...chain(blank), { id: "m", state: null, values: a }];
      assert.equal(findMovedRows(twice, cols, { chains: true }).size, 0);
    });

    it("takes a new row as the head of a chain a person's cleared row ends only with the item's content exactly", () => {
      // A cleared app row and a new row typed with the same first column and one cell: a new item.
      const typed = { ...a, name: "Pear" };
      const rows = [
        { id: "n", state: null, values: typed },
        { id: "y", state: unsent(a), values: blank },
      ];
      assert.equal(findMovedRows(rows, cols, { chains: true }).size, 0);
      // Where the script's matching displaced the id, its code and most cells do: a cell
      // outside the sorted range stayed with the new row, which the server never saw.
      const displaced = [rows[0]!, { id: "y", state: unsent(a), values: null, displaced: true }];
      assert.deepEqual(
        findMovedRows(displaced, cols, { chains: true }),
        new Map([
          ["n", "y"],
          ["y", ""],
        ]),
      );
    });

    it("keeps in a transaction only the moves the whole delivery found (a chunk sees fewer rows)", () => {
      const whole = new Map([
        ["n", "x"],
        ["x", "y"],
        ["y", ""],
      ]);
      assert.deepEqual(agreedMoves(whole, whole), whole);
      // The whole delivery found nothing (an item named twice across chunks): nothing here.
      assert.equal(agreedMoves(whole, new Map()).size, 0);
      // One link differs: the whole chain is dropped.
      assert.equal(agreedMoves(new Map([...whole, ["n", "z"]]), whole).size, 0);
    });
  });
});

describe("describing a row the script has not scanned (POST /describe)", () => {
  const base = { name: "Widget", qty: 3 };

  it("is the base, with a write in flight laid over it under that write's revision", () => {
    assert.deepEqual(describedRow("r", synced(base, { rev: 2 })), {
      id: "r",
      rev: 2,
      values: base,
    });
    const writing = synced(base, { rev: 2, inFlight: { rev: 3, cells: { qty: 4 }, since: 1 } });
    assert.deepEqual(describedRow("r", writing), {
      id: "r",
      rev: 3,
      values: { name: "Widget", qty: 4 },
    });
    // A cell the write clears is left out, as an empty cell is.
    const clearing = synced(base, { rev: 2, inFlight: { rev: 3, cells: { qty: null }, since: 1 } });
    assert.deepEqual(describedRow("r", clearing), { id: "r", rev: 3, values: { name: "Widget" } });
    // A row the flush is appending (not yet committed as in the sheet) is its append.
    const appending: RowState = {
      ...emptyRowState(),
      inFlight: { rev: 1, cells: { name: "Gizmo" }, since: 1 },
    };
    assert.deepEqual(describedRow("r", appending), { id: "r", rev: 1, values: { name: "Gizmo" } });
  });

  it("is nothing for a row it cannot describe exactly: unknown, deleted, or long text kept as a hash", () => {
    assert.equal(describedRow("r", null), null);
    assert.equal(describedRow("r", synced(base, { deleted: { at: 5, by: "firestore" } })), null);
    assert.equal(describedRow("r", synced({ name: "x".repeat(5_000) })), null);
  });
});
