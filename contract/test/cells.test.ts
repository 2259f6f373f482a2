import assert from "node:assert/strict";
import { encodeCell, toAsciiJson } from "../src/cells.js";

describe("cell encoding", () => {
  it("maps each getValues() type to one JSON form", () => {
    assert.equal(encodeCell("Widget"), "Widget");
    assert.equal(encodeCell(" "), " ");
    assert.equal(encodeCell(3), 3);
    assert.equal(encodeCell(-0.5), -0.5);
    assert.equal(encodeCell(0), 0);
    assert.equal(encodeCell(NaN), null);
    assert.equal(encodeCell(Infinity), null);
    assert.equal(encodeCell(-Infinity), null);
    assert.equal(encodeCell(true), true);
    assert.equal(encodeCell(false), false);
    assert.equal(encodeCell(""), null);
    assert.deepEqual(encodeCell(new Date(Date.UTC(2025, 10, 21, 8, 30, 15, 123))), {
      $date: "2025-11-21T08:30:15.123Z",
    });
    assert.equal(encodeCell(new Date(NaN)), null);
  });

  it("escapes every non-ASCII code unit and keeps the value", () => {
    const value = { name: "Grüße 😀 東京", ключ: "é" };
    const json = toAsciiJson(value);
    assert.match(json, /^[\x20-\x7e]*$/);
    assert.ok(json.includes("\\u00fc"));
    assert.ok(json.includes("\\ud83d\\ude00"));
    assert.deepEqual(JSON.parse(json), value);
  });
});
