import assert from "node:assert/strict";
import { idsOf, NOW, wordsLeft, wordsScanner } from "./wordsFixture";
import { rowDigest } from "../../src/core/scan";
import { parseWordEntry, withWord, type Words, type WordsFor } from "../../src/core/words";
const HEADER = ["_id", "name", "qty", "price", "due", "_modified"];
const { header, scan } = wordsScanner(HEADER);
const one = (id: string, field: string, value: unknown, saw: unknown[], old?: string) =>
  wordsLeft(header, { [id]: [[field, value, NOW, saw, old]] });
describe("words, attack review 2: old values from an edit whose earlier word was lost", () => {
  it("an earlier rename's word lost: the later rename's old value is not the item's last-seen name", () => {
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
    const saw = ["r_a", "Sprocket", 13, 2, "2027-01-14", 1000];
    const snapshot = scan(was, null).snapshot;
    const wordsFor =
      (olds: Record<string, string>): WordsFor =>
      (ids) => {
        let e: string | null = null;
        for (const [f, v] of [
          ["name", "Sprocket"],
          ["qty", 13],
          ["due", "2027-01-14"],
        ] as const)
          e = withWord(
            e,
            f,
            v,
            NOW,
            { digest: rowDigest(header, saw), fieldsHash: header.fieldsHash },
            olds[f],
          );
        return new Map(ids.includes("r_a") ? [["r_a", parseWordEntry(e)! as Words]] : []);
      };
    const noOld = scan(rows, snapshot, wordsFor({}));
    const good = scan(rows, snapshot, wordsFor({ name: "Widget", qty: "1" }));
    const lost = scan(rows, snapshot, wordsFor({ name: "Thing", qty: "1" }));

    assert.deepEqual(idsOf(lost, rows), idsOf(noOld, rows));
    assert.deepEqual(idsOf(good, rows), ["r_a", "", "r_b", "r_c"], "the edited item is followed");
  });
});

describe("words, attack review 3: no sort at all", () => {
  const was = [
    ["r_a", "Widget", 1, 2, "", 1000],
    ["r_b", "Gadget", 2, 2, "", 1000],
    ["r_c", "Gizmo", 3, 2, "", 1000],
  ];
  it("Gadget renamed Widget then cleared (first rename left no word), Widget's qty edited: swap", () => {
    const snapshot = scan(was, null).snapshot;
    const now = [
      ["r_a", "Widget", 8, 2, "", 1000],
      ["r_b", "", 2, 2, "", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
    ];
    const blind = scan(now, snapshot);
    const told = scan(now, snapshot, one("r_b", "name", "", now[1]!, "Widget"));

    assert.deepEqual(idsOf(told, now), ["r_a", "r_b", "r_c"]);
    assert.deepEqual(idsOf(blind, now), idsOf(told, now));
  });
  it("a lone candidate that differs in two cells (or whose cell is not what the edit replaced) is taken", () => {
    const was2 = [
      ["r_a", "Widget", 1, 2, "", 1000],
      ["r_b", "Gadget", 2, 5, "x", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
    ];
    const snapshot = scan(was2, null).snapshot;
    // Widget's qty edited (no word yet); Gadget renamed Widget then Sprocket. Widget differs from
    // the row the rename saw in qty, price and due: three cells.
    const now = [
      ["r_a", "Widget", 8, 2, "", 1000],
      ["r_b", "Sprocket", 2, 5, "x", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
    ];
    const told = scan(now, snapshot, one("r_b", "name", "Sprocket", now[1]!, "Widget"));

    assert.deepEqual(idsOf(told, now), ["r_a", "r_b", "r_c"]);
  });
});

describe("words, attack review 4: alike rows sorted and edited", () => {
  it("two Widgets swapped by a sort, one edited in each row: the row the edit saw is taken for the id's item", () => {
    const was = [
      ["r_a", "Widget", 1, 2, "", 1000],
      ["r_b", "Widget", 2, 2, "", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
    ];
    const snapshot = scan(was, null).snapshot;
    // Sort by qty desc swaps the Widgets under their ids; price 2 -> 3 typed in r_a's row (item b),
    // qty 1 -> 13 in r_b's row (item a; its run has not started: no word).
    const now = [
      ["r_a", "Widget", 2, 3, "", 1000],
      ["r_b", "Widget", 13, 2, "", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
    ];
    const blind = scan(now, snapshot);
    const told = scan(now, snapshot, one("r_a", "price", 3, now[0]!, "2"));

    assert.deepEqual(idsOf(told, now), idsOf(blind, now));
  });
  it("same, with a formula column (qty*price) and the value typed over itself (model g813)", () => {
    const { header: H, scan: sc } = wordsScanner([
      "_id",
      "name",
      "qty",
      "price",
      "total",
      "_modified",
    ]);
    const was = [
      ["r_a", "Widget", 1, 2, 2, 1000],
      ["r_b", "Widget", 2, 2, 4, 1000],
      ["r_c", "Gizmo", 3, 2, 6, 1000],
    ];
    const snapshot = sc(was, null).snapshot;
    const now = [
      ["r_a", "Widget", 2, 2, 4, 1000],
      ["r_b", "Widget", 13, 2, 26, 1000],
      ["r_c", "Gizmo", 3, 2, 6, 1000],
    ];
    const w: WordsFor = (ids) => {
      const e = withWord(
        null,
        "qty",
        2,
        NOW,
        { digest: rowDigest(H, now[0]!), fieldsHash: H.fieldsHash },
        "2",
      );
      return new Map(ids.includes("r_a") ? [["r_a", parseWordEntry(e)! as Words]] : []);
    };
    const blind = sc(now, snapshot);
    const told = sc(now, snapshot, w);

    assert.deepEqual(idsOf(told, now), idsOf(blind, now));
  });
});
