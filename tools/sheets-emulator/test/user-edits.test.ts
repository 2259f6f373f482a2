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
