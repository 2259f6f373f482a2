import assert from "node:assert/strict";
import {
  appendRows,
  columnLetter,
  deleteRanges,
  planCellWrites,
  planLocate,
  readBlocks,
  SheetLayoutError,
  type PendingRow,
  type SheetIndex,
} from "../../src/core/flushPlan.js";
import type { SyncMeta } from "../../src/core/echo.js";
import { classifySheetsError } from "../../src/core/sheetErrors.js";

const header = ["_id", "name", "qty", "total", "_modified"];
const index: SheetIndex = {
  header,
  ids: ["r1", "r2", "r3", "", "r5"],
  modified: [100, 100, 500, "", 100],
};
const fsSync = (over: Partial<SyncMeta> = {}): SyncMeta => ({
  origin: "firestore",
  modifiedAt: 300,
  hash: "h",
  columns: [],
  inSheet: true,
  ...over,
});
const up = (
  rowId: string,
  changedAt: number,
  values: Record<string, unknown> | null,
  sync: SyncMeta | null = fsSync(),
): PendingRow => ({
  entry: { rowId, op: "upsert", changedAt },
  doc: values ? { values: values as never, sync } : null,
});
const del = (rowId: string, changedAt: number): PendingRow => ({
  entry: { rowId, op: "delete", changedAt },
  doc: null,
});

describe("flush plan: locating rows and the per-row conflict check", () => {
  it("sorts pending rows into updates, appends, deletes, conflicts and settled", () => {
    const plan = planLocate(index, [
      up("r1", 300, { name: "a" }), // sheet _modified 100 < 300 → update row 2
      up("r3", 300, { name: "c" }), // sheet _modified 500 > 300 → the sheet wins
      up("new", 300, { name: "n" }, fsSync({ inSheet: false })), // not in the sheet, never was → append
      up("gone", 300, { name: "g" }, fsSync({ inSheet: true })), // was in the sheet, deleted there → conflict
      del("r5", 300), // → delete row 6
      del("r9", 300), // not in the sheet → nothing to do
      up("r2", 300, null), // document deleted since → nothing for this entry
      up("r2b", 300, { name: "x" }, fsSync({ origin: "sheet", modifiedAt: 400 })), // a later sheet edit holds it
    ]);
    assert.deepEqual(
      plan.updates.map((u) => [u.rowId, u.rowNumber]),
      [["r1", 2]],
    );
    assert.deepEqual(
      plan.appends.map((a) => a.rowId),
      ["new"],
    );
    assert.deepEqual(
      plan.deletes.map((d) => [d.rowId, d.rowNumber]),
      [["r5", 6]],
    );
    assert.deepEqual(
      plan.conflicts.map((c) => [c.rowId, c.reason, c.sheetModifiedAt]),
      [
        ["r3", "sheet_newer", 500],
        ["gone", "deleted_in_sheet", null],
      ],
    );
    assert.deepEqual(
      plan.settled.map((e) => e.rowId),
      ["r9", "r2", "r2b"],
    );
  });

  it("a row with a value longer than a cell holds is recorded, not sent (it would fail every flush)", () => {
    const plan = planLocate(index, [
      up("r1", 300, { name: "x".repeat(50_001) }),
      up("new", 300, { name: "ok" }, fsSync({ inSheet: false })),
    ]);
    assert.deepEqual(
      plan.conflicts.map((c) => [c.rowId, c.reason]),
      [["r1", "too_long_for_sheet"]],
    );
    assert.deepEqual(
      plan.appends.map((a) => a.rowId),
      ["new"],
    );
  });

  it("a delete loses to a newer sheet edit of the row", () => {
    const plan = planLocate(index, [del("r3", 400)]);
    assert.equal(plan.deletes.length, 0);
    assert.equal(plan.conflicts[0]?.reason, "sheet_newer");
  });

  it("equal times: the document change is written (the sheet's edit is not newer)", () => {
    assert.equal(planLocate(index, [up("r3", 500, { name: "c" })]).updates.length, 1);
  });

  it("refuses a sheet without the bookkeeping columns, naming the fix", () => {
    assert.throws(
      () => planLocate({ header: ["name"], ids: [], modified: [] }, []),
      SheetLayoutError,
    );
    assert.throws(
      () => planLocate({ header: ["_id", "name"], ids: [], modified: [] }, []),
      /_modified.*Set up/,
    );
  });

  it("the first of two rows with the same pasted id is the one written", () => {
    const plan = planLocate({ header, ids: ["d", "d"], modified: [0, 0] }, [
      up("d", 300, { name: "x" }),
    ]);
    assert.equal(plan.updates[0]?.rowNumber, 2);
  });
});

describe("flush plan: cells", () => {
  const update = (values: Record<string, unknown>) => ({
    rowId: "r1",
    rowNumber: 7,
    entry: { rowId: "r1", op: "upsert" as const, changedAt: 300 },
    values: values as never,
  });

  it("writes only the cells that differ, in runs, plus _modified; never a formula", () => {
    const current = ["r1", "old", 2, "=C7*2", 100];
    const plan = planCellWrites(
      "Sheet1",
      header,
      [update({ name: "new", qty: 2, total: 99 })],
      () => current,
      "Etc/UTC",
    );
    assert.deepEqual(plan.writes, [
      { range: "Sheet1!B7:B7", values: [["'new"]] },
      { range: "Sheet1!E7:E7", values: [[300]] },
    ]);
    assert.deepEqual(plan.formulaSkips.get("r1"), ["total"]);
  });

  it("adjacent changed cells share one range; a quoted sheet name stays quoted", () => {
    const plan = planCellWrites(
      "My Sheet's",
      header,
      [update({ name: "n", qty: 5 })],
      () => ["r1", "o", 1, "", 100],
      "Etc/UTC",
    );
    assert.deepEqual(plan.writes, [
      { range: "'My Sheet''s'!B7:C7", values: [["'n", 5]] },
      { range: "'My Sheet''s'!E7:E7", values: [[300]] },
    ]);
  });

  it("a row whose _id cell no longer holds its id (rows moved since the locate read) is left for later", () => {
    const plan = planCellWrites(
      "Sheet1",
      header,
      [update({ name: "new" })],
      () => ["someone-else", "old", 2, "", 100],
      "Etc/UTC",
    );
    assert.deepEqual(plan.writes, []);
    assert.deepEqual(plan.moved, ["r1"]);
  });

  it("a row that already shows the document is not written at all", () => {
    const plan = planCellWrites(
      "Sheet1",
      header,
      [update({ name: "same", qty: 2 })],
      () => ["r1", "same", 2, "", 100],
      "Etc/UTC",
    );
    assert.deepEqual(plan.writes, []);
    assert.deepEqual(plan.unchanged, ["r1"]);
  });

  it("fields that are not columns are ignored; columns the document lacks are left alone", () => {
    const plan = planCellWrites(
      "Sheet1",
      header,
      [update({ qty: 3, notAColumn: "x" })],
      () => ["r1", "keep", 2, "", 100],
      "Etc/UTC",
    );
    assert.deepEqual(plan.writes, [
      { range: "Sheet1!C7:C7", values: [[3]] },
      { range: "Sheet1!E7:E7", values: [[300]] },
    ]);
  });

  it("appends rows in header order with the id as text and the change time", () => {
    const rows = appendRows(
      header,
      [
        {
          rowId: "123",
          entry: { rowId: "123", op: "upsert", changedAt: 300 },
          values: { name: "n", total: 1 },
        },
      ],
      "Etc/UTC",
    );
    assert.deepEqual(rows, [["'123", "'n", "", 1, 300]]);
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
});
