import assert from "node:assert/strict";
import { checkedColumns, contentHash, isInSync, type SyncMeta } from "../../src/core/echo.js";
import { coalesce } from "../../src/core/outbox.js";
import { hashRow } from "../../src/core/values.js";

const sheetSync = (values: Record<string, unknown>, columns: string[]): SyncMeta => ({
  origin: "sheet",
  modifiedAt: 1,
  hash: hashRow(Object.fromEntries(columns.map((c) => [c, (values[c] ?? null) as never]))),
  columns,
  inSheet: true,
});

describe("echo detection", () => {
  const columns = ["name", "qty"];

  it("a row as the ingest wrote it is in sync: its write was an echo", () => {
    const values = { name: "Widget", qty: 3 };
    assert.ok(isInSync(values, sheetSync(values, columns), columns));
  });

  it("a changed column is a real change, whatever _sync still says", () => {
    const sync = sheetSync({ name: "Widget", qty: 3 }, columns);
    assert.ok(!isInSync({ name: "Widget", qty: 4 }, sync, columns));
  });

  it("a field an app adds beside the sheet's columns is not a change for the sheet", () => {
    const sync = sheetSync({ name: "Widget", qty: 3 }, columns);
    assert.ok(isInSync({ name: "Widget", qty: 3, appNote: "x" }, sync, columns));
    assert.ok(
      isInSync({ name: "Widget", qty: 3, appNote: "x" }, sync, null),
      "unknown sheet columns: the row's own",
    );
  });

  it("a document with no _sync (made in the console or by an app) is a change", () => {
    assert.ok(!isInSync({ name: "New" }, null, columns));
  });

  it("bookkeeping stamps a hash that the next check accepts, so it never loops", () => {
    for (const sheetColumns of [columns, null]) {
      const values = { name: "Edited", qty: 9, extra: true };
      const cols = checkedColumns(values, null, sheetColumns);
      const stamped: SyncMeta = {
        origin: "firestore",
        modifiedAt: 2,
        hash: contentHash(values, cols),
        columns: cols,
        inSheet: false,
      };
      assert.ok(isInSync(values, stamped, sheetColumns));
    }
  });

  it("a sheet row is judged by the columns the sheet sent with it, not the sheet's current header", () => {
    const values = { "Unit price": 10, appNote: "x" };
    const sync = sheetSync(values, ["Unit price"]);
    assert.ok(
      isInSync(values, sync, ["name", "qty"]),
      "a header change elsewhere made an echo look like an edit",
    );
    assert.ok(!isInSync({ ...values, "Unit price": 11 }, sync, ["name", "qty"]));
  });

  it("stamping an edited sheet row as a Firestore row is stable when the sheet has more columns", () => {
    const values = { name: "edited", qty: 1 };
    const before = sheetSync({ name: "x", qty: 1 }, ["name", "qty"]);
    const sheetColumns = ["name", "qty", "price"];
    const cols = checkedColumns(values, { ...before, origin: "firestore" }, sheetColumns);
    const stamped: SyncMeta = {
      ...before,
      origin: "firestore",
      hash: contentHash(values, cols),
      columns: cols,
    };
    assert.ok(isInSync(values, stamped, sheetColumns));
    assert.equal(
      stamped.hash,
      hashRow({ name: "edited", qty: 1, price: null }),
      "hashes as the sheet will send the row back",
    );
  });

  it("app fields stamped before the sheet's columns were known stop counting once they are", () => {
    const values = { name: "a", updatedAt: 1 };
    const early = checkedColumns(values, null, null);
    const sync: SyncMeta = {
      origin: "firestore",
      modifiedAt: 2,
      hash: contentHash(values, early),
      columns: early,
      inSheet: false,
    };
    assert.ok(
      !isInSync({ name: "a", updatedAt: 2 }, sync, null),
      "unknown columns: every field counts",
    );
    const stamped = checkedColumns(values, sync, ["name"]);
    assert.deepEqual(stamped, ["name"]);
    const restamped: SyncMeta = { ...sync, hash: contentHash(values, stamped), columns: stamped };
    assert.ok(
      isInSync({ name: "a", updatedAt: 3 }, restamped, ["name"]),
      "an app-only field re-stamped the row",
    );
  });

  it("a column the document lacks counts as an empty cell, as the sheet would send it", () => {
    assert.equal(contentHash({ name: "a" }, ["name", "qty"]), hashRow({ name: "a", qty: null }));
  });

  it("in a Firestore-made row without known sheet columns, a new field is a change", () => {
    const values = { name: "a" };
    const cols = checkedColumns(values, null, null);
    const sync: SyncMeta = {
      origin: "firestore",
      modifiedAt: 2,
      hash: contentHash(values, cols),
      columns: cols,
      inSheet: false,
    };
    assert.ok(!isInSync({ name: "a", qty: 1 }, sync, null));
  });
});

describe("outbox coalescing", () => {
  it("keeps the later change of a row; a delete wins a tie", () => {
    const up = (t: number) => ({ rowId: "r", op: "upsert" as const, changedAt: t });
    const del = (t: number) => ({ rowId: "r", op: "delete" as const, changedAt: t });
    assert.deepEqual(coalesce(null, up(1)), up(1));
    assert.deepEqual(coalesce(up(1), up(2)), up(2));
    assert.deepEqual(coalesce(up(3), up(2)), up(3));
    assert.deepEqual(coalesce(up(2), del(2)), del(2));
    assert.deepEqual(coalesce(del(2), up(2)), del(2));
    assert.deepEqual(coalesce(del(2), up(5)), up(5));
  });
});
