/** The randomized stack test's checker (test/e2e/randomized/check.ts) fails where it must. */
import assert from "node:assert/strict";
import { check, type Final } from "./e2e/randomized/check.js";
import type { Truth } from "./e2e/randomized/operations.js";

const COLUMNS = ["sku", "qty"];
const failuresOf = (truth: Truth[], f: Final) => check(truth, f).failures;

function final(
  sheet: [string, Record<string, unknown>][],
  docs: [string, Record<string, unknown>][],
  conflicts: Final["conflicts"] = [],
): Final {
  return {
    columns: COLUMNS,
    sheet: sheet.map(([id, cells], i) => ({
      rowNumber: i + 2,
      id,
      cells: { sku: null, qty: null, ...cells } as Final["sheet"][number]["cells"],
    })),
    docs: new Map(docs.map(([id, d]) => [id, d as Record<string, never>])),
    conflicts,
  };
}

const write = (op: number, id: string, field: string, value: unknown): Truth => ({
  op: `o${op}`,
  side: op % 2 ? "sheet" : "firestore",
  kind: "write",
  id,
  field,
  value: value as string,
});

describe("the randomized stack test's checker", () => {
  it("passes equal sides that keep every last write", () => {
    const truth = [write(1, "a", "qty", 1), write(2, "a", "qty", 2)];
    assert.deepEqual(failuresOf(truth, final([["a", { qty: 2 }]], [["a", { qty: 2 }]])), []);
  });

  it("finds a value that differs between the sheet and Firestore", () => {
    const failures = failuresOf([], final([["a", { qty: 2 }]], [["a", { qty: 3 }]]));
    assert.deepEqual(failures, ["row a qty: sheet 2, Firestore 3"]);
  });

  it("finds an id on two rows, a row without an id and rows on one side only", () => {
    const failures = failuresOf(
      [],
      final(
        [
          ["a", {}],
          ["a", {}],
          ["", { sku: "x" }],
          ["b", {}],
        ],
        [
          ["a", {}],
          ["c", {}],
        ],
      ),
    );
    assert.deepEqual(failures, [
      "id a is on sheet rows 2 and 3",
      "sheet row 4 has content but no id",
      "row b (sheet row 5) is in the sheet, not in Firestore",
      "document c is not in the sheet",
    ]);
  });

  it("finds a row deleted last that is still there", () => {
    const truth: Truth[] = [
      write(1, "a", "qty", 1),
      { op: "o2", side: "firestore", kind: "delete", id: "a" },
    ];
    const failures = failuresOf(truth, final([["a", { qty: 1 }]], [["a", { qty: 1 }]]));
    assert.equal(failures.length, 1);
    assert.match(
      failures[0]!,
      /row a was deleted last \(op o2, firestore\) but is still in the sheet and Firestore/,
    );
  });

  it("finds a lost last write, unless a conflict records it as the loser", () => {
    const truth = [write(1, "a", "qty", 1), write(2, "a", "qty", 2)];
    const sides = final([["a", { qty: 1 }]], [["a", { qty: 1 }]]);
    assert.match(
      failuresOf(truth, sides)[0] ?? "",
      /row a qty: the last write \(op o2, firestore, 2\) is not there \(1\)/,
    );
    const loser = {
      rowId: "a",
      field: "qty",
      rule: "last-write-wins",
      kept: { side: "sheet", op: "update", values: { qty: 1 } },
      rejected: { side: "firestore", op: "update", values: { qty: 2 } },
    };
    assert.deepEqual(failuresOf(truth, { ...sides, conflicts: [loser] }), []);
  });

  it("holds a row to its writes since its last delete only", () => {
    const truth: Truth[] = [
      write(1, "a", "qty", 1),
      { op: "o2", side: "firestore", kind: "delete", id: "a" },
      write(3, "a", "sku", "x"),
    ];
    assert.deepEqual(failuresOf(truth, final([["a", { sku: "x" }]], [["a", { sku: "x" }]])), []);
    assert.match(failuresOf(truth, final([], []))[0] ?? "", /row a sku: .* is gone with its row/);
  });

  it("finds a value the test wrote to one row in another row", () => {
    const truth = [write(1, "a", "qty", 7), write(2, "b", "qty", 8)];
    const sides = final(
      [
        ["a", { qty: 7 }],
        ["b", { qty: 8 }],
        ["c", { qty: 8 }],
      ],
      [
        ["a", { qty: 7 }],
        ["b", { qty: 8 }],
        ["c", { qty: 8 }],
      ],
    );
    const result = check(truth, sides);
    assert.deepEqual(result.failures, ["row c qty holds 8, which the test wrote to row b"]);
    assert.deepEqual(result.ids.sort(), ["b", "c"]);
  });
});
