import assert from "node:assert/strict";
import {
  baseValue,
  hashRow,
  matchesBase,
  sameValue,
  toBase,
  valueKey,
} from "../../src/core/values.js";

describe("cell values in the core", () => {
  it("keeps types apart: text is not a number, a date is not its text or its ms", () => {
    assert.notEqual(valueKey(1), valueKey("1"));
    assert.notEqual(valueKey(true), valueKey("TRUE"));
    assert.notEqual(valueKey(new Date(0)), valueKey(0));
    assert.notEqual(valueKey(new Date(0)), valueKey("1970-01-01T00:00:00.000Z"));
    assert.ok(sameValue(new Date(5), new Date(5)));
    assert.ok(sameValue(-0, 0));
  });

  it("treats an empty string, null and a missing field as one empty cell", () => {
    assert.ok(sameValue("", null));
    assert.ok(sameValue(undefined, null));
    assert.equal(valueKey(""), "");
  });

  it("keeps long text in the base as a hash that still matches the text", () => {
    const long = "x".repeat(5000);
    const base = toBase(long);
    assert.deepEqual(Object.keys(base as object), ["$h"]);
    assert.ok(matchesBase(long, base));
    assert.ok(!matchesBase(long + "y", base));
    assert.equal(baseValue(base), undefined, "the text itself is not kept");
    assert.equal(toBase("short"), "short");
    assert.ok(matchesBase(null, undefined), "an absent base is an empty cell");
  });

  it("hashes content independently of key order", () => {
    assert.equal(hashRow({ a: 1, b: "x" }), hashRow({ b: "x", a: 1 }));
    assert.notEqual(hashRow({ a: 1 }), hashRow({ a: "1" }));
  });
});
