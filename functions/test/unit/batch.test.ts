import assert from "node:assert/strict";
import { MAX_ROWS_PER_BATCH, parseSheetBatch } from "../../src/core/batch.js";

const now = 1_763_700_000_000;
const header = ["_id", "name", "qty", "_modified"];
const base = (over: Record<string, unknown> = {}) => ({
  spreadsheetId: "s1",
  sheetName: "Sheet1",
  header,
  changes: [
    { id: "r_1", modifiedAt: now - 10, values: { name: "Widget", qty: 3 }, fields: ["qty"] },
  ],
  deletes: [{ id: "r_2", modifiedAt: now - 5 }],
  ...over,
});

function issues(body: unknown): string[] {
  const r = parseSheetBatch(body, now);
  assert.equal(r.ok, false, "expected the body to be rejected");
  return (r as { issues: string[] }).issues;
}

describe("sheet batch schema", () => {
  it("parses the documented example into upserts and deletes over the data columns", () => {
    const r = parseSheetBatch(base(), now);
    assert.ok(r.ok);
    assert.deepEqual(r.batch.columns, ["name", "qty"]);
    assert.deepEqual(r.batch.changes, [
      {
        op: "upsert",
        id: "r_1",
        modifiedAt: now - 10,
        values: { name: "Widget", qty: 3 },
        fields: ["qty"],
      },
      { op: "delete", id: "r_2", modifiedAt: now - 5 },
    ]);
  });

  it("fills columns a change left out with null (an empty cell) and ignores empty header cells", () => {
    const r = parseSheetBatch(
      base({
        header: ["_id", "name", "", "qty"],
        changes: [{ id: "r_1", modifiedAt: 1, values: { name: "a" } }],
      }),
      now,
    );
    assert.ok(r.ok);
    assert.deepEqual(r.batch.changes[0], {
      op: "upsert",
      id: "r_1",
      modifiedAt: 1,
      values: { name: "a", qty: null },
      fields: null,
    });
  });

  it("names every problem with its path", () => {
    const found = issues(
      base({
        header: ["_id", "name", "name", "_sync", "__x__"],
        changes: [
          { id: "a/b", modifiedAt: 1.5, values: { name: "x" } },
          { id: "r_3", modifiedAt: now, values: { colour: "red" }, fields: ["size"] },
        ],
        deletes: [{ id: "r_3", modifiedAt: now + 60 * 60 * 1000 }],
      }),
    );
    const text = found.join("\n");
    for (const expected of [
      /header\.3: "_sync" is reserved/,
      /header\.4: names like __x__ are reserved/,
      /changes\.0\.id: must be 1-128 characters/,
      /changes\.0\.modifiedAt: must be an integer/,
    ]) {
      assert.match(text, expected);
    }
  });

  it("after the shape is right, checks columns, duplicates, future times and size", () => {
    const text = issues(
      base({
        header: ["_id", "name", "name"],
        changes: [{ id: "r_3", modifiedAt: now, values: { colour: "red" }, fields: ["size"] }],
        deletes: [{ id: "r_3", modifiedAt: now + 60 * 60 * 1000 }],
      }),
    ).join("\n");
    assert.match(text, /header\.2: column "name" appears twice/);
    assert.match(text, /changes\.0\.values: "colour" is not a data column/);
    assert.match(text, /changes\.0\.fields: "size" is not a data column/);
    assert.match(text, /deletes\.0\.id: row "r_3" already appears at changes\.0/);
    assert.match(text, /deletes\.0\.modifiedAt: .* is in the future/);
  });

  it("requires the _id column, at least one row and at most the row limit", () => {
    assert.match(issues(base({ header: ["name", "qty"] })).join(), /"_id" column is missing/);
    assert.match(issues(base({ changes: [], deletes: [] })).join(), /both empty/);
    const many = Array.from({ length: MAX_ROWS_PER_BATCH + 1 }, (_, i) => ({
      id: `r${i}`,
      modifiedAt: 1,
    }));
    assert.match(issues(base({ changes: [], deletes: many })).join(), /more than 10000 rows/);
  });

  it("rejects unknown top-level and row fields (a typo is not silently dropped)", () => {
    assert.match(issues({ ...base(), sheet: "x" }).join(), /Unrecognized key/);
    assert.match(
      issues(base({ deletes: [{ id: "r", modifiedAt: 1, values: {} }] })).join(),
      /deletes\.0/,
    );
  });

  it("rejects a non-object body", () => {
    assert.ok(issues(null).length > 0);
    assert.ok(issues([]).length > 0);
  });
});
