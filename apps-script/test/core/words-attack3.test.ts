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
