import assert from "node:assert/strict";
import { heldItems, reconcileRow } from "../../src/core/reconcile.js";
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

  it("merges a row that still holds the same other item's cells after a scan the script made since (it will not follow it)", () => {
    const held = (state: RowState, scriptReadAt: number, now: number, sheet = b) =>
      reconcileRow({
        rowId: "x",
        state,
        doc: { values: a, updateTime: 50 },
        columns,
        sheetRow: { values: sheet, modifiedAt: 900, rev: 0 },
        holdsAnother: true,
        scriptReadAt,
        now,
      });
    // First seen: left to the script, and when remembered.
    const first = held(synced(a), 0, NOW);
    assert.equal(first.finding, "looks-moved");
    assert.deepEqual(first.state.movedSince?.at, NOW);
    // No script read since (the script not running: a quota, an outage): still left to it.
    const idle = held(first.state, NOW + 30_000, NOW + 3_600_000);
    assert.equal(idle.finding, "looks-moved");
    assert.equal(idle.doc, null);
    // Other cells there now (another sort): a move of its own, remembered afresh.
    const other = held(first.state, NOW + 120_000, NOW + 200_000, { ...b, qty: 7 });
    assert.equal(other.finding, "looks-moved");
    assert.equal(other.state.movedSince?.at, NOW + 200_000);
    // The script read the sheet since and left the row as it is: merged, and forgotten.
    const stuck = held(first.state, NOW + 120_000, NOW + 200_000);
    assert.notEqual(stuck.finding, "looks-moved");
    assert.equal(stuck.doc?.kind, "set");
    assert.deepEqual(stuck.doc?.kind === "set" && stuck.doc.values, b);
    assert.equal(stuck.state.movedSince, undefined);
  });

  it("leaves a row the flush wrote and the script has not sent since to the script, whatever it shows", () => {
    // The flush appended it (rev 1); the sheet never sent it. Its first column is its own, and
    // no other item's cells are there: still not the reconcile's to merge.
    const written = { ...synced(a), rev: 1, sheetAt: 0 };
    const d = reconcile(written, a, { ...a, qty: 6 });
    assert.equal(d.finding, "looks-moved");
    assert.equal(d.doc, null);
    // Once the sheet has sent it, an edit there is merged as usual.
    const sent = reconcile({ ...written, sheetAt: 100 }, a, { ...a, qty: 6 });
    assert.deepEqual(sent.doc, { kind: "set", values: { qty: 6 } });
  });

  it("leaves cells that changed under the script's last stamp to the script, until it has read past them (seed 2267)", () => {
    // An item with no code yet; a sort of the visible columns put a row new to the sync (no record
    // knows its cells) into its row. The stamp is still the one the script sent: unseen by it.
    const blank = { code: null, name: null, qty: 4 };
    const unseen = (state: RowState, scriptReadAt: number, now: number, modifiedAt = 100) =>
      reconcileRow({
        rowId: "x",
        state,
        doc: { values: blank, updateTime: 50 },
        columns,
        sheetRow: { values: { code: "N9", name: "New", qty: 1 }, modifiedAt, rev: 0 },
        scriptReadAt,
        now,
      });
    const first = unseen(synced(blank), 100, NOW);
    assert.equal(first.finding, "looks-moved");
    assert.equal(first.doc, null);
    // Stamped by the script since (its edit, or what it did not follow): merged as usual.
    const stamped = unseen(synced(blank), 900, NOW, 900);
    assert.deepEqual(stamped.doc, { kind: "set", values: { code: "N9", name: "New", qty: 1 } });
    // Still unstamped after the script read the sheet past it: it never will be; merged.
    const stuck = unseen(first.state, NOW + 120_000, NOW + 200_000);
    assert.equal(stuck.doc?.kind, "set");
    assert.equal(stuck.state.movedSince, undefined);
  });

  it("takes formula cells that change under the script's stamp (=NOW()) for no unsent change", () => {
    // Each read shows a later value than the one the script sent: the script resends such rows
    // itself, and held as looks-moved, the row would be reported so at every run.
    const d = reconcileRow({
      rowId: "x",
      state: synced(a),
      doc: { values: a, updateTime: 50 },
      columns,
      sheetRow: { values: { ...a, qty: 6 }, modifiedAt: 100, rev: 0 },
      sheetFormulas: new Set(["qty"]),
      scriptReadAt: 100,
      now: NOW,
    });
    assert.notEqual(d.finding, "looks-moved");
  });

  it("records a document deleted meanwhile as deleted, and does not bring it back with the other item's cells", () => {
    const d = reconcile(synced(a), null, b);
    assert.equal(d.finding, "deleted-in-firestore");
    assert.equal(d.doc, null);
    assert.deepEqual(d.conflicts, []);
    // As of when the document was last seen: a sheet edit made later still beats the delete.
    assert.deepEqual(d.state.deleted, { at: 50, by: "firestore" });
  });

  it("does not bring back an item already recorded deleted with the other item's cells (seed 2127)", () => {
    // The delete was on record before the sort; the row's stamp (900) is later than the delete,
    // but it is the id's stamp, not the moved content's: nothing here undoes the delete.
    const gone = { ...synced(a), deleted: { at: 50, by: "firestore" as const } };
    const d = reconcile(gone, null, b);
    assert.equal(d.finding, "looks-moved");
    assert.equal(d.doc, null);
    assert.deepEqual(d.conflicts, []);
    assert.deepEqual(d.state.deleted, { at: 50, by: "firestore" });
  });

  it("merges a row that is its own item edited: a sheet edit newer than the delete's earliest time keeps the row", () => {
    const d = reconcile(synced(a), null, { ...a, qty: 9 });
    assert.notEqual(d.finding, "looks-moved");
    assert.notEqual(d.finding, "deleted-in-firestore");
    assert.equal(d.doc?.kind, "set");
  });

  it("finds a row showing exactly the cells two other items share (lookalikes): moved, not an edit of its own", () => {
    // No-key seed 243: two items alike (same name, qty, price), a sort put one of them under a
    // third id before the script ran. Taken for that id's edit, the document got the lookalike's
    // cells, and the script, moving the ids after, never resent it: the sides differed for good.
    const held = heldItems(
      [
        ["x", synced(b)],
        ["y", synced(a)],
        ["z", synced(a)],
      ],
      columns,
    );
    assert.notEqual(held("x", a), null);
    assert.ok(["y", "z"].includes(held("x", a)!));
    assert.equal(held("y", a), null, "y shows its own cells");
  });

  it("finds a row showing exactly another item's cells, though its own base has no first column (an item typed without a code)", () => {
    const unnamed = synced({ name: "Widget" });
    const held = heldItems(
      [
        ["x", unnamed],
        ["y", synced(a)],
        ["z", { ...synced(b), deleted: { at: 1, by: "sheet" } }],
      ],
      columns,
    );
    assert.equal(held("x", a), "y");
    // Its own cells, a deleted item's, or cells that are nobody's: not another item's.
    assert.equal(held("x", { name: "Widget" }), null);
    assert.equal(held("x", b), null);
    assert.equal(held("x", { ...a, code: "C3" }), null);
    // y's first column, edited since: moved there too (x's item never had a first column).
    assert.equal(held("x", { ...a, qty: 6 }), "y");
    // Not for a row whose item has a first column of its own: that is its rename, by webhook.
    const named = heldItems(
      [
        ["w", synced(b)],
        ["y", synced(a)],
      ],
      columns,
    );
    assert.equal(named("w", { ...a, qty: 6 }), null);
    // The first column alone does not say it (x's base has none): the lookup does.
    const d = reconcileRow({
      rowId: "x",
      state: unnamed,
      doc: { values: { name: "Widget" }, updateTime: 50 },
      columns,
      sheetRow: { values: a, modifiedAt: 900, rev: 0 },
      holdsAnother: held("x", a) !== null,
      now: NOW,
    });
    assert.equal(d.finding, "looks-moved");
    assert.equal(d.doc, null);
  });
});
