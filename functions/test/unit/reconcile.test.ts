import assert from "node:assert/strict";
import { reconcileRow } from "../../src/core/reconcile.js";
import { emptyRowState, setBaseRow, type RowState } from "../../src/core/rowState.js";
import type { RowValues } from "../../src/core/values.js";

const columns = ["code", "name", "qty"];
const NOW = 1_000_000;
const a = { code: "A1", name: "Widget", qty: 5 };
const b = { code: "B2", name: "Gadget", qty: 2 };

/** Both sides agreed on `values`; the document was last seen at 50, the sheet sent it at 100. */
function synced(values: RowValues): RowState {
  const s: RowState = {
    ...emptyRowState(),
    inSheet: true,
    docSeenAt: 50,
    sheetAt: 100,
    sheetReadAt: 100,
  };
  setBaseRow(s, values, 0);
  return s;
}
const reconcile = (state: RowState, doc: RowValues | null, sheet: RowValues) =>
  reconcileRow({
    rowId: "x",
    state,
    doc: doc && { values: doc, updateTime: 50 },
    columns,
    sheetRow: { values: sheet, modifiedAt: 900, rev: 0 },
    now: NOW,
  });

describe("reconcileRow: a row holding another item (a sort the script has not followed)", () => {
  it("leaves it to the script while the document exists", () => {
    const d = reconcile(synced(a), a, b);
    assert.equal(d.finding, "looks-moved");
    assert.equal(d.doc, null);
  });

  it("records a document deleted meanwhile as deleted, and does not bring it back with the other item's cells", () => {
    const d = reconcile(synced(a), null, b);
    assert.equal(d.finding, "deleted-in-firestore");
    assert.equal(d.doc, null);
    assert.deepEqual(d.conflicts, []);
    // As of when the document was last seen: a sheet edit made later still beats the delete.
    assert.deepEqual(d.state.deleted, { at: 50, by: "firestore" });
  });

  it("merges a row that is its own item edited: a sheet edit newer than the delete's earliest time keeps the row", () => {
    const d = reconcile(synced(a), null, { ...a, qty: 9 });
    assert.notEqual(d.finding, "looks-moved");
    assert.notEqual(d.finding, "deleted-in-firestore");
    assert.equal(d.doc?.kind, "set");
  });
});
