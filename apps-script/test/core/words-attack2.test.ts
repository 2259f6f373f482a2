import assert from "node:assert/strict";
import { idsOf, NOW, wordsScanner } from "./wordsFixture";
import { rowDigest } from "../../src/core/scan";
import { parseWordEntry, withWord, type Words, type WordsFor } from "../../src/core/words";
const HEADER = ["_id", "name", "qty", "price", "due", "_modified"];
const { header, scan } = wordsScanner(HEADER);
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
