import assert from "node:assert/strict";
import {
  dateToSerial,
  formatSheetDate,
  serialToDate,
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

  it("reads serial numbers back as the instants they mean in the sheet's zone", () => {
    for (const tz of ["Etc/UTC", "America/New_York", "Asia/Tokyo", "Europe/Berlin"]) {
      for (const iso of [
        "2026-11-21T12:00:00.250Z",
        "2026-03-29T01:30:00.000Z", // Berlin's spring-forward night
        "2026-10-25T03:30:00.000Z", // after Berlin's fall-back hour (wall times in it repeat)
        "1900-01-01T00:00:00.000Z",
      ]) {
        const d = new Date(iso);
        assert.equal(serialToDate(dateToSerial(d, tz), tz).toISOString(), iso, `${iso} in ${tz}`);
      }
    }
  });
});
