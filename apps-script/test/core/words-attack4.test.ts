import assert from "node:assert/strict";
import { idsOf, NOW, wordsScanner } from "./wordsFixture";
import { rowDigest } from "../../src/core/scan";
import { parseWordEntry, withWord, type Words, type WordsFor } from "../../src/core/words";
const HEADER = ["_id", "name", "qty", "price", "due", "_modified"];
const { header, scan } = wordsScanner(HEADER);
const one =
  (id: string, field: string, value: unknown, saw: unknown[], old?: string): WordsFor =>
  (ids) => {
    const e = withWord(
      null,
      field,
      value,
      NOW,
      { digest: rowDigest(header, saw), fieldsHash: header.fieldsHash },
      old,
    );
    return new Map(ids.includes(id) ? [[id, parseWordEntry(e)! as Words]] : []);
  };
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
