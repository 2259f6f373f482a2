import assert from "node:assert/strict";
import { assignRowIds, cellToRowId, rowIdFromUuid } from "../../src/core/ids";
import { ROW_ID_PATTERN } from "../../../contract/src/limits";

describe("row ids", () => {
  it("derives r_ + 12 lowercase hex chars from a UUID", () => {
    const id = rowIdFromUuid("3F2504E0-4F89-41D3-9A0C-0305E82C3301");
    assert.equal(id, "r_3f2504e04f89");
    assert.match(id, ROW_ID_PATTERN);
    assert.throws(() => rowIdFromUuid("not-a-uuid"));
  });

  it("accepts only cell values that are valid ids", () => {
    assert.equal(cellToRowId(" r_abc "), "r_abc");
    assert.equal(cellToRowId(""), "");
    assert.equal(cellToRowId(42), "");
    assert.equal(cellToRowId("has space"), "");
    assert.equal(cellToRowId("x".repeat(129)), "");
  });

  const ids = (...names: string[]) => {
    let n = 0;
    return () => names[n++] ?? `r_extra${n}`;
  };

  it("fills empty ids of rows with content only", () => {
    const content = [true, false, true];
    const result = assignRowIds(["", "", "r_a"], (r) => content[r] ?? false, ids("r_new"));
    assert.deepEqual(result.ids, ["r_new", "", "r_a"]);
    assert.deepEqual([...result.generated], [0]);
  });

  it("re-keys the duplicate inside the edited range and leaves the other", () => {
    // Row 0 is the original; the copy was pasted at row 2 (the edited range).
    const result = assignRowIds(
      ["r_a", "r_b", "r_a"],
      () => true,
      ids("r_new"),
      (r) => r === 2,
    );
    assert.deepEqual(result.ids, ["r_a", "r_b", "r_new"]);
    // Pasted above the original: the pasted (top) row still gets the new id.
    const above = assignRowIds(
      ["r_a", "r_b", "r_a"],
      () => true,
      ids("r_new"),
      (r) => r === 0,
    );
    assert.deepEqual(above.ids, ["r_new", "r_b", "r_a"]);
  });

  it("re-keys the pasted row even when it alone holds the item's last-seen content (the original edited since; no-key seed 332)", () => {
    const result = assignRowIds(
      ["r_a", "r_b", "r_a"],
      () => true,
      ids("r_new"),
      (r) => r === 2,
      (r) => r === 2,
    );
    assert.deepEqual(result.ids, ["r_a", "r_b", "r_new"]);
  });

  it("keeps the topmost occurrence on a full scan", () => {
    const result = assignRowIds(["r_b", "r_a", "r_a", "r_a"], () => true, ids("r_x", "r_y"));
    assert.deepEqual(result.ids, ["r_b", "r_a", "r_x", "r_y"]);
    assert.deepEqual([...result.generated].sort(), [2, 3]);
  });

  it("never hands out an id already in the sheet", () => {
    const result = assignRowIds(["r_taken", ""], () => true, ids("r_taken", "r_free"));
    assert.deepEqual(result.ids, ["r_taken", "r_free"]);
  });
});
