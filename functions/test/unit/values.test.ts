import assert from "node:assert/strict";
import { fromWire, hashRow, toWire, wireCellSchema, type WireCell } from "../../src/core/values.js";

describe("cell value mapping", () => {
  const cases: Array<[string, WireCell]> = [
    ["text", "Widget"],
    ["text that looks like a number", "0042"],
    ["integer", 3],
    ["fraction", -2.75],
    ["true", true],
    ["false", false],
    ["empty cell", null],
    ["date-time", { $date: "2026-11-21T10:30:00.000Z" }],
  ];
  for (const [name, wire] of cases) {
    it(`round-trips ${name} through the core value and back`, () => {
      assert.ok(wireCellSchema.safeParse(wire).success);
      assert.deepEqual(toWire(fromWire(wire)), wire);
    });
  }

  it("turns a $date into a Date at the same instant", () => {
    const d = fromWire({ $date: "2026-01-02T03:04:05.678Z" });
    assert.ok(d instanceof Date);
    assert.equal(d.getTime(), Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  });

  it("rejects what no cell can hold", () => {
    for (const bad of [
      { $date: "yesterday" },
      { $date: "2026-11-21" },
      { other: 1 },
      [1],
      Infinity,
      NaN,
      "x".repeat(50_001),
    ]) {
      assert.equal(wireCellSchema.safeParse(bad).success, false, JSON.stringify(bad)?.slice(0, 40));
    }
  });

  it("hashes content independently of key order, and tells text from numbers and dates", () => {
    assert.equal(hashRow({ a: 1, b: "x" }), hashRow({ b: "x", a: 1 }));
    assert.notEqual(hashRow({ a: 1 }), hashRow({ a: "1" }));
    assert.notEqual(hashRow({ a: new Date(0) }), hashRow({ a: "1970-01-01T00:00:00.000Z" }));
    assert.notEqual(hashRow({ a: null }), hashRow({ a: "" }));
  });
});
