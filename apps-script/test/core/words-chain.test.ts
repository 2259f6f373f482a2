import assert from "node:assert/strict";
import { idsOf, NOW, wordsLeft, wordsScanner, type Edit } from "./wordsFixture";
import { rowDigest } from "../../src/core/scan";
import { snapshotWithWords } from "../../src/core/words";

const HEADER = ["_id", "name", "qty", "price", "due", "_modified"];
const { header, scan } = wordsScanner(HEADER);

describe("words: words that go on from another item's own", () => {
  it("tells words after a sort together with the item's words before it (attack E)", () => {
    // A person cleared Gadget's name and set its qty to 8 (words under r_b); a sort moved it
    // into r_a's row, where they set qty 2 and price 1 (words under r_a, replacing 8 and 2).
    // Widget's row was deleted since, and a row typed alike it waits for an id.
    const was = [
      ["r_a", "Widget", 1, 2, "", 1000],
      ["r_b", "Gadget", 2, 2, "", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
      ["r_d", "Sprocket", 4, 2, "", 1000],
    ];
    const snapshot = scan(was, null).snapshot;
    const rows = [
      ["r_a", "", 2, 1, "", 1000],
      ["r_b", "Sprocket", 4, 2, "", 1000],
      ["r_c", "Gizmo", 3, 2, "", 1000],
      ["", "Widget", 1, 2, "", ""],
    ];
    const edits: Record<string, Edit[]> = {
      r_b: [
        ["name", "", NOW + 1, ["r_b", "", 2, 2, "", 1000], "Gadget"],
        ["qty", 8, NOW + 2, ["r_b", "", 8, 2, "", 1000], "2"],
      ],
      r_a: [
        ["qty", 2, NOW + 3, ["r_a", "", 2, 2, "", 1000], "8"],
        ["price", 1, NOW + 4, rows[0]!, "2"],
      ],
    };
    const result = scan(rows, snapshot, wordsLeft(header, edits), NOW + 10);
    assert.deepEqual(idsOf(result, rows).slice(0, 3), ["r_b", "r_d", "r_c"]);
    assert.ok(!result.deletes.some((d) => d.id === "r_b"));
    // Gadget as both edits' words tell it is the row a sort moved it to.
    const told = snapshotWithWords(header, rows, snapshot, wordsLeft(header, edits));
    assert.equal(told.rows.get("r_b")!.digest, rowDigest(header, rows[0]!));
  });
});
