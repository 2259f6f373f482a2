/** The checker's own rules: what counts as a change the sync had to carry. */
import assert from "node:assert/strict";
import { withoutUndoneWrites } from "../src/check.js";
import type { Truth } from "../src/world.js";

describe("checker: writes that undo themselves", () => {
  // A person set k3's due and set it back; the app deleted k3 in between.
  const truth: Truth[] = [
    { t: 0, op: "create", side: "sheet", key: "k3" },
    { t: 10, op: "write", side: "sheet", key: "k3", field: "due", value: "x", before: null },
    { t: 10, op: "delete", side: "firestore", key: "k3" },
    { t: 40, op: "write", side: "sheet", key: "k3", field: "due", value: null, before: "x" },
  ];

  it("drops a run the sync never saw, across a delete on the other side (the delete rightly wins)", () => {
    assert.deepEqual(
      withoutUndoneWrites(truth, [], []).map((e) => e.op),
      ["create", "delete"],
    );
  });

  it("keeps it when the server took the row in between: it saw the first value", () => {
    const seen = [{ after: 2, keys: new Set(["k3"]) }];
    assert.equal(withoutUndoneWrites(truth, seen, []).length, 4);
  });

  it("keeps it across a delete of its own side (the row was gone, then written again)", () => {
    const own = truth.map((e) => (e.op === "delete" ? { ...e, side: "sheet" as const } : e));
    assert.equal(withoutUndoneWrites(own, [], []).length, 4);
  });
});
