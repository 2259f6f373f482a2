// A person's edits and the bound script's writes: in the sheet at once, never API requests,
// formulas following their rows; and the Apps Script view of the cells.

import assert from "node:assert/strict";
import { createSheetsEmulator, type SheetChangeEvent } from "../src/index.js";
import { deletedRowsMap, insertedRowsMap, remapFormula, shiftFormula } from "../src/rows.js";
import { Sheet } from "../src/model.js";
import { startHarness, type Harness } from "./helpers.js";

const ID = "user-ss";

function seeded() {
  const emu = createSheetsEmulator({ quotaWritesPerMinute: 1, quotaReadsPerMinute: 1 });
  emu.seed(ID, {
    timeZone: "Europe/Berlin",
    sheets: [
      {
        title: "Sheet1",
        rows: [
          ["name", "qty", "price", "total"],
          ["Widget", 3, 2.5, "=B2*C2"],
          ["Gadget", 1, 10, "=B3*C3"],
          ["Gizmo", 7, 1, "=B4*C4"],
        ],
      },
      { title: "Summary", rows: [["=Sheet1!D3", "=SUM(Sheet1!D2:D4)"]] },
    ],
  });
  const events: SheetChangeEvent[] = [];
  emu.on("sheetChange", (e: SheetChangeEvent) => events.push(e));
  return { emu, events };
}

const values = (emu: ReturnType<typeof createSheetsEmulator>, sheet = 0) =>
  emu.snapshot(ID)!.sheets[sheet]!.values;

describe("user and script edits", () => {
  it("sets cells as typed (USER_ENTERED) without counting API requests or quota", () => {
    const { emu, events } = seeded();
    for (let i = 0; i < 5; i++) emu.userSetValues(ID, "Sheet1", 1, 1, [[String(10 + i)]]);
    emu.userSetValues(ID, "Sheet1", 4, 0, [["Doohickey", "0042", "'7", "=B5*2"]]);
    emu.userSetValues(ID, "Sheet1", 2, 0, [["TRUE", ""]]);
    emu.userSetValues(ID, "Sheet1", 3, 0, [["2026-11-20"]], "script");
    const snap = emu.snapshot(ID)!.sheets[0]!;
    assert.deepEqual(snap.values[1], ["Widget", 14, 2.5, 35]);
    assert.deepEqual(snap.values[2], [true, "", 10, 0]);
    assert.deepEqual(snap.values[4], ["Doohickey", 42, "7", 84]);
    assert.equal(snap.formatted[3]![0], "2026-11-20");
    assert.equal(emu.stats().total, 0);
    assert.equal(emu.stats().writes, 0);
    assert.equal(events.length, 8);
    assert.deepEqual(
      { ...events[5], at: 0 },
      {
        at: 0,
        source: "user",
        kind: "edit",
        spreadsheetId: ID,
        sheetTitle: "Sheet1",
        row: 4,
        rows: 1,
        column: 0,
        columns: 4,
      },
    );
    assert.equal(events[7]!.source, "script");
  });

  it("rejects cells outside the grid and changes nothing", () => {
    const { emu } = seeded();
    assert.throws(() => emu.userSetValues(ID, "Sheet1", 1000, 0, [["x"]]), /outside/);
    assert.throws(() => emu.userSetValues(ID, "Nope", 0, 0, [["x"]]), /No sheet/);
    assert.deepEqual(values(emu)[1], ["Widget", 3, 2.5, 7.5]);
  });

  it("inserts and deletes rows; formulas follow their rows, a deleted reference is #REF!", () => {
    const { emu, events } = seeded();
    emu.userInsertRows(ID, "Sheet1", 1, 2);
    assert.deepEqual(values(emu)[1], []);
    assert.deepEqual(values(emu)[3], ["Widget", 3, 2.5, 7.5]);
    assert.equal(emu.snapshot(ID)!.sheets[0]!.formulas[3]![3], "=B4*C4");
    assert.deepEqual(values(emu, 1), [[10, 24.5]]);
    assert.equal(emu.snapshot(ID)!.sheets[1]!.formulas[0]![1], "=SUM(Sheet1!D4:D6)");

    emu.userDeleteRows(ID, "Sheet1", 1, 2);
    emu.userDeleteRows(ID, "Sheet1", 2, 1); // Gadget, which Summary!A1 names
    assert.deepEqual(values(emu), [
      ["name", "qty", "price", "total"],
      ["Widget", 3, 2.5, 7.5],
      ["Gizmo", 7, 1, 7],
    ]);
    assert.equal(emu.snapshot(ID)!.sheets[1]!.formulas[0]![0], "=#REF!");
    assert.equal(emu.snapshot(ID)!.sheets[1]!.formulas[0]![1], "=SUM(Sheet1!D2:D3)");
    assert.deepEqual(
      events.map((e) => [e.kind, e.row, e.rows]),
      [
        ["insertRows", 1, 2],
        ["deleteRows", 1, 2],
        ["deleteRows", 2, 1],
      ],
    );
    assert.equal(emu.stats().total, 0);
  });

  it("sorts the rows under the header by a column, formulas moving with their rows", () => {
    const { emu } = seeded();
    emu.userSetValues(ID, "Sheet1", 4, 0, [["apple", ""]]);
    emu.userSortRows(ID, "Sheet1", 1, false);
    assert.deepEqual(
      values(emu).map((r) => r[0]),
      ["name", "Gizmo", "Widget", "Gadget", "apple"],
      "descending by qty, the empty qty last",
    );
    assert.deepEqual(values(emu)[1], ["Gizmo", 7, 1, 7]);
    assert.equal(emu.snapshot(ID)!.sheets[0]!.formulas[1]![3], "=B2*C2");
    emu.userSortRows(ID, "Sheet1", 0, true);
    assert.deepEqual(
      values(emu).map((r) => r[0]),
      ["name", "apple", "Gadget", "Gizmo", "Widget"],
      "text compares case-insensitively",
    );
    assert.equal(emu.snapshot(ID)!.sheets[0]!.formulas[2]![3], "=B3*C3");
    // Sorting moves values under references from elsewhere (Gadget 10 + Gizmo 7 now).
    assert.deepEqual(values(emu, 1), [[10, 17]]);
    assert.equal(emu.stats().total, 0);
  });

  it("sorts only the cells of a range, leaving the columns outside it in place", () => {
    const { emu, events } = seeded();
    // E is a bookkeeping column outside the sorted block; D's formulas move with their rows.
    emu.userSetValues(ID, "Sheet1", 0, 4, [["key"], ["k-widget"], ["k-gadget"], ["k-gizmo"]]);
    emu.userSortRange(
      ID,
      "Sheet1",
      { startRow: 1, endRow: 1000, startColumn: 0, endColumn: 4 },
      1,
      false,
    );
    const snap = emu.snapshot(ID)!.sheets[0]!;
    assert.deepEqual(snap.values, [
      ["name", "qty", "price", "total", "key"],
      ["Gizmo", 7, 1, 7, "k-widget"],
      ["Widget", 3, 2.5, 7.5, "k-gadget"],
      ["Gadget", 1, 10, 10, "k-gizmo"],
    ]);
    assert.deepEqual(
      snap.formulas.map((r) => r[3]),
      [null, "=B2*C2", "=B3*C3", "=B4*C4"],
    );
    // References from elsewhere keep their cells (Summary!A1 = D3, now Widget's total).
    assert.deepEqual(values(emu, 1), [[7.5, 24.5]]);
    assert.deepEqual(
      { ...events.at(-1), at: 0 },
      {
        at: 0,
        source: "user",
        kind: "sort",
        spreadsheetId: ID,
        sheetTitle: "Sheet1",
        row: 1,
        rows: 999,
        column: 0,
        columns: 4,
      },
    );
    // Text case-insensitively, booleans after text, empty last in both directions.
    emu.userSetValues(ID, "Sheet1", 4, 0, [["apple"], ["TRUE"], [""], ["banana"]]);
    emu.userSetValues(ID, "Sheet1", 6, 1, [["9"]]);
    const box = { startRow: 1, endRow: 8, startColumn: 0, endColumn: 2 };
    emu.userSortRange(ID, "Sheet1", box, 0, true);
    assert.deepEqual(
      emu.snapshot(ID)!.sheets[0]!.values.map((r) => r[0]),
      ["name", "apple", "banana", "Gadget", "Gizmo", "Widget", true, ""],
    );
    assert.equal(emu.snapshot(ID)!.sheets[0]!.values[7]![1], 9, "the empty key went last");
    emu.userSortRange(ID, "Sheet1", box, 0, false);
    assert.deepEqual(
      emu.snapshot(ID)!.sheets[0]!.values.map((r) => r[0]),
      ["name", true, "Widget", "Gizmo", "Gadget", "banana", "apple", ""],
    );
    assert.throws(() => emu.userSortRange(ID, "Sheet1", box, 2), /sort column/);
    assert.throws(
      () => emu.userSortRange(ID, "Sheet1", { ...box, endRow: 1001 }, 0),
      /outside "Sheet1"/,
    );
    assert.equal(emu.stats().total, 0);
  });

  it("returns deleted rows' raw cells and restores them as an undo would", () => {
    const { emu, events } = seeded();
    emu.userSetValues(ID, "Sheet1", 2, 4, [["2026-11-20"]]);
    const before = emu.snapshot(ID)!.sheets[0]!;
    const removed = emu.userDeleteRows(ID, "Sheet1", 1, 2);
    assert.deepEqual(removed, [
      [{ value: "Widget" }, { value: 3 }, { value: 2.5 }, { formula: "=B2*C2" }],
      [
        { value: "Gadget" },
        { value: 1 },
        { value: 10 },
        { formula: "=B3*C3" },
        { value: 46346, format: { type: "DATE", pattern: "yyyy-mm-dd" } },
      ],
    ]);
    assert.equal(emu.snapshot(ID)!.sheets[0]!.formulas[1]![3], "=B2*C2", "Gizmo moved up");
    // The value may have been through JSON (the local page keeps it in the browser).
    emu.userRestoreRows(ID, "Sheet1", 1, JSON.parse(JSON.stringify(removed)));
    const after = emu.snapshot(ID)!.sheets[0]!;
    assert.deepEqual(after.values, before.values);
    assert.deepEqual(after.formatted, before.formatted);
    assert.deepEqual(after.formulas, before.formulas);
    // Summary!A1 pointed at a deleted row: it stays #REF! (Google's undo would restore it);
    // the SUM that shrank to Gizmo's total stays on that one cell, which moved back down.
    assert.deepEqual(emu.snapshot(ID)!.sheets[1]!.formulas[0], ["=#REF!", "=SUM(Sheet1!D4:D4)"]);
    assert.deepEqual(
      events.map((e) => [e.kind, e.row, e.rows]),
      [
        ["edit", 2, 1],
        ["deleteRows", 1, 2],
        ["insertRows", 1, 2],
      ],
    );
    assert.throws(() => emu.userRestoreRows(ID, "Sheet1", 1, "nope" as never), /userDeleteRows/);
    assert.throws(() => emu.userRestoreRows(ID, "Sheet1", 2000, removed), /cannot restore/);
    assert.equal(emu.stats().total, 0);
  });

  it("pastes whole rows over others: every column, formats, formulas shifted", () => {
    const { emu, events } = seeded();
    emu.userSetValues(ID, "Sheet1", 1, 25, [["hidden"]]);
    emu.userSetValues(ID, "Sheet1", 2, 4, [["2026-11-20"]]);
    emu.userSetValues(ID, "Sheet1", 6, 0, [["old", "x", "y", "z", "w"]]);
    emu.userPasteRows(ID, "Sheet1", 1, 2, 5);
    const snap = emu.snapshot(ID)!.sheets[0]!;
    assert.deepEqual(snap.values[5]!.slice(0, 4), ["Widget", 3, 2.5, 7.5]);
    assert.equal(snap.values[5]![25], "hidden");
    assert.deepEqual(snap.values[6], ["Gadget", 1, 10, 10, 46346], "the old row is overwritten");
    assert.equal(snap.formatted[6]![4], "2026-11-20");
    assert.deepEqual(
      snap.formulas.slice(5).map((r) => r[3]),
      ["=B6*C6", "=B7*C7"],
    );
    // Overlapping: rows 2-3 pasted one row down read the source before writing.
    emu.userPasteRows(ID, "Sheet1", 1, 2, 2);
    const moved = emu.snapshot(ID)!.sheets[0]!;
    assert.deepEqual(
      moved.values.slice(1, 4).map((r) => r[0]),
      ["Widget", "Widget", "Gadget"],
    );
    assert.deepEqual(
      moved.formulas.slice(1, 4).map((r) => r[3]),
      ["=B2*C2", "=B3*C3", "=B4*C4"],
    );
    assert.deepEqual(
      { ...events.at(-1), at: 0 },
      {
        at: 0,
        source: "user",
        kind: "edit",
        spreadsheetId: ID,
        sheetTitle: "Sheet1",
        row: 2,
        rows: 2,
        column: 0,
        columns: 26,
      },
    );
    assert.throws(() => emu.userPasteRows(ID, "Sheet1", 1, 2, 999), /outside/);
    assert.equal(emu.stats().total, 0);
  });

  it("gives the Apps Script view: evaluated formulas, Dates in the sheet's zone, '' padding", () => {
    const { emu } = seeded();
    emu.userSetValues(ID, "Sheet1", 1, 4, [["2026-11-20 09:30:00"]]);
    emu.userSetValues(ID, "Sheet1", 2, 4, [["=1/0"]]);
    const v = emu.scriptValues(ID, "Sheet1");
    assert.equal(v.length, 4);
    assert.ok(v.every((r) => r.length === 5));
    assert.deepEqual(v[1]!.slice(0, 4), ["Widget", 3, 2.5, 7.5]);
    assert.ok(v[1]![4] instanceof Date);
    // 09:30 in Berlin (CET, UTC+1) in November.
    assert.equal((v[1]![4] as Date).toISOString(), "2026-11-20T08:30:00.000Z");
    assert.equal(v[2]![4], "#DIV/0!");
    assert.equal(v[3]![4], "");
  });
});

describe("row moves through the API keep formulas on their rows", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.running.close());

  it("deleteDimension and insertDimension remap references", async () => {
    const { emulator } = h.running;
    emulator.seed(ID, {
      sheets: [
        {
          title: "Sheet1",
          rows: [
            ["q", "p", "t"],
            [1, 2, "=A2*B2"],
            [3, 4, "=A3*B3"],
            [5, 6, "=A4*B4"],
          ],
        },
      ],
    });
    await h.api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: {
        requests: [
          {
            deleteDimension: {
              range: { sheetId: 0, dimension: "ROWS", startIndex: 1, endIndex: 2 },
            },
          },
          {
            insertDimension: {
              range: { sheetId: 0, dimension: "ROWS", startIndex: 1, endIndex: 2 },
            },
          },
        ],
      },
    });
    const snap = emulator.snapshot(ID)!.sheets[0]!;
    assert.deepEqual(snap.values, [["q", "p", "t"], [], [3, 4, 12], [5, 6, 30]]);
    assert.equal(snap.formulas[3]![2], "=A4*B4");
  });
});

describe("remapFormula", () => {
  const own = new Sheet(0, "Sheet1", 100, 26);
  const other = new Sheet(1, "It's", 100, 26);
  const find = (t: string) => (t === "Sheet1" ? own : t === "It's" ? other : undefined);

  it("leaves strings, function names and other sheets alone", () => {
    const map = insertedRowsMap(1, 1);
    assert.equal(
      remapFormula(`=CONCATENATE("B2", B2, LOG10(B3), 'It''s'!B2)`, own, own, find, map),
      `=CONCATENATE("B2", B3, LOG10(B4), 'It''s'!B2)`,
    );
    assert.equal(remapFormula(`='It''s'!$B$2+B2`, own, other, find, map), `='It''s'!$B$3+B2`);
  });

  it("shifts relative rows of a moved formula, keeping anchored ones", () => {
    assert.equal(shiftFormula(`=B5*$C$1+SUM(D$2:D5)&"A5"`, -3), `=B2*$C$1+SUM(D$2:D2)&"A5"`);
    assert.equal(shiftFormula("=B2", -2), "=#REF!");
  });

  it("shrinks a range whose end rows were deleted, and drops an emptied one", () => {
    const map = deletedRowsMap(4, 9);
    assert.equal(remapFormula("=SUM(A2:A6)", own, own, find, map), "=SUM(A2:A4)");
    assert.equal(remapFormula("=SUM(A6:A8)", own, own, find, map), "=SUM(#REF!)");
    assert.equal(remapFormula("=A12", own, own, find, map), "=A7");
  });
});
