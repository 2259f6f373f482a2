import assert from "node:assert/strict";
import {
  afterFlushAction,
  columnLetter,
  columnRuns,
  deleteRanges,
  planFlushRow,
  readBlocks,
  readLayout,
  SheetLayoutError,
  type SheetRowCells,
} from "../../src/core/flushPlan.js";
import { emptyRowState, outboxOpFor, setBaseRow, type RowState } from "../../src/core/rowState.js";
import { classifySheetsError } from "../../src/core/sheetErrors.js";
import type { RowValues } from "../../src/core/values.js";

const layout = readLayout(["_id", "name", "qty", "total", "_modified", "_rev"]);
const NOW = 1_000_000;
const base = { name: "Widget", qty: 3, total: 6 };

function synced(values: RowValues, over: Partial<RowState> = {}): RowState {
  const s: RowState = { ...emptyRowState(), inSheet: true, docSeenAt: 50, rev: 1 };
  setBaseRow(s, values, 1);
  return Object.freeze({ ...s, ...over }) as RowState;
}
/** A row as the flush read it: row 7, `_rev` 1; `formulas` lists formula cells. */
function sheetRow(values: RowValues, formulas: string[] = [], rev = 1): SheetRowCells {
  return {
    rowNumber: 7,
    rev,
    modifiedAt: 100,
    cells: Object.fromEntries(
      Object.entries(values).map(([c, v]) => [c, { value: v, formula: formulas.includes(c) }]),
    ),
  };
}
const plan = (
  state: RowState | null,
  doc: RowValues | null,
  row: SheetRowCells | null,
  updateTime = 200,
) =>
  planFlushRow({
    rowId: "r1",
    state,
    doc: doc && { values: doc, updateTime },
    layout,
    sheetRow: row,
    now: NOW,
  });

describe("flush plan: one row", () => {
  it("writes a column the app changed where the sheet still holds the base, and records it in flight", () => {
    const p = plan(synced(base), { ...base, name: "Gizmo" }, sheetRow(base));
    assert.deepEqual(p.action, { kind: "write", rowNumber: 7, cells: { name: "Gizmo" }, rev: 2 });
    assert.deepEqual(p.state.inFlight, { rev: 2, cells: { name: "Gizmo" }, since: NOW });
    const after = afterFlushAction(p.state, p.action);
    assert.equal(after.base.name, "Gizmo");
    assert.equal(after.baseRev.name, 2);
    assert.equal(after.inFlight, null);
  });

  it("never overwrites a formula: the sheet's value goes back to the document, on record (sequence 9)", () => {
    const p = plan(synced(base), { ...base, total: 99 }, sheetRow(base, ["total"]));
    assert.deepEqual(p.action, { kind: "none" });
    assert.deepEqual(p.doc, { kind: "set", values: { total: 6 } });
    assert.equal(p.conflicts.length, 1);
    assert.equal(p.conflicts[0]!.rule, "formula-owns-column");
    assert.deepEqual(p.conflicts[0]!.rejected.values, { total: 99 });
    assert.equal(outboxOpFor(p.state, true), null);
  });

  it("writes the app's column and waits on one the sheet changed too (sequence 6, before the webhook)", () => {
    const p = plan(
      synced(base),
      { name: "Gizmo", qty: 7, total: 6 },
      sheetRow({ name: "Widget", qty: 50, total: 6 }),
    );
    assert.deepEqual(p.action, { kind: "write", rowNumber: 7, cells: { name: "Gizmo" }, rev: 2 });
    assert.ok(p.state.parked, "qty waits for the sheet's webhook, which knows when 50 was typed");
    assert.equal(outboxOpFor(p.state, true), null);
  });

  it("waits where a person typed the base back after the app's change (A→B→A, not yet sent)", () => {
    // The app set name at 200; the person typed Gizmo and then Widget again, stamped 300, and
    // that webhook is still on its way. The cell equals the base, but only its webhook knows.
    const typedBack = { ...sheetRow(base), modifiedAt: 300 };
    const p = plan(synced(base, { sheetAt: 100 }), { ...base, name: "Gadget" }, typedBack);
    assert.deepEqual(p.action, { kind: "none" });
    assert.ok(p.state.parked);
    // Once that webhook is in (sheetAt 300), or when the stamp is older than the app's change,
    // the app's value goes in.
    const seen = plan(synced(base, { sheetAt: 300 }), { ...base, name: "Gadget" }, typedBack);
    assert.deepEqual(seen.action.kind, "write");
    const older = plan(synced(base, { sheetAt: 100 }), { ...base, name: "Gadget" }, typedBack, 400);
    assert.deepEqual(older.action.kind, "write");
    // The same for an app delete.
    const gone = synced(base, { sheetAt: 100, deleted: { at: 200, by: "firestore" } });
    assert.deepEqual(plan(gone, null, typedBack).action, { kind: "none" });
    assert.deepEqual(plan(gone, null, sheetRow(base)).action, { kind: "delete", rowNumber: 7 });
  });

  it("writes nothing where the sheet already shows the document", () => {
    const p = plan(synced(base), { ...base, qty: 9 }, sheetRow({ ...base, qty: 9 }));
    assert.deepEqual(p.action, { kind: "none" });
    assert.equal(p.state.base.qty, 9);
    assert.deepEqual(p.state.docEdits, {});
  });

  it("appends a row the sheet never had, every column, with a new revision", () => {
    const p = plan(null, { name: "New", qty: 1, notAColumn: "x" }, null);
    assert.deepEqual(p.action, {
      kind: "append",
      values: { name: "New", qty: 1, total: null },
      rev: 1,
    });
    const after = afterFlushAction(p.state, p.action);
    assert.ok(after.inSheet);
    assert.equal(after.base.name, "New");
  });

  it("does not append a row that was in the sheet: it was deleted there, and that delete decides", () => {
    const p = plan(synced(base), { ...base, name: "Gizmo" }, null);
    assert.deepEqual(p.action, { kind: "none" });
    assert.ok(p.state.parked);
  });

  it("deletes a row deleted in Firestore, unless the sheet has edits the sync has not seen", () => {
    const gone = synced(base, { deleted: { at: 150, by: "firestore" } });
    assert.deepEqual(plan(gone, null, sheetRow(base)).action, { kind: "delete", rowNumber: 7 });
    const edited = plan(gone, null, sheetRow({ ...base, qty: 4 }));
    assert.deepEqual(edited.action, { kind: "none" });
    assert.ok(edited.state.parked);
  });

  it("gives back a value no cell can hold (over 50,000 characters), on record", () => {
    const p = plan(synced(base), { ...base, name: "x".repeat(50_001) }, sheetRow(base));
    assert.deepEqual(p.action, { kind: "none" });
    assert.deepEqual(p.doc, { kind: "set", values: { name: "Widget" } });
    assert.equal(p.conflicts[0]!.rule, "too-long-for-a-cell");
  });

  it("drops an earlier flush's write the sheet does not show (it never landed) and plans again", () => {
    const state = synced(base, { inFlight: { rev: 2, cells: { name: "Old" }, since: NOW - 5 } });
    const p = plan(state, { ...base, name: "Gizmo" }, sheetRow(base, [], 1));
    assert.deepEqual(p.action, { kind: "write", rowNumber: 7, cells: { name: "Gizmo" }, rev: 3 });
  });

  it("decides by time what a webhook read under a write that never landed (seed 2164)", () => {
    // The app set name at 200 (Gizmo); the flush's write of it failed (a 500). Meanwhile the
    // person cleared the name and typed Widget back, stamped 300: those webhooks read the cell as
    // about to be overwritten. The retry finds the write never landed: the later edit wins.
    const edit = { name: { key: "s:Gizmo", at: 200 } };
    const unread = { name: { at: 300, value: "Widget" } };
    const inFlight = { rev: 2, cells: { name: "Gizmo" }, since: NOW - 5, unread };
    const state = synced(base, { docEdits: edit, inFlight, sheetAt: 300 });
    const typedBack = { ...sheetRow(base, [], 1), modifiedAt: 300 };
    const p = plan(state, { ...base, name: "Gizmo" }, typedBack);
    assert.deepEqual(p.action, { kind: "none" });
    assert.deepEqual(p.doc, { kind: "set", values: { name: "Widget" } });
    assert.equal(p.conflicts.length, 1);
    assert.deepEqual(p.conflicts[0]!.rejected.values, { name: "Gizmo" });
    assert.equal(p.state.inFlight, null);
    assert.equal(outboxOpFor(p.state, true), null);
    // The app's change the later one: it is written, and the person's value is on record.
    const later = plan(
      synced(base, { docEdits: { name: { key: "s:Gizmo", at: 400 } }, inFlight, sheetAt: 300 }),
      { ...base, name: "Gizmo" },
      typedBack,
    );
    assert.deepEqual(later.action, {
      kind: "write",
      rowNumber: 7,
      cells: { name: "Gizmo" },
      rev: 3,
    });
    assert.deepEqual(later.conflicts[0]!.rejected.values, { name: "Widget" });
  });

  it("leaves a cell edited again since a webhook read it under a write that never landed to that edit's webhook", () => {
    // As above, but the person then typed Wodget, whose onEdit has not run yet: deciding with the
    // older read's stamp (300) would let the app's change (400) beat an edit newer than both.
    const inFlight = {
      rev: 2,
      cells: { name: "Gizmo" },
      since: NOW - 5,
      unread: { name: { at: 300, value: "Widget" } },
    };
    const state = synced(base, {
      docEdits: { name: { key: "s:Gizmo", at: 400 } },
      inFlight,
      sheetAt: 300,
    });
    const editedAgain = { ...sheetRow({ ...base, name: "Wodget" }, [], 1), modifiedAt: 300 };
    const p = plan(state, { ...base, name: "Gizmo" }, editedAgain);
    assert.deepEqual(p.action, { kind: "none" }, "Wodget is not overwritten");
    assert.equal(p.doc, null);
    assert.deepEqual(p.conflicts, []);
    assert.equal(p.state.parked, true, "the row waits for Wodget's webhook");
    assert.ok(p.state.docEdits.name, "the app's change is still to be decided");
  });

  it("does not write over a cell typed back to its agreed value since a webhook read it under a write that never landed (review)", () => {
    const inFlight = {
      rev: 2,
      cells: { name: "Gizmo" },
      since: NOW - 5,
      unread: { name: { at: 300, value: "Wodget" } },
    };
    const state = synced(base, {
      docEdits: { name: { key: "s:Gizmo", at: 200 } },
      inFlight,
      sheetAt: 300,
    });
    const typedBack = { ...sheetRow(base, [], 1), modifiedAt: 300 };
    const p = plan(state, { ...base, name: "Gizmo" }, typedBack);
    assert.deepEqual(p.action, { kind: "none" }, "Widget, typed after Wodget, is not overwritten");
    assert.equal(p.state.parked, true);
  });

  it("keeps a row whose write may not have landed in the outbox until a flush reads it", () => {
    // The flush died after recording its write (a 429), and nothing else is left to send: the
    // row still needs a flush, or webhooks read those cells as "not written yet" for good.
    const state = synced(base, { inFlight: { rev: 2, cells: { qty: 4 }, since: NOW - 5 } });
    assert.equal(outboxOpFor(state, true), "upsert");
    // The flush finds it never landed, and a person's value where it was to go, which webhooks
    // could not read as an edit: the row waits for the reconcile to merge it.
    const p = plan(state, base, sheetRow({ ...base, qty: 10 }, [], 1));
    assert.deepEqual(p.action, { kind: "none" });
    assert.equal(p.state.inFlight, null);
    assert.equal(p.state.rev, 2, "the revision stays taken");
    assert.equal(p.state.parked, true);
    // The sheet showing what the base holds there: nothing went unread.
    const quiet = plan(state, base, sheetRow(base, [], 1));
    assert.equal(quiet.state.parked, false);
    assert.equal(outboxOpFor(quiet.state, true), null);
  });

  it("refuses a sheet without the bookkeeping columns, naming the fix", () => {
    assert.throws(
      () => readLayout(["_id", "name", "_modified"]),
      (e: unknown) => {
        assert.ok(e instanceof SheetLayoutError);
        assert.match((e as Error).message, /"_rev".*Set up/);
        return true;
      },
    );
  });
});

describe("flush plan: ranges", () => {
  it("deletes bottom up, merging adjacent rows", () => {
    assert.deepEqual(deleteRanges([3, 9, 4, 5, 12]), [
      { startIndex: 11, endIndex: 12 },
      { startIndex: 8, endIndex: 9 },
      { startIndex: 2, endIndex: 5 },
    ]);
  });

  it("reads nearby rows in one block", () => {
    assert.deepEqual(readBlocks([40, 2, 5, 100, 30], 20), [
      [2, 5],
      [30, 40],
      [100, 100],
    ]);
  });

  it("groups adjacent columns into runs", () => {
    assert.deepEqual(columnRuns([5, 1, 2, 3, 9]), [
      [1, 3],
      [5, 5],
      [9, 9],
    ]);
  });

  it("spells column letters", () => {
    assert.deepEqual([0, 25, 26, 51, 52, 701, 702].map(columnLetter), [
      "A",
      "Z",
      "AA",
      "AZ",
      "BA",
      "ZZ",
      "AAA",
    ]);
  });
});

describe("Sheets error classification", () => {
  const err = (status: number, message = "x") => Object.assign(new Error(message), { status });
  it("retries quota, server and network errors; acknowledges permission, missing sheet and tab", () => {
    assert.equal(classifySheetsError(err(429)).kind, "transient");
    assert.equal(classifySheetsError(err(500)).kind, "transient");
    assert.equal(classifySheetsError(err(503)).kind, "transient");
    assert.equal(
      classifySheetsError(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })).kind,
      "transient",
    );
    assert.match(classifySheetsError(err(403)).reason, /share the spreadsheet/);
    assert.equal(classifySheetsError(err(404)).kind, "permanent");
    assert.equal(classifySheetsError(err(400, "Unable to parse range: Gone!A1")).kind, "permanent");
    assert.equal(classifySheetsError({ response: { status: 502 } }).kind, "transient");
  });

  it("never reads a Firestore error as a Sheets one (sequence 13): the flush retries it", async () => {
    // A gRPC error has a numeric code (14 UNAVAILABLE, 10 ABORTED, 4 DEADLINE_EXCEEDED), not an HTTP
    // status; the flush only classifies errors of Sheets API calls and rethrows everything else.
    const { SheetsApiError } = await import("../../src/core/sheetErrors.js");
    const grpc = Object.assign(new Error("14 UNAVAILABLE: no connection"), { code: 14 });
    assert.ok(!(grpc instanceof SheetsApiError));
    assert.equal(
      classifySheetsError(new SheetsApiError(Object.assign(new Error("x"), { status: 429 })).cause)
        .kind,
      "transient",
    );
  });
});
