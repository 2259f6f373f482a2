import { strict as assert } from "node:assert";
import {
  columnToLetters,
  formatRange,
  lettersToColumn,
  parseA1,
  quoteSheetTitle,
} from "../src/a1.js";
import { parseDateString, serialFromInstant, formatDatePattern } from "../src/dates.js";
import { formatGeneral } from "../src/values.js";
import { applyFields, parseFields } from "../src/fields.js";

const none = () => false;

describe("A1 notation", () => {
  it("converts column letters both ways", () => {
    for (const [n, s] of [
      [0, "A"],
      [25, "Z"],
      [26, "AA"],
      [701, "ZZ"],
      [702, "AAA"],
    ] as const) {
      assert.equal(columnToLetters(n), s);
      assert.equal(lettersToColumn(s), n);
    }
  });

  it("parses the range forms Google accepts", () => {
    assert.deepEqual(parseA1("Sheet1!A1:B2", none), {
      sheetTitle: "Sheet1",
      startRow: 0,
      endRow: 2,
      startCol: 0,
      endCol: 2,
    });
    assert.deepEqual(parseA1("'My Sheet'!C3", none), {
      sheetTitle: "My Sheet",
      startRow: 2,
      endRow: 3,
      startCol: 2,
      endCol: 3,
    });
    assert.deepEqual(parseA1("'It''s'!A:A", none), {
      sheetTitle: "It's",
      startRow: undefined,
      endRow: undefined,
      startCol: 0,
      endCol: 1,
    });
    assert.deepEqual(parseA1("2:5", none), {
      sheetTitle: undefined,
      startRow: 1,
      endRow: 5,
      startCol: undefined,
      endCol: undefined,
    });
    assert.deepEqual(parseA1("A2:C", none), {
      sheetTitle: undefined,
      startRow: 1,
      endRow: undefined,
      startCol: 0,
      endCol: 3,
    });
    assert.deepEqual(parseA1("B2:A1", none), {
      sheetTitle: undefined,
      startRow: 0,
      endRow: 2,
      startCol: 0,
      endCol: 2,
    });
    assert.deepEqual(
      parseA1("Data", (t) => t === "Data"),
      {
        sheetTitle: "Data",
        startRow: undefined,
        endRow: undefined,
        startCol: undefined,
        endCol: undefined,
      },
    );
    assert.deepEqual(parseA1("'My Sheet'", none)?.sheetTitle, "My Sheet");
  });

  it("rejects malformed ranges", () => {
    for (const bad of [
      "'Open!A1",
      "Sheet1!",
      "Sheet1!A",
      "A1:B2:C3",
      "!A1",
      "Sheet1!1:B2",
      "Nope",
    ]) {
      assert.equal(parseA1(bad, none), undefined, bad);
    }
  });

  it("quotes sheet titles like Google", () => {
    assert.equal(quoteSheetTitle("Sheet1"), "Sheet1");
    assert.equal(quoteSheetTitle("My Sheet"), "'My Sheet'");
    assert.equal(quoteSheetTitle("It's"), "'It''s'");
    assert.equal(quoteSheetTitle("A1"), "'A1'");
    assert.equal(
      formatRange("Sheet1", { startRow: 0, endRow: 1, startCol: 0, endCol: 1 }),
      "Sheet1!A1",
    );
    assert.equal(
      formatRange("My Sheet", { startRow: 0, endRow: 5, startCol: 0, endCol: 4 }),
      "'My Sheet'!A1:D5",
    );
  });
});

describe("dates and number formats", () => {
  it("maps wall times to serials without zone arithmetic", () => {
    assert.equal(parseDateString("2026-11-21")?.serial, 46347);
    assert.equal(parseDateString("2026-11-21 10:30:00")?.serial, 46347.4375);
    assert.equal(parseDateString("11/21/2026")?.serial, 46347);
    assert.equal(parseDateString("2026-02-30"), undefined);
    assert.equal(parseDateString("2026-11-21T10:30:00Z"), undefined);
  });

  it("converts instants through the spreadsheet's zone (DST aware)", () => {
    // 15:30Z is 10:30 in New York in November (EST) and 11:30 in July (EDT).
    assert.equal(serialFromInstant(Date.UTC(2026, 10, 21, 15, 30), "America/New_York"), 46347.4375);
    const july = serialFromInstant(Date.UTC(2026, 6, 1, 15, 30), "America/New_York");
    assert.equal(formatDatePattern(july, "yyyy-mm-dd hh:mm:ss"), "2026-07-01 11:30:00");
  });

  it("formats numbers like the Automatic format", () => {
    assert.equal(formatGeneral(3), "3");
    assert.equal(formatGeneral(2.5), "2.5");
    assert.equal(formatGeneral(0.1 + 0.2), "0.3");
    assert.equal(formatGeneral(1 / 3), "0.3333333333");
    assert.equal(formatGeneral(-1234567), "-1234567");
    assert.equal(formatGeneral(1e21), "1E+21");
  });
});

describe("field masks", () => {
  it("selects dotted paths and sub-selections through arrays", () => {
    const doc = {
      a: 1,
      properties: { title: "t", timeZone: "z" },
      sheets: [{ properties: { sheetId: 0, title: "S", index: 0 }, data: [] }],
    };
    assert.deepEqual(applyFields(doc, parseFields("properties.timeZone,sheets.properties")), {
      properties: { timeZone: "z" },
      sheets: [{ properties: { sheetId: 0, title: "S", index: 0 } }],
    });
    assert.deepEqual(applyFields(doc, parseFields("sheets(properties(sheetId,title))")), {
      sheets: [{ properties: { sheetId: 0, title: "S" } }],
    });
    assert.throws(() => parseFields("a(b"));
  });
});
