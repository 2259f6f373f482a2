import assert from "node:assert/strict";
import { idsOf, NOW, wordsScanner } from "./wordsFixture";
import { rowDigest } from "../../src/core/scan";
import {
  oldValueDigests,
  parseWordEntry,
  withWord,
  type Words,
  type WordsFor,
} from "../../src/core/words";

const HEADER = ["_id", "name", "qty", "price", "due", "_modified"];
const { header, scan } = wordsScanner(HEADER);

/**
 * Words as the cache would give them back, each column at `at`, the row as the last edit saw it
 * being `saw[id]` (by default: the id's row as last seen with the words applied).
 */
function told(
  said: Record<string, Record<string, unknown>>,
  at: number,
  saw: Record<string, unknown[]> = {},
  was: unknown[][] = [],
  olds: Record<string, Record<string, string>> = {},
): WordsFor {
  return (ids) => {
    const words = new Map<string, Words>();
    for (const id of ids) {
      const edits = Object.entries(said[id] ?? {});
      if (!edits.length) continue;
      const own = was.find((row) => row[0] === id) ?? [];
      const row = saw[id] ?? HEADER.map((h, i) => (h in (said[id] ?? {}) ? said[id]![h] : own[i]));
      const digest = rowDigest(header, row);
      let entry: string | null = null;
      for (const [field, cell] of edits) {
        const row = { digest, fieldsHash: header.fieldsHash };
        entry = withWord(entry, field, cell, at, row, olds[id]?.[field]);
      }
      const parsed = parseWordEntry(entry);
      if (parsed) words.set(id, parsed);
    }
    return words;
  };
}

describe("words: what waiting edits say an item looks like now", () => {
  it("keeps each column's latest word in one entry per id, and reads nothing from junk", () => {
    const row = { digest: "ab", fieldsHash: "h1" };
    let entry = withWord(null, "qty", 3, 10, row, "2");
    entry = withWord(entry, "name", "Gizmo", 11, row);
    entry = withWord(entry, "qty", 4, 12, { digest: "cd", fieldsHash: "h1" }, "3");
    const words = parseWordEntry(entry)!;
    // What the column's edits replaced is kept, as text and as the number it shows.
    assert.deepEqual(words.cells.get("qty"), {
      value: 4,
      at: 12,
      was: [...oldValueDigests("2"), ...oldValueDigests("3")],
    });
    assert.equal(oldValueDigests("3").length, 2);
    assert.deepEqual(words.cells.get("name"), { value: "Gizmo", at: 11, was: [] });
    assert.equal(words.row, "cd");
    // Another header since: the older words are for other columns.
    const renamed = parseWordEntry(
      withWord(entry, "qty", 5, 13, { digest: "ef", fieldsHash: "h2" }),
    )!;
    assert.deepEqual([...renamed.cells.keys()], ["qty"]);
    assert.equal(parseWordEntry("{not json"), null);
    assert.equal(parseWordEntry('["a"]'), null);
    assert.equal(parseWordEntry('{"w":{"qty":[1]},"r":"ab","f":"h"}'), null);
    assert.equal(parseWordEntry(null), null);
  });

  // Widget's name, qty and due were edited (three onEdits waiting for the lock), then a sort of
  // the visible columns carried the row into a row typed above it, without an id. Only price
  // is still Widget's: by its cells the row could be anything.
  const was = [
    ["r_a", "Widget", 1, 2, "", 1000],
    ["r_b", "Gadget", 2, 2, "", 1000],
    ["r_c", "Gizmo", 3, 2, "", 1000],
  ];
  const rows = [
    ["", "Sprocket", 13, 2, "2027-01-14", ""],
    ["r_a", "", "", "", "", 1000],
    ["r_b", "Gadget", 2, 2, "", 1000],
    ["r_c", "Gizmo", 3, 2, "", 1000],
  ];
  const edits = { r_a: { name: "Sprocket", qty: 13, due: "2027-01-14" } };

  it("follows an item edited past recognition and then sorted, by its edits' words", () => {
    const snapshot = scan(was, null).snapshot;
    const blind = scan(rows, snapshot);
    assert.deepEqual(idsOf(blind, rows).slice(0, 2), ["r_new1", "r_a"]);
    const result = scan(rows, snapshot, told(edits, NOW, {}, was));
    assert.deepEqual(idsOf(result, rows), ["r_a", "", "r_b", "r_c"]);
    assert.deepEqual(result.deletes, []);
    // Sent as an edit of r_a (the snapshot as seen judges what changed), not as new content.
    assert.deepEqual(
      result.upserts.map((u) => u.id),
      ["r_a"],
    );
  });

  it("ignores words left in a row a sort had filled with another item (the script had not followed it)", () => {
    // A sort swapped Widget's and Gadget's rows under their ids; then, before any scan, Gadget
    // (now in r_a's row) got qty 9 and Widget (in r_b's row) price 5. Each edit's `_id` cell
    // names the row's old item: their words, taken, would pin each edit on the other item.
    const snapshot = scan(was, null).snapshot;
    const sorted = [
      ["r_a", "Gadget", 9, 2, "", 1000],
      ["r_b", "Widget", 1, 5, "", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
    ];
    const blind = scan(sorted, snapshot);
    const wrong = told(
      { r_a: { qty: 9 }, r_b: { price: 5 } },
      NOW,
      { r_a: sorted[0]!, r_b: sorted[1]! },
      was,
    );
    const result = scan(sorted, snapshot, wrong);
    assert.deepEqual(idsOf(result, sorted), idsOf(blind, sorted));
    assert.deepEqual(idsOf(result, sorted), ["r_b", "r_a", "r_c"]);
  });

  it("does not take a new row typed with an item's old content for that item moved, when the item's words say it was edited (no-key seed 300)", () => {
    // Gizmo's qty then name were edited in place (the name's word waits; the qty's edit left
    // none), and a new row typed below shows Gizmo's old content exactly.
    const snapshot = scan(was, null).snapshot;
    const now = [
      ["r_a", "Widget", 1, 2, "", 1000],
      ["r_b", "Gadget", 2, 2, "", 1000],
      ["r_c", "Widget 2", 2, 2, "", 1000],
      ["", "Gizmo", 3, 2, "", ""],
    ];
    const blind = scan(now, snapshot);
    assert.deepEqual(idsOf(blind, now).slice(2), ["r_new1", "r_c"], "by cells alone: a move");
    const said = told({ r_c: { name: "Widget 2" } }, NOW, { r_c: now[2]! }, was);
    const result = scan(now, snapshot, said);
    assert.deepEqual(idsOf(result, now).slice(2), ["r_c", "r_new1"], "told: edited in place");
    assert.deepEqual(result.deletes, []);
  });

  it("takes an edit's old value for evidence that its row held the item, when edits not told yet make the rest of the row differ (no-key seed 298)", () => {
    // Widget renamed Sprocket (its word waits), its qty and price edited too (their runs have
    // not started: no words); then a sort of the visible columns put a new row's content into
    // Widget's row and Widget's into the row without id.
    const snapshot = scan(was, null).snapshot;
    const now = [
      ["r_a", "Thing", 8, 2, "", 1000],
      ["r_b", "Gadget", 2, 2, "", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
      ["", "Sprocket", 5, "", "", ""],
    ];
    const saw = { r_a: ["r_a", "Sprocket", 5, "", "", 1000] };
    const blind = scan(now, snapshot);
    assert.deepEqual([idsOf(blind, now)[0], idsOf(blind, now)[3]], ["r_a", "r_new1"]);
    // Without the old value, the row the rename saw differs from Widget in more cells than it
    // agrees: the word could be another item's, and is dropped.
    const unsure = scan(now, snapshot, told({ r_a: { name: "Sprocket" } }, NOW, saw, was));
    assert.deepEqual(idsOf(unsure, now), idsOf(blind, now));
    // The rename replaced "Widget": the row held Widget, which the id follows.
    const sure = told({ r_a: { name: "Sprocket" } }, NOW, saw, was, { r_a: { name: "Widget" } });
    const result = scan(now, snapshot, sure);
    assert.deepEqual(idsOf(result, now), ["r_new1", "r_b", "r_c", "r_a"]);
    // Another item's name replaced (a sort had put Gadget there first): no evidence for r_a.
    const other = told({ r_a: { name: "Sprocket" } }, NOW, saw, was, { r_a: { name: "Gadget" } });
    assert.deepEqual(idsOf(scan(now, snapshot, other), now), idsOf(blind, now));
  });

  it("retells a word left under the id of a row a sort filled to the item its old value names, found where the edit saw it (no-key seed 312)", () => {
    // A sort of the visible columns swapped Gadget's and Gizmo's content under their ids; then
    // a person changed Gadget's price (in Gizmo's row: the word is left under r_c) and typed a
    // new row with Gadget's old content.
    const snapshot = scan(was, null).snapshot;
    const now = [
      ["r_a", "Widget", 1, 2, "", 1000],
      ["r_b", "Gizmo", 3, 2, "", 1000],
      ["r_c", "Gadget", 2, 10, "", 1000],
      ["", "Gadget", 2, 2, "", ""],
    ];
    const blind = scan(now, snapshot);
    assert.deepEqual(idsOf(blind, now).slice(1), ["r_c", "r_new1", "r_b"], "Gadget looks moved");
    const saw = { r_c: now[2]! };
    // Without what the edit replaced, the word cannot be placed: as blind.
    const unsure = scan(now, snapshot, told({ r_c: { price: 10 } }, NOW, saw, was));
    assert.deepEqual(idsOf(unsure, now), idsOf(blind, now));
    const said = told({ r_c: { price: 10 } }, NOW, saw, was, { r_c: { price: "2" } });
    const result = scan(now, snapshot, said);
    assert.deepEqual(idsOf(result, now), ["r_a", "r_c", "r_b", "r_new1"]);
    assert.deepEqual(result.deletes, []);
  });

  it("takes the word of an item whose twin (same content) a sort moved, though its old content shows in another id's row (no-key seed 317)", () => {
    // Gizmo and a twin row exactly like it; Gizmo renamed Thing (its word waits), then a sort of
    // the visible columns moved the twin into r_a's row and Thing into the twin's row.
    const twins = [
      ["r_a", "Widget", 1, 2, "", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
      ["r_d", "Gizmo", 3, 2, "", 1000],
    ];
    const snapshot = scan(twins, null).snapshot;
    const now = [
      ["r_a", "Gizmo", 3, 2, "", 1000],
      ["r_c", "Widget", 1, 2, "", 1000],
      ["r_d", "Thing", 3, 2, "", 1000],
    ];
    const said = told({ r_c: { name: "Thing" } }, NOW, {}, twins, { r_c: { name: "Gizmo" } });
    const result = scan(now, snapshot, said);
    assert.deepEqual(idsOf(result, now), ["r_d", "r_a", "r_c"]);
    assert.deepEqual(
      result.upserts.map((u) => u.id),
      ["r_c"],
    );
  });

  it("ignores words no later than the row's last stamp (the snapshot has them, or newer)", () => {
    const snapshot = scan(was, null).snapshot;
    const stale = scan(rows, snapshot, told(edits, 1000, {}, was));
    assert.deepEqual(idsOf(stale, rows).slice(0, 2), ["r_new1", "r_a"]);
  });

  it("asks nothing for a plain edit in place, and never makes an edit look unchanged", () => {
    const snapshot = scan(was, null).snapshot;
    let asked = 0;
    const edited = [["r_a", "Widget", 5, 2, "", 1000], ...was.slice(1)];
    const result = scan(edited, snapshot, (ids) => {
      asked += ids.length;
      return told({ r_a: { qty: 5 } }, NOW, {}, was)(ids);
    });
    assert.equal(asked, 0);
    assert.deepEqual(
      result.upserts.map((u) => u.id),
      ["r_a"],
    );
    // Two rows edited in place: asked, and each is its own id's still, sent as edited.
    const two = [["r_a", "Widget", 5, 2, "", 1000], ["r_b", "Gadget", 6, 2, "", 1000], was[2]!];
    const both = scan(two, snapshot, (ids) => {
      asked += ids.length;
      return told({ r_a: { qty: 5 }, r_b: { qty: 6 } }, NOW, {}, was)(ids);
    });
    assert.equal(asked, 2);
    assert.deepEqual(idsOf(both, two), ["r_a", "r_b", "r_c"]);
    assert.deepEqual(both.upserts.map((u) => u.id).sort(), ["r_a", "r_b"]);
  });
});
