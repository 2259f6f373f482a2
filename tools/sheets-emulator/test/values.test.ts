// Contract tests: the real @googleapis/sheets client against the emulator over HTTP.

import { strict as assert } from "node:assert";
import { failure, startHarness, type Harness } from "./helpers.js";

const ID = "sheet-1";

describe("values endpoints (real client)", () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.running.close();
  });
  beforeEach(() => {
    h.running.emulator.reset();
    h.running.emulator.seed(ID, {
      title: "Sync",
      timeZone: "America/New_York",
      sheets: [
        {
          title: "Sheet1",
          rows: [
            ["id", "name", "qty"],
            ["r1", "apple", 3],
            ["r2", "pear", 2.5],
          ],
        },
        { title: "My Sheet", sheetId: 7, rows: [["x"]] },
        { title: "It's", sheetId: 8 },
      ],
    });
  });

  describe("spreadsheets.get", () => {
    it("returns properties and sheet properties", async () => {
      const { data } = await h.api.spreadsheets.get({ spreadsheetId: ID });
      assert.equal(data.spreadsheetId, ID);
      assert.equal(data.properties?.title, "Sync");
      assert.equal(data.properties?.timeZone, "America/New_York");
      assert.equal(data.properties?.locale, "en_US");
      assert.deepEqual(data.sheets?.[1]?.properties, {
        sheetId: 7,
        title: "My Sheet",
        index: 1,
        sheetType: "GRID",
        gridProperties: { rowCount: 1000, columnCount: 26 },
      });
    });

    it("honours a fields mask", async () => {
      const { data } = await h.api.spreadsheets.get({
        spreadsheetId: ID,
        fields: "properties.timeZone,sheets.properties(sheetId,title)",
      });
      assert.deepEqual(data, {
        properties: { timeZone: "America/New_York" },
        sheets: [
          { properties: { sheetId: 0, title: "Sheet1" } },
          { properties: { sheetId: 7, title: "My Sheet" } },
          { properties: { sheetId: 8, title: "It's" } },
        ],
      });
    });

    it("answers 404 NOT_FOUND for an unknown spreadsheet", async () => {
      const err = await failure(h.api.spreadsheets.get({ spreadsheetId: "nope" }));
      assert.equal(err.status, 404);
      assert.equal(err.code, 404);
      assert.equal(err.message, "Requested entity was not found.");
      assert.deepEqual(err.response?.data, {
        error: { code: 404, message: "Requested entity was not found.", status: "NOT_FOUND" },
      });
    });
  });

  describe("values.get / batchGet", () => {
    it("clips the requested range to the grid and trims empties", async () => {
      const { data } = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!A:E",
      });
      assert.deepEqual(data, {
        range: "Sheet1!A1:E1000",
        majorDimension: "ROWS",
        values: [
          ["id", "name", "qty"],
          ["r1", "apple", "3"],
          ["r2", "pear", "2.5"],
        ],
      });
    });

    it("normalizes every range form", async () => {
      const cases: [string, string][] = [
        ["Sheet1", "Sheet1!A1:Z1000"],
        ["A1:B2", "Sheet1!A1:B2"],
        ["sheet1!b2", "Sheet1!B2"],
        ["Sheet1!1:1", "Sheet1!A1:Z1"],
        ["Sheet1!A2:C", "Sheet1!A2:C1000"],
        ["'My Sheet'!A1:B2", "'My Sheet'!A1:B2"],
        ["'It''s'!A:A", "'It''s'!A1:A1000"],
      ];
      for (const [range, expected] of cases) {
        const { data } = await h.api.spreadsheets.values.get({ spreadsheetId: ID, range });
        assert.equal(data.range, expected, range);
      }
    });

    it("omits values for an empty range and keeps inner gaps", async () => {
      const empty = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!E1:F9",
      });
      assert.deepEqual(empty.data, { range: "Sheet1!E1:F9", majorDimension: "ROWS" });
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!A6",
        valueInputOption: "RAW",
        requestBody: { values: [["", "", "z"]] },
      });
      const { data } = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!A3:D9",
      });
      assert.deepEqual(data.values, [["r2", "pear", "2.5"], [], [], ["", "", "z"]]);
    });

    it("reads by COLUMNS", async () => {
      const { data } = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!A1:C3",
        majorDimension: "COLUMNS",
        valueRenderOption: "UNFORMATTED_VALUE",
      });
      assert.deepEqual(data.values, [
        ["id", "r1", "r2"],
        ["name", "apple", "pear"],
        ["qty", 3, 2.5],
      ]);
      assert.equal(data.majorDimension, "COLUMNS");
    });

    it("batchGet repeats the ranges parameter and keeps their order", async () => {
      const { data } = await h.api.spreadsheets.values.batchGet({
        spreadsheetId: ID,
        ranges: ["'My Sheet'!A1", "Sheet1!B2:C3", "'It''s'!A1:B2"],
      });
      assert.deepEqual(data, {
        spreadsheetId: ID,
        valueRanges: [
          { range: "'My Sheet'!A1", majorDimension: "ROWS", values: [["x"]] },
          {
            range: "Sheet1!B2:C3",
            majorDimension: "ROWS",
            values: [
              ["apple", "3"],
              ["pear", "2.5"],
            ],
          },
          { range: "'It''s'!A1:B2", majorDimension: "ROWS" },
        ],
      });
    });

    it("rejects unknown sheets and bad syntax with Google's message", async () => {
      for (const range of ["Sheet9!A1", "Sheet1!A1:B2:C3", "'Unclosed!A1"]) {
        const err = await failure(h.api.spreadsheets.values.get({ spreadsheetId: ID, range }));
        assert.equal(err.status, 400);
        assert.equal(err.message, `Unable to parse range: ${range}`);
        assert.deepEqual(err.response?.data?.error, {
          code: 400,
          message: `Unable to parse range: ${range}`,
          status: "INVALID_ARGUMENT",
        });
      }
      const batch = await failure(
        h.api.spreadsheets.values.batchGet({ spreadsheetId: ID, ranges: ["Sheet1!A1", "Nope!A1"] }),
      );
      assert.equal(batch.message, "Unable to parse range: Nope!A1");
    });

    it("rejects a range starting outside the grid", async () => {
      const err = await failure(
        h.api.spreadsheets.values.get({ spreadsheetId: ID, range: "Sheet1!A1001" }),
      );
      assert.equal(err.status, 400);
      assert.equal(
        err.message,
        "Range ('Sheet1'!A1001) exceeds grid limits. Max rows: 1000, max columns: 26",
      );
    });
  });

  describe("value input and rendering", () => {
    it("RAW keeps strings verbatim; USER_ENTERED parses them like typing", async () => {
      const row = ["'0042", "0042", "-3.5", "1e3", "true", "=A1*2", "5%", "hello"];
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!A10",
        valueInputOption: "RAW",
        requestBody: { values: [row] },
      });
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!A11",
        valueInputOption: "USER_ENTERED",
        requestBody: { values: [row, [7, false, 2.25]] },
      });
      const get = (valueRenderOption: string) =>
        h.api.spreadsheets.values.get({
          spreadsheetId: ID,
          range: "Sheet1!A10:H12",
          valueRenderOption,
        });
      assert.deepEqual((await get("UNFORMATTED_VALUE")).data.values, [
        ["'0042", "0042", "-3.5", "1e3", "true", "=A1*2", "5%", "hello"],
        ["0042", 42, -3.5, 1000, true, "#VALUE!", 0.05, "hello"],
        [7, false, 2.25],
      ]);
      assert.deepEqual((await get("FORMATTED_VALUE")).data.values, [
        ["'0042", "0042", "-3.5", "1e3", "true", "=A1*2", "5%", "hello"],
        ["0042", "42", "-3.5", "1000", "TRUE", "#VALUE!", "5%", "hello"],
        ["7", "FALSE", "2.25"],
      ]);
      assert.deepEqual((await get("FORMULA")).data.values?.[1], [
        "0042",
        42,
        -3.5,
        1000,
        true,
        "=A1*2",
        0.05,
        "hello",
      ]);
    });

    it("evaluates cheap formulas and marks the rest #NAME?", async () => {
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!E1",
        valueInputOption: "USER_ENTERED",
        requestBody: {
          values: [
            [
              "=C2+C3",
              "=SUM(C2:C3)*2",
              '="n: "&B2',
              "=VLOOKUP(1,A:B,2)",
              "=C2/0",
              "=NOW()",
              "='My Sheet'!A1",
            ],
          ],
        },
      });
      const formatted = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!E1:K1",
      });
      // The clock is 2026-11-21 15:30 UTC, i.e. 10:30 in New York.
      assert.deepEqual(formatted.data.values, [
        ["5.5", "11", "n: apple", "#NAME?", "#DIV/0!", "11/21/2026 10:30:00", "x"],
      ]);
      const formulas = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!E1:F1",
        valueRenderOption: "FORMULA",
      });
      assert.deepEqual(formulas.data.values, [["=C2+C3", "=SUM(C2:C3)*2"]]);
      // Formulas follow their inputs.
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!C2",
        valueInputOption: "RAW",
        requestBody: { values: [[10]] },
      });
      const after = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!E1",
        valueRenderOption: "UNFORMATTED_VALUE",
      });
      assert.deepEqual(after.data.values, [[12.5]]);
    });

    it("turns date strings into serials in the sheet's zone and renders them back", async () => {
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!A20:D20",
        valueInputOption: "USER_ENTERED",
        requestBody: {
          values: [["2026-11-21", "2026-11-21 10:30:00", "2026-11-21 10:30:00.123", "11/21/2026"]],
        },
      });
      const range = "Sheet1!A20:D20";
      const serials = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range,
        valueRenderOption: "UNFORMATTED_VALUE",
      });
      const v = serials.data.values?.[0] ?? [];
      assert.equal(v[0], 46347);
      assert.equal(v[1], 46347.4375);
      assert.ok(Math.abs((v[2] as number) - (46347.4375 + 0.123 / 86400)) < 1e-9);
      assert.equal(v[3], 46347);
      const text = await h.api.spreadsheets.values.get({ spreadsheetId: ID, range });
      assert.deepEqual(text.data.values, [
        ["2026-11-21", "2026-11-21 10:30:00", "2026-11-21 10:30:00.123", "11/21/2026"],
      ]);
      const strings = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range,
        valueRenderOption: "UNFORMATTED_VALUE",
        dateTimeRenderOption: "FORMATTED_STRING",
      });
      assert.deepEqual(strings.data.values, text.data.values);
    });

    it("seeds Date objects as wall time in the sheet's zone", async () => {
      h.running.emulator.seed("tz", {
        timeZone: "America/New_York",
        sheets: [
          {
            title: "S",
            rows: [[new Date("2026-11-21T15:30:00Z"), new Date("2026-11-21T05:00:00Z")]],
          },
        ],
      });
      const { data } = await h.api.spreadsheets.values.batchGet({
        spreadsheetId: "tz",
        ranges: ["S!A1:B1"],
        valueRenderOption: "UNFORMATTED_VALUE",
      });
      assert.deepEqual(data.valueRanges?.[0]?.values, [[46347.4375, 46347]]);
      const snap = h.running.emulator.snapshot("tz");
      assert.deepEqual(snap?.sheets[0]?.formatted, [["2026-11-21 10:30:00", "2026-11-21"]]);
    });

    it("keeps a cell's date format when a plain number replaces the date (as Sheets does)", async () => {
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!A30",
        valueInputOption: "USER_ENTERED",
        requestBody: { values: [["2026-11-21"]] },
      });
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!A30",
        valueInputOption: "RAW",
        requestBody: { values: [[46348]] },
      });
      const { data } = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!A30",
      });
      assert.deepEqual(data.values, [["2026-11-22"]]);
    });
  });

  describe("values.update / batchUpdate", () => {
    it("reports what was written, with updatedData on request", async () => {
      const { data } = await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "'My Sheet'!B2",
        valueInputOption: "USER_ENTERED",
        includeValuesInResponse: true,
        responseValueRenderOption: "UNFORMATTED_VALUE",
        requestBody: { values: [[1, 2], ["3"]] },
      });
      assert.deepEqual(data, {
        spreadsheetId: ID,
        updatedRange: "'My Sheet'!B2:C3",
        updatedRows: 2,
        updatedColumns: 2,
        updatedCells: 3,
        updatedData: { range: "'My Sheet'!B2:C3", majorDimension: "ROWS", values: [[1, 2], [3]] },
      });
    });

    it("writes by COLUMNS", async () => {
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!E1:F3",
        valueInputOption: "RAW",
        requestBody: {
          majorDimension: "COLUMNS",
          values: [
            ["a", "b", "c"],
            [1, 2],
          ],
        },
      });
      const { data } = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!E1:F3",
      });
      assert.deepEqual(data.values, [["a", "1"], ["b", "2"], ["c"]]);
    });

    it("null leaves a cell alone and empty string clears it", async () => {
      const { data } = await h.api.spreadsheets.values.batchUpdate({
        spreadsheetId: ID,
        requestBody: {
          valueInputOption: "RAW",
          data: [
            { range: "Sheet1!A2:C2", values: [[null, "", "kiwi"]] },
            { range: "'My Sheet'!A1", values: [["y"]] },
          ],
        },
      });
      assert.equal(data.totalUpdatedCells, 3);
      assert.equal(data.totalUpdatedSheets, 2);
      assert.equal(data.totalUpdatedRows, 2);
      assert.equal(data.responses?.length, 2);
      assert.equal(data.responses?.[0]?.updatedRange, "Sheet1!A2:C2");
      const { data: read } = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!A2:C2",
      });
      assert.deepEqual(read.values, [["r1", "", "kiwi"]]);
    });

    it("is atomic: one bad range leaves every range untouched", async () => {
      const err = await failure(
        h.api.spreadsheets.values.batchUpdate({
          spreadsheetId: ID,
          requestBody: {
            valueInputOption: "RAW",
            data: [
              { range: "Sheet1!A2", values: [["changed"]] },
              { range: "Missing!A1", values: [["x"]] },
            ],
          },
        }),
      );
      assert.equal(err.message, "Unable to parse range: Missing!A1");
      const { data } = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!A2",
      });
      assert.deepEqual(data.values, [["r1"]]);
    });

    it("refuses data larger than a bounded range, or beyond the grid", async () => {
      const tooWide = await failure(
        h.api.spreadsheets.values.update({
          spreadsheetId: ID,
          range: "Sheet1!A1:B2",
          valueInputOption: "RAW",
          requestBody: { values: [[1, 2, 3]] },
        }),
      );
      assert.equal(
        tooWide.message,
        "Requested writing within range [Sheet1!A1:B2], but tried writing to column [C]",
      );
      const beyond = await failure(
        h.api.spreadsheets.values.update({
          spreadsheetId: ID,
          range: "Sheet1!A1000",
          valueInputOption: "RAW",
          requestBody: { values: [[1], [2]] },
        }),
      );
      assert.equal(
        beyond.message,
        "Range ('Sheet1'!A1000:A1001) exceeds grid limits. Max rows: 1000, max columns: 26",
      );
    });

    it("requires valueInputOption and validates enums", async () => {
      const missing = await failure(
        h.api.spreadsheets.values.update({
          spreadsheetId: ID,
          range: "A1",
          requestBody: { values: [[1]] },
        }),
      );
      assert.equal(missing.message, "'valueInputOption' is required but not specified");
      const bad = await failure(
        h.api.spreadsheets.values.get({
          spreadsheetId: ID,
          range: "A1",
          valueRenderOption: "PRETTY",
        }),
      );
      assert.equal(
        bad.message,
        `Invalid value at 'value_render_option' (type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), "PRETTY"`,
      );
      const batch = await failure(
        h.api.spreadsheets.values.batchUpdate({ spreadsheetId: ID, requestBody: { data: [] } }),
      );
      assert.equal(batch.message, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED");
    });
  });

  describe("values.append", () => {
    beforeEach(async () => {
      // A table at A1:C3, a gap, and a footer row that INSERT_ROWS must push down.
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!A5",
        valueInputOption: "RAW",
        requestBody: { values: [["footer"]] },
      });
    });

    it("INSERT_ROWS writes after the table and shifts the rows below", async () => {
      const { data } = await h.api.spreadsheets.values.append({
        spreadsheetId: ID,
        range: "Sheet1!A1",
        valueInputOption: "USER_ENTERED",
        insertDataOption: "INSERT_ROWS",
        requestBody: {
          values: [
            ["r3", "plum", "4"],
            ["r4", "fig", "5"],
          ],
        },
      });
      assert.deepEqual(data, {
        spreadsheetId: ID,
        tableRange: "Sheet1!A1:C3",
        updates: {
          spreadsheetId: ID,
          updatedRange: "Sheet1!A4:C5",
          updatedRows: 2,
          updatedColumns: 3,
          updatedCells: 6,
        },
      });
      const read = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!A1:C8",
        valueRenderOption: "UNFORMATTED_VALUE",
      });
      assert.deepEqual(read.data.values, [
        ["id", "name", "qty"],
        ["r1", "apple", 3],
        ["r2", "pear", 2.5],
        ["r3", "plum", 4],
        ["r4", "fig", 5],
        [],
        ["footer"],
      ]);
      const meta = await h.api.spreadsheets.get({
        spreadsheetId: ID,
        fields: "sheets.properties.gridProperties",
      });
      assert.equal(meta.data.sheets?.[0]?.properties?.gridProperties?.rowCount, 1002);
    });

    it("INSERT_ROWS moves the references of formulas below along with their rows", async () => {
      await h.api.spreadsheets.values.update({
        spreadsheetId: ID,
        range: "Sheet1!B5",
        valueInputOption: "USER_ENTERED",
        requestBody: { values: [['=A5&"!"']] },
      });
      await h.api.spreadsheets.values.append({
        spreadsheetId: ID,
        range: "Sheet1!A1",
        valueInputOption: "RAW",
        insertDataOption: "INSERT_ROWS",
        requestBody: { values: [["r3", "plum", 4]] },
      });
      const read = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!A6:B6",
        valueRenderOption: "FORMULA",
      });
      assert.deepEqual(read.data.values, [["footer", '=A6&"!"']]);
    });

    it("OVERWRITE writes into the rows after the table without shifting", async () => {
      const { data } = await h.api.spreadsheets.values.append({
        spreadsheetId: ID,
        range: "Sheet1!A:C",
        valueInputOption: "RAW",
        requestBody: { values: [["r3"], ["r4"]] },
      });
      assert.equal(data.tableRange, "Sheet1!A1:C3");
      assert.equal(data.updates?.updatedRange, "Sheet1!A4:A5");
      const read = await h.api.spreadsheets.values.get({
        spreadsheetId: ID,
        range: "Sheet1!A4:A6",
      });
      assert.deepEqual(read.data.values, [["r3"], ["r4"]]);
    });

    it("writes at the start of an empty range and grows the grid at the bottom", async () => {
      const first = await h.api.spreadsheets.values.append({
        spreadsheetId: ID,
        range: "'It''s'!B2",
        valueInputOption: "RAW",
        requestBody: { values: [["a"]] },
      });
      assert.equal(first.data.tableRange, undefined);
      assert.equal(first.data.updates?.updatedRange, "'It''s'!B2");
      h.running.emulator.seed("small", {
        sheets: [{ title: "S", rowCount: 2, columnCount: 2, rows: [["a"], ["b"]] }],
      });
      const grown = await h.api.spreadsheets.values.append({
        spreadsheetId: "small",
        range: "S",
        valueInputOption: "RAW",
        requestBody: { values: [["c", "d", "e"]] },
      });
      assert.equal(grown.data.updates?.updatedRange, "S!A3:C3");
      assert.deepEqual(h.running.emulator.snapshot("small")?.sheets[0]?.values, [
        ["a"],
        ["b"],
        ["c", "d", "e"],
      ]);
    });
  });

  describe("values.clear / batchClear", () => {
    it("clears values and reports the clipped ranges", async () => {
      const one = await h.api.spreadsheets.values.clear({
        spreadsheetId: ID,
        range: "Sheet1!C:C",
        requestBody: {},
      });
      assert.deepEqual(one.data, { spreadsheetId: ID, clearedRange: "Sheet1!C1:C1000" });
      const many = await h.api.spreadsheets.values.batchClear({
        spreadsheetId: ID,
        requestBody: { ranges: ["Sheet1!A3:B3", "'My Sheet'"] },
      });
      assert.deepEqual(many.data.clearedRanges, ["Sheet1!A3:B3", "'My Sheet'!A1:Z1000"]);
      const snap = h.running.emulator.snapshot(ID);
      assert.deepEqual(snap?.sheets[0]?.values, [
        ["id", "name"],
        ["r1", "apple"],
      ]);
      assert.deepEqual(snap?.sheets[1]?.values, []);
    });
  });
});
