import assert from "node:assert/strict";
import {
  cellShows,
  dateToSerial,
  formatSheetDate,
  isFormula,
  toSheetInput,
  zoneOffsetMs,
} from "../../src/core/cells.js";

describe("sheet cells (Firestore → sheet)", () => {
  it("converts instants to Sheets serial days in the sheet's time zone", () => {
    assert.equal(dateToSerial(new Date("1899-12-30T00:00:00Z"), "Etc/UTC"), 0);
    assert.equal(dateToSerial(new Date("2026-11-21T12:00:00Z"), "Etc/UTC"), 46347.5);
    // 12:00 UTC is 07:00 in New York in November (UTC-5).
    assert.equal(
      dateToSerial(new Date("2026-11-21T12:00:00Z"), "America/New_York"),
      46347 + 7 / 24,
    );
    assert.equal(zoneOffsetMs(Date.parse("2026-07-01T00:00:00Z"), "Europe/Berlin"), 2 * 3600_000);
  });

  it("spells dates as a person would type them, in the sheet's zone, keeping milliseconds", () => {
    assert.equal(
      formatSheetDate(new Date("2026-11-21T10:30:00Z"), "Etc/UTC"),
      "2026-11-21 10:30:00",
    );
    assert.equal(
      formatSheetDate(new Date("2026-11-21T10:30:00.120Z"), "Asia/Tokyo"),
      "2026-11-21 19:30:00.120",
    );
  });

  it("writes text with an apostrophe so it stays text, and everything else as itself", () => {
    assert.equal(toSheetInput("0042", "Etc/UTC"), "'0042");
    assert.equal(toSheetInput("=1+1", "Etc/UTC"), "'=1+1");
    assert.equal(toSheetInput("", "Etc/UTC"), "");
    assert.equal(toSheetInput(null, "Etc/UTC"), "");
    assert.equal(toSheetInput(3.5, "Etc/UTC"), 3.5);
    assert.equal(toSheetInput(false, "Etc/UTC"), false);
  });

  it("knows when a cell already shows a value", () => {
    const tz = "America/New_York";
    const d = new Date("2026-11-21T12:00:00.250Z");
    assert.ok(cellShows(dateToSerial(d, tz), d, tz));
    assert.ok(
      !cellShows(dateToSerial(d, tz) + 1 / 86_400_000, d, tz),
      "1 ms off is a different time",
    );
    assert.ok(cellShows(undefined, null, tz));
    assert.ok(cellShows("", null, tz));
    assert.ok(!cellShows(0, null, tz));
    assert.ok(cellShows(3, 3, tz));
    assert.ok(!cellShows("3", 3, tz), "text 3 is not the number 3");
    assert.ok(cellShows(true, true, tz));
  });

  it("recognises formulas", () => {
    assert.ok(isFormula("=A1*2"));
    assert.ok(!isFormula("A1"));
    assert.ok(!isFormula(2));
  });
});
