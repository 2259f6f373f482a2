import assert from "node:assert/strict";
import { analyzeHeader } from "../../src/core/header";
import {
  cellDigest,
  relayDigest,
  rowHash,
  scanSheet,
  showsEventValue,
  similarity,
  UNDECIDED_COPY_MS,
  unscannedWrites,
  withDescribed,
  type ScanInput,
  type ScanMode,
} from "../../src/core/scan";
import type { Snapshot } from "../../src/core/snapshot";
import { parseSnapshot, serializeSnapshot } from "../../src/core/snapshot";

const HEADER = ["_id", "name", "qty", "_modified"];
const NOW = 1_763_700_000_000;

function newIds(): () => string {
  let n = 0;
  return () => `r_new${++n}`;
}

function scan(
  rows: unknown[][],
  snapshot: Snapshot | null,
  mode: ScanMode = { kind: "reconcile" },
  header = HEADER,
): ReturnType<typeof scanSheet> {
  const input: ScanInput = {
    header: analyzeHeader(header),
    rows,
    snapshot,
    now: NOW,
    newId: newIds(),
    mode,
  };
  return scanSheet(input);
}

/** The snapshot a previous scan of `rows` would have left. */
function seen(rows: unknown[][], header = HEADER): Snapshot {
  return scan(rows, null, { kind: "reconcile" }, header).snapshot;
}

describe("showsEventValue: does a cell show what its edit event said", () => {
  it("matches text, numbers and booleans as Apps Script gives them, and an empty cell for a cleared one", () => {
    assert.ok(showsEventValue("Widget", "Widget"));
    assert.ok(showsEventValue(3, "3"));
    assert.ok(!showsEventValue(3, "4"));
    assert.ok(showsEventValue(true, "TRUE"));
    assert.ok(showsEventValue("", ""));
    assert.ok(!showsEventValue("Widget", ""));
    assert.ok(!showsEventValue("", "Widget"));
  });

  it("matches a date only as a serial day number, in any time zone's quarter hours (the form is undocumented)", () => {
    const due = new Date("2026-11-30T23:00:00.000Z");
    const utc = due.getTime() / 86_400_000 + 25_569;
    assert.ok(showsEventValue(due, String(utc)));
    assert.ok(showsEventValue(due, String(utc + 1 / 24)), "the spreadsheet's zone, an hour ahead");
    assert.ok(showsEventValue(due, String(utc - 5.5 / 24)));
    assert.ok(!showsEventValue(due, String(utc + 1)), "another day");
    assert.ok(!showsEventValue(due, String(utc + 1 / 1440)), "a minute off");
    assert.ok(!showsEventValue(due, "2026-11-30"));
    assert.ok(!showsEventValue(due, ""));
  });
});

describe("scanSheet", () => {
  const rows = [
    ["r_a", "Widget", 3, 1000],
    ["r_b", "Gadget", 5, 2000],
    ["r_c", "Doohickey", 7, 3000],
  ];

  it("on first sight assigns ids and asks for a full resync", () => {
    const result = scan(
      [
        ["", "Widget", 3, ""],
        ["", "", "", ""],
      ],
      null,
    );
    assert.deepEqual([...result.idWrites], [[0, "r_new1"]]);
    assert.equal(result.resyncAt, 0);
    assert.deepEqual(result.upserts, []);
    assert.deepEqual([...result.snapshot.rows.keys()], ["r_new1"]);
  });

  it("after a column rename, stamps no row whose cells did not change (the resend carries its own time)", () => {
    const renamed = ["_id", "name", "count", "_modified"];
    const result = scan(rows as unknown[][], seen(rows), { kind: "reconcile" }, renamed);
    assert.equal(result.resyncAt, 0);
    assert.deepEqual(result.upserts, []);
    assert.deepEqual([...result.modifiedWrites], []);
    // A cell the headers share that did change is an edit, stamped now.
    const edited = rows.map((r, i) => (i === 0 ? ["r_a", "Sprocket", 3, 1000] : r));
    const next = scan(edited as unknown[][], seen(rows), { kind: "reconcile" }, renamed);
    assert.deepEqual(
      next.upserts.map((u) => [u.id, u.modifiedAt]),
      [["r_a", NOW]],
    );
  });

  it("sends changed rows outside an edit when rows the flush wrote go out with it (a move is found within one delivery)", () => {
    // r_a's cells changed outside the edit (row 1); r_x, which the flush wrote since the last
    // scan, holds r_a's old content: a sort the server must see whole.
    const sorted = [
      ["r_a", "Thing", 1, 1000],
      ["r_b", "Gadget", 6, 2000],
      ["r_c", "Doohickey", 7, 3000],
      ["r_x", "Widget", 3, 1000],
    ];
    const edit = { kind: "edit", firstRow: 1, lastRow: 1, firstColumn: 2, lastColumn: 2 } as const;
    const result = scan(sorted, seen(rows), { ...edit, headerEdited: false });
    assert.deepEqual(result.upserts.map((u) => u.id).sort(), ["r_a", "r_b", "r_x"]);
    // Without such rows, a change outside the edit waits for its own event (or the minute's scan).
    const alone = scan(sorted.slice(0, 3), seen(rows), { ...edit, headerEdited: false });
    assert.deepEqual(
      alone.upserts.map((u) => u.id),
      ["r_b"],
    );
  });

  it("sends no cell typed away and back in a row whose content a sort moved under the ids (review)", () => {
    // Bolt's status typed open → done → open in row 0, after a sort of the visible columns the
    // script has not seen: the hidden id there (read before the lock) is still Widget's.
    const header = ["_id", "name", "status", "_modified"];
    const was = [
      ["r_x", "Widget", "open", 1000],
      ["r_y", "Gadget", "done", 1000],
      ["r_z", "Bolt", "open", 1000],
    ];
    const rows = [
      ["r_x", "Bolt", "open", 1000],
      ["r_y", "Gadget", "done", 1000],
      ["r_z", "Widget", "open", 1000],
    ];
    const mode = {
      kind: "edit",
      headerEdited: false,
      firstRow: 0,
      lastRow: 0,
      firstColumn: 2,
      lastColumn: 2,
      value: "open",
      cell: { id: "r_x", field: "status" },
    } as const;
    const result = scan(rows, seen(was, header), mode, header);
    assert.deepEqual(
      result.upserts.filter((u) => u.fields),
      [],
    );
  });

  it("sends a cell typed away and back before the script ran (A→B→A), naming its column (seed 2209)", () => {
    // The person typed 9 over Gadget's qty of 5, then 5 again; both onEdit runs came after.
    const edit = {
      kind: "edit",
      headerEdited: false,
      firstRow: 1,
      lastRow: 1,
      firstColumn: 2,
      lastColumn: 2,
    } as const;
    const typed = { ...edit, value: "5", cell: { id: "r_b", field: "qty" } } as const;
    const result = scan(rows as unknown[][], seen(rows), typed);
    assert.deepEqual(result.upserts, [{ id: "r_b", modifiedAt: NOW, fields: ["qty"] }]);
    assert.deepEqual([...result.modifiedWrites], [[1, NOW]]);
    // The run of the first edit (9) finds 5: not what it typed, nothing to say. Nor does an
    // edit without a value (a paste of several cells), nor one whose cell it could not place.
    assert.deepEqual(scan(rows as unknown[][], seen(rows), { ...typed, value: "9" }).upserts, []);
    assert.deepEqual(scan(rows as unknown[][], seen(rows), edit).upserts, []);
    assert.deepEqual(scan(rows as unknown[][], seen(rows), { ...edit, value: "5" }).upserts, []);
  });

  it("places a cell typed away and back by the row id read before the lock, not by the event's row", () => {
    // Gadget (r_b, row 1) had its qty typed 9 then 5 again; before the run took the lock, a
    // sort put r_c in row 1, its qty 5 too, and moved r_b to row 2 (a whole-row sort: ids too).
    const same = [rows[0], rows[2], rows[1]].map((r) => [...(r as unknown[])]);
    same[1]![2] = 5;
    const before = [rows[0], rows[1], same[1]] as unknown[][];
    const edit = {
      kind: "edit",
      headerEdited: false,
      firstRow: 1,
      lastRow: 1,
      firstColumn: 2,
      lastColumn: 2,
      value: "5",
    } as const;
    const result = scan(same as unknown[][], seen(before), {
      ...edit,
      cell: { id: "r_b", field: "qty" },
    });
    assert.deepEqual(result.upserts, [{ id: "r_b", modifiedAt: NOW, fields: ["qty"] }]);
    assert.deepEqual([...result.modifiedWrites], [[2, NOW]], "r_b's row, where the sort put it");
    // A column inserted before qty since: the column's name still finds the cell.
    const wider = same.map((r) => [r[0], r[1], "", r[2], r[3]]);
    const header = ["_id", "name", "note", "qty", "_modified"];
    const moved = scan(wider, seen(before), { ...edit, cell: { id: "r_b", field: "qty" } }, header);
    assert.deepEqual(
      moved.upserts.filter((u) => u.fields),
      [{ id: "r_b", modifiedAt: NOW, fields: ["qty"] }],
    );
  });

  it("finds nothing after sorting: rows keep their ids and content", () => {
    const sorted = [rows[2], rows[0], rows[1]] as unknown[][];
    for (const kind of ["reconcile", "change"] as const) {
      const result = scan(sorted, seen(rows), { kind });
      assert.deepEqual(result.upserts, [], kind);
      assert.deepEqual(result.deletes, [], kind);
      assert.equal(result.resyncAt, null, kind);
      assert.equal(result.idWrites.size + result.modifiedWrites.size, 0, kind);
    }
    // A sort may also arrive as an edit of the whole block: still nothing changed.
    const asEdit = scan(sorted, seen(rows), {
      kind: "edit",
      headerEdited: false,
      firstRow: 0,
      lastRow: 2,
      firstColumn: 0,
      lastColumn: 3,
    });
    assert.deepEqual(asEdit.upserts, []);
  });

  it("ignores column order when hashing rows and header", () => {
    const moved = analyzeHeader(["qty", "_id", "name", "_modified"]);
    const original = analyzeHeader(HEADER);
    assert.equal(moved.fieldsHash, original.fieldsHash);
    assert.equal(
      rowHash(moved, [3, "r_a", "Widget", 1]),
      rowHash(original, ["r_a", "Widget", 3, 9]),
    );
  });

  it("reconcile queues silent edits, using a newer _modified when present", () => {
    const changed = [
      ["r_a", "Widget", 4, 1000], // content changed, _modified untouched → now
      ["r_b", "Gizmo", 5, 2500], // content and _modified changed → 2500
      rows[2] as unknown[],
    ];
    const result = scan(changed, seen(rows));
    assert.deepEqual(result.upserts, [
      { id: "r_a", modifiedAt: NOW, fields: null },
      { id: "r_b", modifiedAt: 2500, fields: null },
    ]);
    assert.deepEqual([...result.modifiedWrites], [[0, NOW]]);
  });

  it("an edit's change carries the row's other changed cells too (their own onEdit would find nothing new)", () => {
    // qty was typed first, then name; the name's onEdit runs first.
    const changed = [["r_a", "Sprocket", 4, 1000], rows[1], rows[2]] as unknown[][];
    const edit: ScanMode = {
      kind: "edit",
      headerEdited: false,
      firstRow: 0,
      lastRow: 0,
      firstColumn: 1,
      lastColumn: 1,
    };
    const result = scan(changed, seen(rows), edit);
    assert.deepEqual(result.upserts, [{ id: "r_a", modifiedAt: NOW, fields: ["name", "qty"] }]);
    // The qty's own onEdit, later: nothing left to send.
    const later: ScanMode = { ...edit, firstColumn: 2, lastColumn: 2 };
    assert.deepEqual(scan(changed, result.snapshot, later).upserts, []);
  });

  it("two rows sharing an id it has no record of (a row the flush just appended, pasted) wait for the paste's onEdit", () => {
    // r_x was appended by the flush after the last scan; a person pasted it (hidden cells too)
    // above itself and typed a new name into the copy.
    const pasted: unknown[][] = [
      rows[0]!,
      ["r_x", "Copy", 9, ""],
      rows[1]!,
      ["r_x", "Thing", 9, ""],
      rows[2]!,
    ];
    const timer = scan(pasted, seen(rows), { kind: "reconcile" });
    assert.deepEqual([...timer.idWrites], []);
    assert.deepEqual(timer.upserts, []);
    assert.ok(!timer.snapshot.rows.has("r_x"));
    assert.deepEqual(
      [...timer.modifiedWrites],
      [
        [1, NOW],
        [3, NOW],
      ],
    );
    // The paste's onEdit (it covers the id cell of row 1): the copy gets a new id.
    const stamped = pasted.map((r) => (r[0] === "r_x" ? [...r.slice(0, 3), NOW] : r));
    const onEdit: ScanMode = {
      kind: "edit",
      headerEdited: false,
      firstRow: 1,
      lastRow: 1,
      firstColumn: 0,
      lastColumn: 3,
    };
    const after = scan(stamped as unknown[][], timer.snapshot, onEdit);
    assert.deepEqual([...after.idWrites], [[1, "r_new1"]]);
    // Without an onEdit, the wait ends after UNDECIDED_COPY_MS: the topmost keeps the id.
    const old = pasted.map((r) =>
      r[0] === "r_x" ? [...r.slice(0, 3), NOW - UNDECIDED_COPY_MS - 1] : r,
    );
    const late = scan(old as unknown[][], timer.snapshot, { kind: "reconcile" });
    assert.deepEqual([...late.idWrites], [[3, "r_new1"]]);
  });

  it("stamps a row edited while it waits for a paste's onEdit with the edit's time, not the wait's start (review)", () => {
    const base: unknown[][] = [
      ["r_a", "Widget", 3, 1000],
      ["r_b", "Gadget", 5, 2000],
    ];
    const at = (now: number, table: unknown[][], mode: ScanMode, snapshot: Snapshot) =>
      scanSheet({
        header: analyzeHeader(HEADER),
        rows: table,
        snapshot,
        now,
        newId: newIds(),
        mode,
      });
    // r_a pasted below itself, hidden cells too, and both rows edited alike: tied, they wait.
    const dup: unknown[][] = [
      ["r_a", "Widget", 4, 1000],
      ["r_b", "Gadget", 5, 2000],
      ["r_a", "Widget", 6, 1000],
    ];
    const start = at(NOW, dup, { kind: "reconcile" }, seen(base));
    assert.deepEqual(start.upserts, []);
    assert.deepEqual(
      [...start.modifiedWrites],
      [
        [0, NOW],
        [2, NOW],
      ],
    );
    // A minute into the wait, a person types qty 8 into the top row.
    const typed = NOW + 60_000;
    const edited: unknown[][] = [["r_a", "Widget", 8, NOW], dup[1]!, ["r_a", "Widget", 6, NOW]];
    const edit: ScanMode = {
      kind: "edit",
      headerEdited: false,
      firstRow: 0,
      lastRow: 0,
      firstColumn: 2,
      lastColumn: 2,
      value: "8",
    };
    const during = at(typed, edited, edit, start.snapshot);
    assert.deepEqual(during.upserts, [], "still waiting");
    assert.deepEqual([...during.modifiedWrites], [[0, typed]]);
    // The wait ends three minutes after it began (not after the edit): the top row keeps r_a
    // and goes out with the edit's time; an app's change of qty made during the wait, before
    // the person's, loses to it.
    const stamped: unknown[][] = [["r_a", "Widget", 8, typed], dup[1]!, ["r_a", "Widget", 6, NOW]];
    const end = at(NOW + UNDECIDED_COPY_MS + 1, stamped, { kind: "reconcile" }, during.snapshot);
    assert.deepEqual(
      end.upserts.map((u) => [u.id, u.modifiedAt]),
      [
        ["r_a", typed],
        ["r_new1", NOW + UNDECIDED_COPY_MS + 1],
      ],
    );
  });

  it("follows an item edited after a sort moved a blank row into its row (no-key seed 331)", () => {
    const base: unknown[][] = [
      ["r_a", "Widget", 1, 1000],
      ["r_b", "Gadget", 2, 1000],
      ["r_c", "Gizmo", 8, 1000],
    ];
    // A blank row inserted at the top, then the visible columns sorted (blanks go last): Gizmo
    // into r_a's row, Widget into r_b's, Gadget into the inserted row; then Gizmo renamed.
    const now: unknown[][] = [
      ["r_a", "Thing", 8, 1000],
      ["r_b", "Widget", 1, 1000],
      ["", "Gadget", 2, ""],
      ["r_c", "", "", 1000],
    ];
    const result = scan(now, seen(base));
    const ids = now.map((row, i) => (result.idWrites.has(i) ? result.idWrites.get(i) : row[0]));
    assert.deepEqual(ids, ["r_c", "r_a", "r_b", ""]);
    assert.deepEqual(result.deletes, []);
    assert.deepEqual(
      result.upserts.map((u) => u.id),
      ["r_c"],
    );
  });

  it("waits for the paste's onEdit when neither row keeps the item's name, however alike the copy's other cells (no-key seed 323)", () => {
    const base: unknown[][] = [
      ["r_a", "Widget", 1, 1000],
      ["r_b", "Gadget", 2, 1000],
    ];
    // Widget's row (an id a run gave it minutes ago) pasted above, hidden cells too, and the
    // copy renamed; the original renamed and its qty changed, before any of their runs.
    const dup: unknown[][] = [
      ["r_a", "Copy", 1, 1000],
      ["r_b", "Gadget", 2, 1000],
      ["r_a", "Thing", 5, 1000],
    ];
    const timer = scan(dup, seen(base));
    assert.deepEqual(timer.upserts, [], "the copy's cells are more alike, yet no answer: wait");
    assert.deepEqual([...timer.idWrites], []);
    // The paste's onEdit (it covers the id cell of row 0): that row is the copy, though the id
    // is one a run gave within minutes (the original had it before the paste).
    const stamped = dup.map((r) => (r[0] === "r_a" ? [...r.slice(0, 3), NOW] : r));
    const paste = scanSheet({
      header: analyzeHeader(HEADER),
      rows: stamped,
      snapshot: timer.snapshot,
      now: NOW + 1_000,
      newId: newIds(),
      mode: {
        kind: "edit",
        headerEdited: false,
        firstRow: 0,
        lastRow: 0,
        firstColumn: 0,
        lastColumn: 3,
      },
      givenIds: new Set(["r_a"]),
    });
    assert.deepEqual([...paste.idWrites], [[0, "r_new1"]]);
    // (The original's own edits go with their runs, or the minute's scan.)
    assert.deepEqual(
      paste.upserts.map((u) => u.id),
      ["r_new1"],
    );
  });

  it("follows an item a sort moved alone into a blank row without id and that was edited there (no-key seed 331)", () => {
    const H = ["_id", "name", "qty", "price", "_modified"];
    const base: unknown[][] = [
      ["r_a", "Widget", 1, 2, 1000],
      ["r_b", "Gadget", 2, 3, 1000],
      ["r_c", "Gizmo", 8, 5, 1000],
    ];
    // A blank row inserted at the top; a sort of the visible columns moved Gizmo alone into it
    // (its own row left blank), and Gizmo was renamed before the script ran.
    const now: unknown[][] = [
      ["", "Thing", 8, 5, ""],
      ["r_a", "Widget", 1, 2, 1000],
      ["r_b", "Gadget", 2, 3, 1000],
      ["r_c", "", "", "", 1000],
    ];
    const result = scan(now, seen(base, H), { kind: "reconcile" }, H);
    const ids = now.map((row, i) => (result.idWrites.has(i) ? result.idWrites.get(i) : row[0]));
    assert.deepEqual(ids, ["r_c", "r_a", "r_b", ""]);
    assert.deepEqual(result.deletes, []);
    // A new row that shares less with it is a new item; the emptied row keeps its id.
    const unlike: unknown[][] = [["", "Thing", 9, 5, ""], ...now.slice(1)];
    const apart = scan(unlike, seen(base, H), { kind: "reconcile" }, H);
    assert.deepEqual([...apart.idWrites], [[0, "r_new1"]]);
  });

  it("follows an item a sort moved into an inserted row and renamed, its own row blank, while other content moved exactly (no-key seed 331, again)", () => {
    const H = ["_id", "name", "qty", "price", "_modified"];
    const base: unknown[][] = [
      ["r_a", "Gizmo", 3, 2, 1000],
      ["r_b", "Gadget", 2, 2, 1000],
      ["r_c", "Item", 5, 2, 1000],
      ["r_d", "Bolt", 1, 2, 1000],
    ];
    // Two blank rows inserted at the top; a sort of the visible columns (blanks last) moved
    // Gizmo and Item into them, Gadget and Bolt up; Item renamed before the script ran.
    const now: unknown[][] = [
      ["", "Gizmo", 3, 2, ""],
      ["", "Widget", 5, 2, ""],
      ["r_a", "Gadget", 2, 2, 1000],
      ["r_b", "Bolt", 1, 2, 1000],
      ["r_c", "", "", "", 1000],
      ["r_d", "", "", "", 1000],
    ];
    const result = scan(now, seen(base, H), { kind: "reconcile" }, H);
    const ids = now.map((row, i) => (result.idWrites.has(i) ? result.idWrites.get(i) : row[0]));
    assert.deepEqual(ids.slice(0, 4), ["r_a", "r_c", "r_b", "r_d"]);
    assert.deepEqual(result.deletes, []);
  });

  it("follows an item a sort moved into the row of an item whose cells were all blank, renamed there, its own row blank (no-key seed 339)", () => {
    const H = ["_id", "name", "qty", "price", "_modified"];
    const base: unknown[][] = [
      ["r_a", "Widget", 1, 2, 1000],
      ["r_b", "", 3, 2, 1000],
      ["r_c", "", "", "", 1000],
      ["r_d", "Gadget", 5, 2, 1000],
    ];
    // A blank row inserted; a sort of the visible columns (blanks last) moved Widget into it,
    // Gadget into r_a's row, r_b's item into blank r_c's row, where it was named Gizmo.
    const now: unknown[][] = [
      ["", "Widget", 1, 2, ""],
      ["r_a", "Gadget", 5, 2, 1000],
      ["r_c", "Gizmo", 3, 2, 1000],
      ["r_b", "", "", "", 1000],
      ["r_d", "", "", "", 1000],
    ];
    const result = scan(now, seen(base, H), { kind: "reconcile" }, H);
    const ids = now.map((row, i) => (result.idWrites.has(i) ? result.idWrites.get(i) : row[0]));
    assert.deepEqual(ids.slice(0, 3), ["r_a", "r_d", "r_b"]);
    assert.ok(!result.deletes.some((d) => d.id === "r_b"));
    assert.ok(!result.upserts.some((u) => u.id.startsWith("r_new")));
  });

  it("gives the one id left to a row without id holding most of its item, not to a vacated row holding little (no-key seed 323)", () => {
    const H = ["_id", "name", "qty", "price", "due", "_modified"];
    const base: unknown[][] = [
      ["r_a", "Widget", 1, 2, "", 1000],
      ["r_b", "Gadget", 2, 2, "", 1000],
      ["r_c", "Sprocket", 4, 2, "2026-11-30", 1000],
    ];
    // A new row typed (Gizmo), Sprocket renamed, then the visible columns sorted: Gadget into
    // r_a's row, Gizmo into r_b's, Widget into r_c's, the renamed item into the row without id.
    const now: unknown[][] = [
      ["r_a", "Gadget", 2, 2, "", 1000],
      ["r_b", "Gizmo", "", 2, "", 1000],
      ["r_c", "Widget", 1, 2, "", 1000],
      ["", "Widget 2", 4, 2, "2026-11-30", ""],
    ];
    const result = scan(now, seen(base, H), { kind: "reconcile" }, H);
    const ids = now.map((row, i) => (result.idWrites.has(i) ? result.idWrites.get(i) : row[0]));
    assert.deepEqual(ids, ["r_b", "r_new1", "r_a", "r_c"]);
    assert.deepEqual(result.deletes, []);
  });

  it("lets nothing wait for a paste's onEdit on a tab without a `_modified` column (the wait could not be timed)", () => {
    const H = ["_id", "name", "qty"];
    const base: unknown[][] = [
      ["r_a", "Widget", 3],
      ["r_b", "Gadget", 5],
    ];
    // r_a pasted, hidden cells too, and both rows edited alike: tied, no paste onEdit.
    const dup: unknown[][] = [
      ["r_a", "Widget", 4],
      ["r_b", "Gadget", 5],
      ["r_a", "Widget", 6],
    ];
    const result = scanSheet({
      header: analyzeHeader(H),
      rows: dup,
      snapshot: seen(base, H),
      now: NOW,
      newId: newIds(),
      mode: { kind: "reconcile" },
    });
    assert.deepEqual(
      result.upserts.map((u) => u.id),
      ["r_a", "r_new1"],
      "the topmost keeps the id at once; the copy is new",
    );
  });

  it("stamps a change later than the row's last stamp when another execution's clock ran seconds ahead", () => {
    const ahead = NOW + 4_000;
    const was = [["r_a", "Widget", 3, ahead], rows[1], rows[2]] as unknown[][];
    const edited = [["r_a", "Widget", 4, ahead], rows[1], rows[2]] as unknown[][];
    const result = scan(edited, seen(was));
    assert.deepEqual(result.upserts[0], { id: "r_a", modifiedAt: ahead + 1, fields: null });
    assert.equal(result.modifiedWrites.get(0), ahead + 1);
    // An hour ahead is no clock's: a bad cell. The change is stamped now.
    const bad = NOW + 3_600_000;
    const odd = scan(
      [["r_a", "Widget", 4, bad], rows[1], rows[2]] as unknown[][],
      seen([["r_a", "Widget", 3, bad], rows[1], rows[2]] as unknown[][]),
    );
    assert.equal(odd.upserts[0]?.modifiedAt, NOW);
  });

  it("change scans leave content changes for the reconcile", () => {
    const changed = [["r_a", "Widget", 4, 1000], rows[1], rows[2]] as unknown[][];
    const snapshot = seen(rows);
    const result = scan(changed, snapshot, { kind: "change" });
    assert.deepEqual(result.upserts, []);
    assert.deepEqual(result.snapshot.rows.get("r_a"), snapshot.rows.get("r_a"));
    assert.equal(scan(changed, result.snapshot).upserts.length, 1);
  });

  it("detects deleted rows", () => {
    const result = scan([rows[0], rows[2]] as unknown[][], seen(rows), { kind: "change" });
    assert.deepEqual(result.deletes, [{ id: "r_b", modifiedAt: NOW }]);
    // Kept a while as gone, and sent once.
    assert.equal(result.snapshot.rows.get("r_b")?.goneAt, NOW);
    const again = scan([rows[0], rows[2]] as unknown[][], result.snapshot, { kind: "change" });
    assert.deepEqual(again.deletes, []);
  });

  it("stamps a delete only the periodic scan found with the row's last known time", () => {
    // A script or the API removed it (most often the flush carrying a Firestore delete):
    // "now" could beat a document recreated meanwhile.
    const result = scan([rows[0], rows[2]] as unknown[][], seen(rows), { kind: "reconcile" });
    assert.deepEqual(result.deletes, [{ id: "r_b", modifiedAt: 2000 }]);
  });

  it("queues renamed field sets as a resync with each row's own time (the rows did not change)", () => {
    const result = scan(rows, seen(rows), { kind: "change" }, ["_id", "title", "qty", "_modified"]);
    assert.equal(result.resyncAt, 0);
  });

  it("re-keys a pasted duplicate inside the edited range as a new row", () => {
    const pasted = [...rows, ["r_a", "Widget", 3, 1000]];
    const result = scan(pasted, seen(rows), {
      kind: "edit",
      headerEdited: false,
      firstRow: 3,
      lastRow: 3,
      firstColumn: 0,
      lastColumn: 3,
    });
    assert.deepEqual([...result.idWrites], [[3, "r_new1"]]);
    // A copy's _modified belongs to the original: the new row is stamped now.
    assert.deepEqual(result.upserts, [{ id: "r_new1", modifiedAt: NOW, fields: null }]);
    assert.deepEqual([...result.modifiedWrites], [[3, NOW]]);
  });

  it("keeps the topmost duplicate on a full scan", () => {
    const result = scan(
      [rows[0], ["r_a", "Copy", 1, ""]] as unknown[][],
      seen([rows[0] as unknown[]]),
    );
    assert.deepEqual([...result.idWrites], [[1, "r_new1"]]);
  });

  it("round-trips the snapshot", () => {
    const snapshot = seen(rows);
    const back = parseSnapshot(serializeSnapshot(snapshot));
    assert.deepEqual(back, snapshot);
    assert.equal(parseSnapshot("garbage"), null);
  });
});

describe("scanSheet: content that moved while the hidden columns stayed (a sort of the visible ones)", () => {
  // The hidden bookkeeping columns are _id (0) and _modified (3); a person sorted only name/qty.
  const before = [
    ["r_a", "Widget", 3, 1000],
    ["r_b", "Gadget", 5, 2000],
    ["r_c", "Doohickey", 7, 3000],
    ["r_d", "Sprocket", 9, 4000],
  ];
  /** Rows with `contents` (name, qty) in order, and the hidden cells where they were. */
  const sortedVisible = (contents: unknown[][]) =>
    before.map((row, i) => [row[0], ...(contents[i] ?? ["", ""]), row[3]]);
  const idsOf = (result: ReturnType<typeof scanSheet>, rows: unknown[][]) =>
    rows.map((row, i) => result.idWrites.get(i) ?? row[0]);

  it("follows an edited row into a row the flush wrote since the last scan", () => {
    // r_x was appended by the flush after the last scan. A person raised Gadget's qty, then the
    // sort put Widget where Gadget was, the edited Gadget into r_x's row and r_x's item on top.
    const rows = [
      ["r_a", "Thing", 1, 4500],
      ["r_b", "Widget", 3, 2000],
      ["r_c", "Doohickey", 7, 3000],
      ["r_d", "Sprocket", 9, 4000],
      ["r_x", "Gadget", 6, 1000],
    ];
    const result = scan(rows, seen(before), { kind: "reconcile" });
    assert.deepEqual(idsOf(result, rows), ["r_x", "r_a", "r_c", "r_d", "r_b"]);
    // The edit goes out under the item's own id (r_x, first seen, is sent as it is).
    assert.deepEqual(result.upserts.map((u) => u.id).sort(), ["r_b", "r_x"]);
  });

  it("follows content a sort moved out of rows the flush wrote since the last scan, as the server describes them", () => {
    // The flush appended r_x (Apple) and r_y (Banana), `_rev` 1; a sort then rotated Apple,
    // Banana and Widget (r_a's) before the script ran. Which row held what, the server says.
    const withRev = [...HEADER, "_rev"];
    const rows = [
      ["r_a", "Banana", 2, 1000, ""],
      ["r_b", "Gadget", 5, 2000, ""],
      ["r_c", "Doohickey", 7, 3000, ""],
      ["r_d", "Sprocket", 9, 4000, ""],
      ["r_x", "Widget", 3, 5000, 1],
      ["r_y", "Apple", 1, 6000, 1],
    ];
    const header = analyzeHeader(withRev);
    const snapshot = seen(before, withRev);
    assert.deepEqual(unscannedWrites(header, rows, snapshot), ["r_x", "r_y"]);
    const described = withDescribed(header, rows, snapshot, [
      { id: "r_x", rev: 1, values: { name: "Apple", qty: 1 } },
      { id: "r_y", rev: 1, values: { name: "Banana", qty: 2 } },
      // A write the row's `_rev` does not show yet tells nothing about it.
      { id: "r_c", rev: 5, values: { name: "Nothing", qty: 0 } },
    ]);
    const result = scan(rows, described, { kind: "reconcile" }, withRev);
    assert.deepEqual(idsOf(result, rows), ["r_y", "r_b", "r_c", "r_d", "r_a", "r_x"]);
    assert.deepEqual(result.upserts, [], "nothing changed: nothing to send");
    assert.deepEqual(result.deletes, []);
    // Scanned now: the next scan asks nothing.
    assert.deepEqual(unscannedWrites(header, rows, result.snapshot), []);
  });

  it("gives ids the flush wrote since the last scan, displaced by a sort, to the rows left over (a guess the webhook checks), not fresh ids", () => {
    // The flush writes `_rev` with the rows it appends (r_x: Apple, r_y: Banana).
    const withRev = [...HEADER, "_rev"];
    const rows = [
      ["r_a", "Apple", 1, 1000, ""],
      ["r_b", "Banana", 2, 2000, ""],
      ["r_c", "Doohickey", 7, 3000, ""],
      ["r_d", "Sprocket", 9, 4000, ""],
      ["r_x", "Widget", 3, 5000, 1],
      ["r_y", "Gadget", 5, 6000, 1],
    ];
    const result = scan(rows, seen(before, withRev), { kind: "reconcile" }, withRev);
    assert.deepEqual(idsOf(result, rows), ["r_x", "r_y", "r_c", "r_d", "r_a", "r_b"]);
    assert.ok([...result.idWrites.values()].every((id) => !id.startsWith("r_new")));
  });

  it("moves every id with its content and sends nothing", () => {
    const rows = sortedVisible([
      ["Doohickey", 7],
      ["Gadget", 5],
      ["Sprocket", 9],
      ["Widget", 3],
    ]);
    const result = scan(rows, seen(before), { kind: "change" });
    assert.deepEqual(idsOf(result, rows), ["r_c", "r_b", "r_d", "r_a"]);
    // The _modified cells travel with the ids.
    assert.deepEqual(
      [...result.modifiedWrites],
      [
        [0, 3000],
        [2, 4000],
        [3, 1000],
      ],
    );
    assert.deepEqual(result.upserts, []);
    assert.deepEqual(result.deletes, []);
  });

  it("follows content edited after the sort, before the script ran: an edit, not a swap", () => {
    const rows = sortedVisible([
      ["Doohickey", 8], // r_c's content, qty edited
      ["Gadget", 5],
      ["Sprocket", 9],
      ["Widget", 4], // r_a's content, qty edited
    ]);
    const result = scan(rows, seen(before), { kind: "change" });
    assert.deepEqual(idsOf(result, rows), ["r_c", "r_b", "r_d", "r_a"]);
    // The change scan leaves content changes to the minute scan: no id moved is sent as new.
    assert.ok(result.upserts.every((u) => u.id === "r_c" || u.id === "r_a"));
  });

  it("gives a new id to content typed into a row whose content the sort took away", () => {
    // A blank row was sorted in: r_d's content moved up, its row got "Bolt" typed in.
    const rows = [
      ["r_a", "Widget", 3, 1000],
      ["r_b", "Sprocket", 10, 2000], // r_d's content, qty edited
      ["r_c", "Doohickey", 7, 3000],
      ["", "Gadget", 6, ""], // r_b's content, edited too, in the blank row
      ["r_d", "Bolt", "", 4000], // typed where r_d's content was
    ];
    const result = scan(rows, seen(before), { kind: "reconcile" });
    const ids = idsOf(result, rows);
    assert.deepEqual(ids.slice(0, 4), ["r_a", "r_d", "r_c", "r_b"]);
    assert.equal(ids[4], "r_new1", "the typed row is a new one");
    assert.deepEqual(result.deletes, []);
  });

  it("follows edited content into a row typed just before the sort, not into the row the sort left over", () => {
    // A person typed "Zed" in a new row (no id yet), changed three of Gadget's four cells, and
    // sorted by qty before the script ran. Gadget (no exact match, too edited to match by most
    // cells) went to the row without id; "Zed" into the row whose id went elsewhere. r_b must
    // follow its name, not go to the row left over.
    const wide = ["_id", "name", "qty", "price", "due", "_modified"];
    const was = [
      ["r_a", "Widget", 3, 2, "x", 1000],
      ["r_b", "Gadget", 5, 2, "y", 2000],
      ["r_c", "Doohickey", 7, 2, "z", 3000],
      ["r_d", "Sprocket", 9, 2, "w", 4000],
    ];
    const rows = [
      ["r_a", "Sprocket", 9, 2, "w", 1000],
      ["r_b", "Doohickey", 7, 2, "z", 2000],
      ["r_c", "Widget", 3, 2, "x", 3000],
      ["r_d", "Zed", 1, 2, "v", 4000],
      ["", "Gadget", 0, 4, "u", ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_d", "r_c", "r_a", "r_new1", "r_b"]);
    // Gadget's cells go out as r_b's edit; "Zed" as a new row.
    assert.deepEqual(result.upserts.map((u) => u.id).sort(), ["r_b", "r_new1"]);
    assert.deepEqual(result.deletes, []);
  });

  it("gives a row whose visible cells were blank to the content a sort moved into it; its id leaves", () => {
    // r_e held only a note (a column outside the sorted range). A person typed "Gizmo" in a new
    // row and sorted name..price before the script ran: blanks go last, so Sprocket moved up
    // into r_e's row (beside its note), Gizmo into Sprocket's, and the new row was left empty.
    const wide = ["_id", "name", "qty", "price", "note", "_modified"];
    const was = [
      ["r_a", "Widget", 3, 2, "", 1000],
      ["r_e", "", "", "", "reorder", 2000],
      ["r_f", "Sprocket", 13, 2, "", 3000],
    ];
    const rows = [
      ["r_a", "Widget", 3, 2, "", 1000],
      ["r_e", "Sprocket", 13, 2, "reorder", 2000],
      ["r_f", "Gizmo", "", 2, "", 3000],
      ["", "", "", "", "", ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_f", "r_new1", ""]);
    assert.deepEqual(
      result.deletes.map((d) => d.id),
      ["r_e"],
    );
    // Not when the row's own item still shows somewhere (here in a row the flush wrote since the
    // last scan, whose content this scan does not know): nothing is known to have moved.
    const shown = [
      ["r_a", "Thing", 1, 1, "", 1000],
      ["r_e", "Widget", 3, 2, "x", 2000],
      ["r_x", "Gadget", 5, 2, "", 3000],
    ];
    const twoItems = [
      ["r_a", "Widget", 3, 2, "", 1000],
      ["r_e", "Gadget", 5, 2, "", 2000],
    ];
    const edits = scan(shown, seen(twoItems, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(edits, shown), ["r_a", "r_e", "r_x"]);
    assert.deepEqual(edits.deletes, []);
  });

  it("follows three rows a sort moved round a cycle, one edited past recognition but for its code (seed 2134)", () => {
    // Sorted by key, descending, then edited before the script ran: k8 got a due date, k4 a new
    // qty, and k2 three new cells. k2 is too edited to match by most cells; the other two moves
    // say where it went: its code is in the row k4 left.
    const wide = ["_id", "key", "name", "qty", "price", "due", "_modified"];
    const was = [
      ["r_b", "k2", "Gadget", 5, 2, "y", 2000],
      ["r_h", "k8", "Sprocket", 4, 2, "", 3000],
      ["r_d", "k4", "Sprocket", 1, 2, "", 4000],
    ];
    const rows = [
      ["r_b", "k8", "Sprocket", 4, 2, "d", 2000],
      ["r_h", "k4", "Sprocket", 9, 2, "", 3000],
      ["r_d", "k2", "Gadget", 8, 3, "z", 4000],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_h", "r_d", "r_b"]);
    assert.deepEqual(result.upserts.map((u) => u.id).sort(), ["r_b", "r_d", "r_h"]);
    assert.deepEqual(result.deletes, []);
  });

  it("does not hand a blank row's id to a new row left over by a sort (seed 2129)", () => {
    // r_e held only a note. A person typed "Zed" in a new row below and sorted name..price: the
    // items moved up one row each (Widget beside r_e's note) and Zed into r_c's row; the new row
    // was left empty. r_e's item is gone; Zed is a new item, not r_e's.
    const wide = ["_id", "name", "qty", "price", "note", "_modified"];
    const was = [
      ["r_e", "", "", "", "reorder", 1000],
      ["r_a", "Widget", 3, 2, "", 2000],
      ["r_b", "Gadget", 5, 2, "", 3000],
      ["r_c", "Sprocket", 13, 2, "", 4000],
    ];
    const rows = [
      ["r_e", "Widget", 3, 2, "reorder", 1000],
      ["r_a", "Gadget", 5, 2, "", 2000],
      ["r_b", "Sprocket", 13, 2, "", 3000],
      ["r_c", "Zed", 1, 2, "", 4000],
      ["", "", "", "", "", ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_b", "r_c", "r_new1", ""]);
    assert.deepEqual(
      result.deletes.map((d) => d.id),
      ["r_e"],
    );
  });

  it("follows an edited item's code into the row of a blank item, not into a new row left over (seed 2132)", () => {
    // r_e held only a note. A person typed Anvil in a new row, changed four of Kettle's cells,
    // and sorted name..size: Anvil into Widget's row, Kettle beside r_e's note, Widget into
    // Kettle's, blanks last. Kettle is too edited to match by most cells, but its name is in
    // r_e's row only; the row left over (Anvil) is a new item.
    const wide = ["_id", "name", "qty", "price", "due", "size", "note", "_modified"];
    const was = [
      ["r_a", "Widget", 3, 2, "", "S", "", 1000],
      ["r_e", "", "", "", "", "", "checked", 2000],
      ["r_k", "Kettle", 5, 2, "", "M", "", 3000],
    ];
    const rows = [
      ["r_a", "Anvil", 1, 2, "", "", "", 1000],
      ["r_e", "Kettle", 6, 4, "d", "L", "checked", 2000],
      ["r_k", "Widget", 3, 2, "", "S", "", 3000],
      ["", "", "", "", "", "", "", ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_new1", "r_k", "r_a", ""]);
    assert.deepEqual(
      result.deletes.map((d) => d.id),
      ["r_e"],
    );
  });

  it("gives a blank item's row to an edited item's code when the other blank-keyed row holds content another move placed (seed 2132, unshrunk)", () => {
    // r_e held only a note; r_g a price and a due date, its code blank too. A person cleared
    // k1's name, changed k11's qty and r_g's date, typed k12 in a new row, and sorted before
    // the script ran: k12 into r_a's row, k1 beside r_e's note, r_e's blanks into r_i's row,
    // k11 into r_g's, r_g's content into the new row. That r_g's content has a blank code too
    // says nothing about r_e: another move put it there.
    const wide = ["_id", "key", "name", "qty", "price", "due", "note", "_modified"];
    const was = [
      ["r_z", "k10", "Gadget", 0, 2, "", "", 500],
      ["r_a", "k1", "Gadget", 1, 2, "", "", 1000],
      ["r_y", "k3", "Gizmo", 3, 10, "", "", 1500],
      ["r_e", "", "", "", "", "", "reorder", 2000],
      ["r_i", "k11", "", 3, 2, "", "", 3000],
      ["r_g", "", "", "", 2, "2026-11-30", "", 4000],
    ];
    const rows = [
      ["r_z", "k10", "Gadget", 0, 2, "", "", 500],
      ["r_a", "k12", "Gadget", 2, 2, "", "", 1000],
      ["r_y", "k3", "Gizmo", 3, 10, "", "", 1500],
      ["r_e", "k1", "", 1, 2, "", "reorder", 2000],
      ["r_i", "", "", "", "", "", "", 3000],
      ["r_g", "k11", "", 8, 2, "", "", 4000],
      ["", "", "", "", 2, "2026-12-01", "", ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_z", "r_new1", "r_y", "r_a", "", "r_i", "r_g"]);
    assert.deepEqual(
      result.deletes.map((d) => d.id),
      ["r_e"],
    );
  });

  it("gives a note row's id up to a sorted-in item while another note row stays put (review, two note rows)", () => {
    // r_e and r_f hold only notes. A sort of name..price moved Gadget up beside r_e's note, and a
    // person typed Bolt into the row Gadget left, before the script ran. r_f, untouched, holds
    // its own item: it says nothing about whether r_e's item is still in the sheet.
    const wide = ["_id", "name", "qty", "price", "note", "_modified"];
    const was = [
      ["r_a", "Widget", 3, 2, "", 1000],
      ["r_e", "", "", "", "n1", 2000],
      ["r_b", "Gadget", 5, 2, "", 3000],
      ["r_f", "", "", "", "n2", 4000],
    ];
    const rows = [
      ["r_a", "Widget", 3, 2, "", 1000],
      ["r_e", "Gadget", 5, 2, "n1", 2000],
      ["r_b", "Bolt", 1, 1, "", 3000],
      ["r_f", "", "", "", "n2", 4000],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_b", "r_new1", "r_f"]);
    assert.deepEqual(
      result.deletes.map((d) => d.id),
      ["r_e"],
    );
  });

  it("takes an item's cells pasted over another row, with the original edited since, for a copy, not a move", () => {
    // A person pasted Gadget's visible cells over Widget's row and raised Gadget's qty, before
    // the script ran. Gadget's old content is now only in Widget's row, exactly, but Gadget's
    // own row still shows Gadget: Widget's row was written over, nothing moved.
    const wide = ["_id", "name", "qty", "price", "note", "_modified"];
    const was = [
      ["r_a", "Widget", 3, 2, "", 1000],
      ["r_c", "Gadget", 5, 2, "", 2000],
      ["r_d", "Sprocket", 9, 2, "", 3000],
    ];
    const rows = [
      ["r_a", "Gadget", 5, 2, "", 1000],
      ["r_c", "Gadget", 6, 2, "", 2000],
      ["r_d", "Sprocket", 9, 2, "", 3000],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_c", "r_d"]);
    assert.deepEqual(result.upserts.map((u) => u.id).sort(), ["r_a", "r_c"]);
    // Pasted into a new row instead: that row is new, the original keeps its id and its edit.
    const below = [...rows.slice(1), ["", "Gadget", 5, 2, "", ""]];
    const pasted = scan(below, seen(was.slice(1), wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(pasted, below), ["r_c", "r_d", "r_new1"]);
    // A sort that also moved Widget somewhere is a move, as before.
    const sorted = [
      ["r_a", "Gadget", 5, 2, "", 1000],
      ["r_c", "Widget", 3, 2, "", 2000],
      ["r_d", "Sprocket", 9, 2, "", 3000],
    ];
    const moved = scan(sorted, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(moved, sorted), ["r_c", "r_a", "r_d"]);
  });

  it("keeps a paste that typed new codes over two rows as two edits (an item whose code changed is not gone)", () => {
    const coded = ["_id", "code", "name", "qty", "_modified"];
    const was = [
      ["r_a", "k1", "Widget", 1, 1000],
      ["r_b", "k2", "Gadget", 1, 2000],
    ];
    const rows = [
      ["r_a", "k2", "Widget", 1, 1000],
      ["r_b", "k9", "Gadget", 1, 2000],
    ];
    const result = scan(rows, seen(was, coded), { kind: "reconcile" }, coded);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_b"]);
    assert.deepEqual(result.deletes, []);
    assert.deepEqual(result.upserts.map((u) => u.id).sort(), ["r_a", "r_b"]);
  });

  it("follows an id's code into a row without id when nothing else moved exactly", () => {
    // A person typed "Zed" in a new row and edited most of Gadget's cells; a sort then swapped
    // just those two rows. No content is anywhere exactly: Gadget's name says where r_b went.
    const wide = ["_id", "name", "qty", "price", "due", "_modified"];
    const was = [
      ["r_a", "Widget", 3, 2, "x", 1000],
      ["r_b", "Gadget", 5, 2, "y", 2000],
      ["r_c", "Doohickey", 7, 2, "z", 3000],
    ];
    const rows = [
      ["r_a", "Widget", 3, 2, "x", 1000],
      ["r_b", "Zed", 1, 2, "v", 2000],
      ["r_c", "Doohickey", 7, 2, "z", 3000],
      ["", "Gadget", 0, 4, "u", ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_new1", "r_c", "r_b"]);
    assert.deepEqual(result.deletes, []);
    // Not when another item has that code too: the code does not say which.
    const twoGadgets = [...was.slice(0, 2), ["r_c", "Gadget", 7, 2, "z", 3000]];
    const sameCode = [...rows.slice(0, 2), twoGadgets[2]!, rows[3]!];
    const ambiguous = scan(sameCode, seen(twoGadgets, wide), { kind: "reconcile" }, wide);
    assert.equal(idsOf(ambiguous, sameCode)[1], "r_b");
  });

  it("judges a code by its value, not only its two-character digest, which different codes share now and then (review)", () => {
    const byDigest = new Map<string, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; !pair; i++) {
      const code = `SKU-${i}`;
      const d = cellDigest(code);
      if (byDigest.has(d)) pair = [byDigest.get(d)!, code];
      else byDigest.set(d, code);
    }
    const coded = ["_id", "code", "name", "_modified"];
    const header = analyzeHeader(coded);
    const codes = [...pair, ...Array.from({ length: 16 }, (_, k) => `A${k}`), "A3"];
    const rows = codes.map((c, i) => [`r_${String(i).padStart(12, "0")}`, c, `n${i}`, 1000]);
    const snapshot = seen(rows, coded);
    const sim = similarity(header, rows, snapshot);
    const codeOf = (i: number) => sim.codeFor(snapshot.rows.get(String(rows[i]![0]))!.digest);
    assert.equal(codeOf(0), true, `${pair[0]} shares its digest with ${pair[1]}, not its value`);
    assert.equal(codeOf(1), true);
    assert.equal(codeOf(2), true);
    assert.equal(codeOf(5), false, "A3 is in two rows");
  });

  it("judges a code per item: one repeated code elsewhere does not change how the others match (review)", () => {
    // K1's row got the code K9 and a new row holds K1's very content: with a code, the code names
    // the item, so r_a follows it. Two other rows sharing K5 (a copy not yet given its own code)
    // say nothing about K1: the same decision with or without them.
    const coded = ["_id", "code", "qty", "price", "_modified"];
    const others = Array.from({ length: 10 }, (_, k) => [`r_o${k}`, `K${10 + k}`, k, 9, 1000]);
    const was = [["r_a", "K1", 8, 2, 1000], ["r_b", "K2", 2, 2, 1000], ...others];
    const rows = [["r_a", "K9", 8, 2, 1000], ["r_b", "K2", 2, 2, 1000], ...others];
    const typed = ["", "K1", 8, 2, ""];
    const plain = scan([...rows, typed], seen(was, coded), { kind: "reconcile" }, coded);
    assert.deepEqual(idsOf(plain, [...rows, typed]).slice(0, 2), ["r_new1", "r_b"]);
    assert.equal(idsOf(plain, [...rows, typed]).at(-1), "r_a");
    const withCopy = [...rows, ["r_p", "K5", 1, 1, 1000], ["", "K5", 1, 1, ""], typed];
    const was2 = [...was, ["r_p", "K5", 1, 1, 1000]];
    const result = scan(withCopy, seen(was2, coded), { kind: "reconcile" }, coded);
    const ids = idsOf(result, withCopy);
    assert.equal(String(ids[0]).startsWith("r_new"), true);
    assert.equal(ids.at(-1), "r_a");
    assert.equal(ids.at(-3), "r_p");
    assert.deepEqual(result.deletes, []);
  });

  it("takes exact content for a move, not a copy, when a sort evidently moved other content (no-key mix)", () => {
    // A sort reversed the rows; then, before any scan, Gadget was renamed Gizmo, Sprocket got a
    // due date and Widget was renamed Widget 2. Gizmo's row (r_c) still says Gizmo, which alone
    // would read as "Gizmo copied over Gadget's row, then edited": but Sprocket's name is now in
    // r_a's row, and r_d's row no longer says Sprocket: a sort.
    const wide = ["_id", "name", "qty", "price", "due", "_modified"];
    const was = [
      ["r_a", "Widget", 1, 2, "", 1000],
      ["r_b", "Gadget", 2, 2, "", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
      ["r_d", "Sprocket", 4, 2, "", 1000],
    ];
    const rows = [
      ["r_a", "Sprocket", 4, 2, "2027-01-15", 1000],
      ["r_b", "Gizmo", 3, 2, "", 1000],
      ["r_c", "Gizmo", 2, 2, "", 1000],
      ["r_d", "Widget 2", 1, 2, "", 1000],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    const ids = idsOf(result, rows);
    assert.equal(ids[1], "r_c", "Gizmo's content moved up a row");
    assert.equal(ids[0], "r_d", "Sprocket followed its name");
  });

  it("gives the one displaced id to a row without id that holds more of its cells than the vacated row (no-key mix)", () => {
    // A new row (Gizmo 8) was typed; a sort moved Widget into a row without an id and Gizmo 8
    // into r_c's row; then Widget was renamed Gadget. r_a's row took r_b's content exactly.
    const wide = ["_id", "name", "qty", "price", "_modified"];
    const was = [
      ["r_a", "Widget", 1, 5, 1000],
      ["r_b", "Gadget", 2, 6, 1000],
      ["r_c", "Gizmo", 3, 7, 1000],
      ["r_d", "Sprocket", 4, 8, 1000],
    ];
    const rows = [
      ["r_a", "Gadget", 2, 6, 1000],
      ["r_b", "Gizmo", 3, 7, 1000],
      ["r_c", "Gizmo", 8, 2, 1000],
      ["r_d", "Sprocket", 4, 8, 1000],
      ["", "Gadget", 1, 5, ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_b", "r_c", "r_new1", "r_d", "r_a"]);
  });

  it("follows an item's name into a row whose own id another move took (no-key mix)", () => {
    // Sprocket's qty and price were edited; a sort then put it in r_b's row (Gadget's content
    // went on, exactly, to r_c's) and a blank row into Sprocket's own.
    const wide = ["_id", "name", "qty", "price", "total", "_modified"];
    const was = [
      ["r_a", "Widget", 1, 2, 2, 1000],
      ["r_b", "Gadget", 2, 2, 4, 1000],
      ["r_c", "Gizmo", 3, 2, 6, 1000],
      ["r_d", "Sprocket", 4, 2, 8, 1000],
    ];
    const rows = [
      ["r_a", "Widget", 1, 2, 2, 1000],
      ["r_b", "Sprocket", 13, 10, 130, 1000],
      ["", "Gizmo", 3, 2, 6, ""],
      ["r_c", "Gadget", 2, 2, 4, 1000],
      ["r_d", "", "", "", "", 1000],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows).slice(0, 4), ["r_a", "r_d", "r_c", "r_b"]);
  });

  it("does not let an id follow a name that repeats (no code) out of a row that keeps more of its cells", () => {
    // A new row typed with Gadget's name, and Gadget renamed Sprocket (a name others have).
    const wide = ["_id", "name", "qty", "price", "_modified"];
    const was = [
      ["r_a", "Widget", 1, 5, 1000],
      ["r_b", "Gadget", 2, 6, 1000],
      ["r_c", "Sprocket", 4, 8, 1000],
    ];
    const rows = [
      ["r_a", "Widget", 1, 5, 1000],
      ["r_b", "Sprocket", 2, 6, 1000],
      ["r_c", "Sprocket", 4, 8, 1000],
      ["", "Gadget", 5, 2, ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_b", "r_c", "r_new1"]);
    // A code (every value different) still names its item, once its own row holds little else.
    const coded = rows.map((r, i) =>
      i === 1 ? ["r_b", "Sprocket", 9, 9, 1000] : i === 2 ? ["r_c", "Bolt", 4, 8, 1000] : r,
    );
    const codedWas = was.map((r, i) => (i === 2 ? ["r_c", "Bolt", 4, 8, 1000] : r));
    const byCode = scan(coded, seen(codedWas, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(byCode, coded), ["r_a", "r_new1", "r_c", "r_b"]);
    // Nor does a code lead an id out of a row that kept the rest of its cells (only the code
    // was cleared): that row is the item.
    const cleared = rows.map((r, i) => (i === 1 ? ["r_b", "", 2, 6, 1000] : r));
    const stays = scan(cleared, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(stays, cleared), ["r_a", "r_b", "r_c", "r_new1"]);
  });

  it("takes a new row typed exactly like an item whose own row keeps most of its cells for a new row (no code)", () => {
    // A row typed exactly like Widget (whose name others share), then Widget renamed Gadget.
    const wide = ["_id", "name", "qty", "price", "_modified"];
    const was = [
      ["r_a", "Widget", 8, 2, 1000],
      ["r_b", "Gadget", 2, 2, 1000],
      ["r_c", "Widget", 1, 2, 1000],
    ];
    const rows = [
      ["r_a", "Gadget", 8, 2, 1000],
      ["r_b", "Gadget", 2, 2, 1000],
      ["r_c", "Widget", 1, 2, 1000],
      ["", "Widget", 8, 2, ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_b", "r_c", "r_new1"]);
  });

  it("does not take a rename beside an unmoved namesake for a sort (review)", () => {
    // Widget's qty edited, a Gadget renamed Sprocket, a new row typed exactly like the old Widget:
    // the other Gadget still holds its own content, so nothing says a sort ran.
    const wide = ["_id", "name", "qty", "price", "_modified"];
    const was = [
      ["r_a", "Widget", 1, 5, 1000],
      ["r_b", "Gadget", 2, 6, 1000],
      ["r_c", "Gadget", 2, 7, 1000],
    ];
    const rows = [
      ["r_a", "Widget", 9, 5, 1000],
      ["r_b", "Gadget", 2, 6, 1000],
      ["r_c", "Sprocket", 2, 7, 1000],
      ["", "Widget", 1, 5, ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_b", "r_c", "r_new1"]);
  });

  it("follows a sort round a cycle of rows that were all edited, one renamed, by the cells each kept (no code)", () => {
    // Widget renamed Gizmo, Gadget's qty changed, a sort by name (descending), Sprocket's due set.
    const wide = ["_id", "name", "qty", "price", "total", "due", "_modified"];
    const was = [
      ["r_a", "Widget", 1, 2, 2, "", 1000],
      ["r_b", "Gadget", 2, 2, 4, "", 1000],
      ["r_c", "Gizmo", 3, 2, 6, "", 1000],
      ["r_d", "Sprocket", 4, 2, 8, "", 1000],
    ];
    const rows = [
      ["r_a", "Sprocket", 4, 2, 8, "2026-12-24", 1000],
      ["r_b", "Gizmo", 1, 2, 2, "", 1000],
      ["r_c", "Gizmo", 3, 2, 6, "", 1000],
      ["r_d", "Gadget", 3, 2, 6, "", 1000],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_d", "r_a", "r_c", "r_b"]);
  });

  it("keeps an id in a row that still shows its name, however a new row resembles its old cells (no sort)", () => {
    // Gadget's qty and price edited; a new row given Gadget's name and its new qty.
    const wide = ["_id", "name", "qty", "price", "total", "due", "_modified"];
    const was = [
      ["r_a", "Widget", 1, 2, 2, "", 1000],
      ["r_b", "Gadget", 2, 2, 4, "", 1000],
      ["r_c", "Gizmo", 3, 2, 6, "", 1000],
    ];
    const rows = [
      was[0]!,
      ["r_b", "Gadget", 5, 1, 5, "", 1000],
      was[2]!,
      ["", "Gadget", 5, 2, 10, "", ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_b", "r_c", "r_new1"]);
  });

  it("keeps an id in a row that kept most of its cells when a name that repeats was typed over (no code)", () => {
    // Gadget (r_e) renamed Widget; a new row typed as Gadget with another quantity.
    const wide = ["_id", "name", "qty", "price", "total", "_modified"];
    const was = [
      ["r_a", "Gadget", 2, 1, 2, 1000],
      ["r_b", "Gizmo", 3, 2, 6, 1000],
      ["r_d", "Widget", 1, 2, 2, 1000],
      ["r_e", "Gadget", 3, 2, 6, 1000],
    ];
    const rows = [
      ...was.slice(0, 3),
      ["r_e", "Widget", 3, 2, 6, 1000],
      ["", "Gadget", 13, 2, 26, ""],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_b", "r_d", "r_e", "r_new1"]);
  });

  it("matches the ids no rule placed with the rows left as a whole, keeping the most cells (no-key mix)", () => {
    // Gizmo's name cleared, Sprocket renamed Gadget, then a sort by name moved every row.
    const wide = ["_id", "name", "qty", "price", "total", "_modified"];
    const was = [
      ["r_a", "Widget", 1, 2, 2, 1000],
      ["r_b", "Gadget", 2, 2, 4, 1000],
      ["r_c", "Gizmo", 3, 2, 6, 1000],
      ["r_d", "Sprocket", 4, 2, 8, 1000],
    ];
    const rows = [
      ["r_a", "Gadget", 2, 2, 4, 1000],
      ["r_b", "Gadget", 4, 2, 8, 1000],
      ["r_c", "Widget", 1, 2, 2, 1000],
      ["r_d", "", 3, 2, 6, 1000],
    ];
    const result = scan(rows, seen(was, wide), { kind: "reconcile" }, wide);
    assert.deepEqual(idsOf(result, rows), ["r_b", "r_d", "r_a", "r_c"]);
  });

  it("sends an id the flush wrote, which a move took the row of, as a delete (the server may find it moved along a chain)", () => {
    // A sort swapped Widget and Gadget, and moved r_c's content into r_x's row.
    const rows = [
      ["r_a", "Gadget", 5, 1000],
      ["r_b", "Widget", 3, 2000],
      ["r_x", "Doohickey", 7, 9000], // r_c's content, in the row the flush wrote r_x into
      ["r_d", "Sprocket", 9, 4000],
      ["r_c", "", "", 3000], // r_c's row, emptied
    ];
    const result = scan(rows, seen(before), { kind: "reconcile" });
    assert.deepEqual(idsOf(result, rows), ["r_b", "r_a", "r_c", "r_d", ""]);
    // Marked: no person deleted it, so the server applies it only as the end of a chain.
    assert.deepEqual(
      result.deletes.map((d) => [d.id, d.displaced]),
      [["r_x", true]],
    );
  });

  it("does not take an id for content that only looks alike: a different name is another item", () => {
    const rows = [
      ["r_a", "Widget", 3, 1000],
      ["r_b", "Gadget", 5, 2000],
      ["r_c", "Doohickey", 7, 3000],
      ["r_d", "Sprocket", 10, 4000],
      ["", "Sprockets", 10, ""], // a new row much like r_d
    ];
    const result = scan(rows, seen(before), { kind: "reconcile" });
    assert.deepEqual(idsOf(result, rows), ["r_a", "r_b", "r_c", "r_d", "r_new1"]);
  });

  it("finds a deleted row put back by an undo under its old id, with its old time", () => {
    const deleted = [before[0]!, before[1]!, before[3]!];
    const afterDelete = scan(deleted, seen(before), { kind: "change" });
    assert.deepEqual(afterDelete.deletes, [{ id: "r_c", modifiedAt: NOW }]);
    // Ctrl-Z brings the row back with its hidden cells: it appears, so it is sent again.
    const undone = scan(before, afterDelete.snapshot, { kind: "change" });
    assert.deepEqual(undone.idWrites.size, 0);
    assert.deepEqual(
      undone.upserts.map((u) => u.id),
      ["r_c"],
    );
  });
});

describe("relayDigest", () => {
  it("lines a kept digest up with a new column layout: a new column reads empty, a gone one drops", () => {
    // Columns sorted by name, two characters each.
    assert.equal(relayDigest("AAbbCC", ["a", "b", "c"], ["a", "ab", "c"]), "AA..CC");
    assert.equal(relayDigest("AAbbCC", ["a", "b", "c"], ["a", "b", "c"]), "AAbbCC");
    assert.equal(relayDigest("AAbb", ["a", "b"], ["b", "c"]), "bb..");
  });
});
