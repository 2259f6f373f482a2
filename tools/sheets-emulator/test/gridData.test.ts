// Contract tests: spreadsheets.get with grid data (ranges, includeGridData, fields), read with
// the real @googleapis/sheets client over HTTP.

import { strict as assert } from "node:assert";
import { failure, startHarness, type Harness } from "./helpers.js";

const ID = "grid-1";
const DATE = { type: "DATE", pattern: "yyyy-mm-dd" };
// 2026-11-20 as a serial: days since 1899-12-30.
const NOV_20 = 46346;

const CELLS =
  "userEnteredValue,effectiveValue,formattedValue,userEnteredFormat(numberFormat),effectiveFormat(numberFormat)";
const GRID_FIELDS = `sheets(properties(sheetId,title),data(startRow,startColumn,rowData(values(${CELLS}))))`;

describe("spreadsheets.get with grid data (real client)", () => {
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
      title: "Grid",
      timeZone: "Europe/Berlin",
      sheets: [
        {
          title: "Sheet1",
          rows: [["id", "qty", "due", "gap", "flag", "code", "text", "double", "ratio"]],
        },
        { title: "Other", sheetId: 5, rows: [["o1", 1], [], ["o3"]] },
      ],
    });
  });

  const writeRow = (range: string, row: unknown[]) =>
    h.api.spreadsheets.values.update({
      spreadsheetId: ID,
      range,
      valueInputOption: "USER_ENTERED",
      requestBody: { values: [row] },
    });

  it("tells formulas, text that looks like one, numbers, dates, booleans and errors apart", async () => {
    await writeRow("Sheet1!A2", [
      "r1",
      "21",
      "2026-11-20",
      "",
      "TRUE",
      "'0042",
      "'=1+1",
      "=B2*2",
      "=B2/0",
    ]);
    const { data } = await h.api.spreadsheets.get({
      spreadsheetId: ID,
      ranges: ["Sheet1!A2:I9", "Sheet1!A20:I20"],
      includeGridData: true,
      fields: GRID_FIELDS,
    });
    const text = (s: string) => ({
      userEnteredValue: { stringValue: s },
      effectiveValue: { stringValue: s },
      formattedValue: s,
    });
    assert.deepEqual(data, {
      sheets: [
        {
          properties: { sheetId: 0, title: "Sheet1" },
          data: [
            {
              startRow: 1,
              rowData: [
                {
                  values: [
                    text("r1"),
                    {
                      userEnteredValue: { numberValue: 21 },
                      effectiveValue: { numberValue: 21 },
                      formattedValue: "21",
                    },
                    {
                      userEnteredValue: { numberValue: NOV_20 },
                      effectiveValue: { numberValue: NOV_20 },
                      formattedValue: "2026-11-20",
                      userEnteredFormat: { numberFormat: DATE },
                      effectiveFormat: { numberFormat: DATE },
                    },
                    {},
                    {
                      userEnteredValue: { boolValue: true },
                      effectiveValue: { boolValue: true },
                      formattedValue: "TRUE",
                    },
                    // The leading apostrophe is not part of the value (ExtendedValue docs).
                    text("0042"),
                    text("=1+1"),
                    {
                      userEnteredValue: { formulaValue: "=B2*2" },
                      effectiveValue: { numberValue: 42 },
                      formattedValue: "42",
                    },
                    {
                      userEnteredValue: { formulaValue: "=B2/0" },
                      effectiveValue: {
                        errorValue: {
                          type: "DIVIDE_BY_ZERO",
                          message: "Function DIVIDE parameter 2 cannot be zero.",
                        },
                      },
                      formattedValue: "#DIV/0!",
                    },
                  ],
                },
              ],
            },
            // An empty range still gets its GridData, with no rowData.
            { startRow: 19 },
          ],
        },
      ],
    });
  });

  it("returns only what the fields mask names", async () => {
    await writeRow("Sheet1!A2", ["r1", "7", "2026-11-20", "=B2*2"]);
    const { data } = await h.api.spreadsheets.get({
      spreadsheetId: ID,
      ranges: ["Sheet1!A2:F9"],
      includeGridData: true,
      fields:
        "sheets(properties(sheetId,title),data(startRow,startColumn,rowData(values(userEnteredValue,effectiveValue,effectiveFormat(numberFormat(type))))))",
    });
    assert.deepEqual(data, {
      sheets: [
        {
          properties: { sheetId: 0, title: "Sheet1" },
          data: [
            {
              startRow: 1,
              rowData: [
                {
                  values: [
                    {
                      userEnteredValue: { stringValue: "r1" },
                      effectiveValue: { stringValue: "r1" },
                    },
                    { userEnteredValue: { numberValue: 7 }, effectiveValue: { numberValue: 7 } },
                    {
                      userEnteredValue: { numberValue: NOV_20 },
                      effectiveValue: { numberValue: NOV_20 },
                      effectiveFormat: { numberFormat: { type: "DATE" } },
                    },
                    {
                      userEnteredValue: { formulaValue: "=B2*2" },
                      effectiveValue: { numberValue: 14 },
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it("without a mask returns the whole resource, only the sheets the ranges name", async () => {
    await writeRow("Sheet1!A2", ["r1", "3"]);
    const { data } = await h.api.spreadsheets.get({
      spreadsheetId: ID,
      ranges: ["Sheet1!B2:C3"],
      includeGridData: true,
    });
    assert.equal(data.spreadsheetId, ID);
    assert.equal(data.properties?.title, "Grid");
    assert.deepEqual(data.sheets, [
      {
        properties: {
          sheetId: 0,
          title: "Sheet1",
          index: 0,
          sheetType: "GRID",
          gridProperties: { rowCount: 1000, columnCount: 26 },
        },
        data: [
          {
            startRow: 1,
            startColumn: 1,
            rowData: [
              {
                values: [
                  {
                    userEnteredValue: { numberValue: 3 },
                    effectiveValue: { numberValue: 3 },
                    formattedValue: "3",
                  },
                ],
              },
            ],
            rowMetadata: [{ pixelSize: 21 }, { pixelSize: 21 }],
            columnMetadata: [{ pixelSize: 100 }, { pixelSize: 100 }],
          },
        ],
      },
    ]);
    // ranges without grid data: the named sheets' properties only.
    const plain = await h.api.spreadsheets.get({ spreadsheetId: ID, ranges: ["Other!A1"] });
    assert.deepEqual(
      plain.data.sheets?.map((s) => [s.properties?.title, s.data]),
      [["Other", undefined]],
    );
  });

  it("gives one GridData per range, in request order, sheets in spreadsheet order", async () => {
    const { data } = await h.api.spreadsheets.get({
      spreadsheetId: ID,
      ranges: ["Other!A1:B3", "Sheet1!B1:C1", "Sheet1!A1"],
      fields: "sheets(properties.title,data(startRow,startColumn,rowData.values.formattedValue))",
    });
    const cells = (...v: string[]) => ({ values: v.map((formattedValue) => ({ formattedValue })) });
    assert.deepEqual(data, {
      sheets: [
        {
          properties: { title: "Sheet1" },
          data: [{ startColumn: 1, rowData: [cells("qty", "due")] }, { rowData: [cells("id")] }],
        },
        {
          properties: { title: "Other" },
          // The empty row between two filled ones is {}.
          data: [{ rowData: [cells("o1", "1"), {}, cells("o3")] }],
        },
      ],
    });
  });

  it("lets the fields mask, not includeGridData, decide whether grid data comes back", async () => {
    const withMask = await h.api.spreadsheets.get({
      spreadsheetId: ID,
      ranges: ["Sheet1!A1"],
      includeGridData: false,
      fields: "sheets.data.rowData.values.formattedValue",
    });
    assert.deepEqual(withMask.data, {
      sheets: [{ data: [{ rowData: [{ values: [{ formattedValue: "id" }] }] }] }],
    });
    const noData = await h.api.spreadsheets.get({
      spreadsheetId: ID,
      includeGridData: true,
      fields: "sheets.properties.title",
    });
    assert.deepEqual(noData.data, {
      sheets: [{ properties: { title: "Sheet1" } }, { properties: { title: "Other" } }],
    });
  });

  it("without ranges returns every sheet's whole grid", async () => {
    const { data } = await h.api.spreadsheets.get({ spreadsheetId: ID, includeGridData: true });
    assert.deepEqual(
      data.sheets?.map((s) => [
        s.properties?.title,
        s.data?.length,
        s.data?.[0]?.startRow,
        s.data?.[0]?.rowData?.length,
        s.data?.[0]?.rowMetadata?.length,
        s.data?.[0]?.columnMetadata?.length,
      ]),
      [
        ["Sheet1", 1, undefined, 1, 1000, 26],
        ["Other", 1, undefined, 3, 1000, 26],
      ],
    );
  });

  it("scans only the used part of a whole-column range, trimming trailing empties", async () => {
    h.running.emulator.seed("big", {
      sheets: [
        {
          title: "Sheet1",
          rowCount: 200_000,
          columnCount: 30,
          rows: [["h"], ["a", "", "c", ""], [], ["d", "", ""], ["", "", "", ""]],
        },
      ],
    });
    const started = Date.now();
    const { data } = await h.api.spreadsheets.get({
      spreadsheetId: "big",
      ranges: ["Sheet1!A2:F"],
      fields: "sheets.data(startRow,rowData.values.formattedValue)",
    });
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual(data.sheets?.[0]?.data, [
      {
        startRow: 1,
        rowData: [
          { values: [{ formattedValue: "a" }, {}, { formattedValue: "c" }] },
          {},
          { values: [{ formattedValue: "d" }] },
        ],
      },
    ]);
  });

  it("names each error's type, and formulas' computed formats", async () => {
    await writeRow("Sheet1!A2", ["x"]);
    await writeRow("Sheet1!A3", ["=A2", "=A2*2", "5%"]);
    // Deleting row 2 leaves A3's reference to it as #REF!.
    await h.api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: {
        requests: [
          {
            deleteDimension: {
              range: { sheetId: 0, dimension: "ROWS", startIndex: 1, endIndex: 2 },
            },
          },
        ],
      },
    });
    await writeRow("Sheet1!A3", ["=FOO(1)", '="a"*2', "=1+", "=Nope!A1", "=E3", "=NOW()"]);
    const { data } = await h.api.spreadsheets.get({
      spreadsheetId: ID,
      ranges: ["Sheet1!A2:F3"],
      fields: "sheets.data.rowData.values(effectiveValue,formattedValue,effectiveFormat)",
    });
    const [row2, row3] = data.sheets?.[0]?.data?.[0]?.rowData ?? [];
    const error = (type: string, message: string, formattedValue: string) => ({
      effectiveValue: { errorValue: { type, message } },
      formattedValue,
    });
    assert.deepEqual(row2?.values?.slice(0, 3), [
      error("REF", "Reference does not exist.", "#REF!"),
      error("REF", "Reference does not exist.", "#REF!"),
      {
        effectiveValue: { numberValue: 0.05 },
        formattedValue: "5%",
        effectiveFormat: { numberFormat: { type: "PERCENT", pattern: "0%" } },
      },
    ]);
    assert.deepEqual(row3?.values, [
      error("NAME", "Unknown function: 'FOO'.", "#NAME?"),
      error(
        "VALUE",
        "Function MULTIPLY parameter 1 expects number values. But 'a' is a text and cannot be coerced to a number.",
        "#VALUE!",
      ),
      error("ERROR", "Formula parse error.", "#ERROR!"),
      error("REF", "Unresolved sheet name 'Nope'.", "#REF!"),
      error(
        "REF",
        "Circular dependency detected. To resolve with iterative calculation, see File > Settings.",
        "#REF!",
      ),
      {
        // 2026-11-21 16:30 in Berlin: the harness clock.
        effectiveValue: { numberValue: NOV_20 + 1 + 16.5 / 24 },
        formattedValue: "11/21/2026 16:30:00",
        effectiveFormat: { numberFormat: { type: "DATE_TIME", pattern: "m/d/yyyy h:mm:ss" } },
      },
    ]);
  });

  it("rejects bad ranges like values.batchGet", async () => {
    for (const range of ["Nope!A1", "Sheet1!A1:B2:C3"]) {
      const err = await failure(
        h.api.spreadsheets.get({
          spreadsheetId: ID,
          ranges: ["Sheet1!A1", range],
          includeGridData: true,
        }),
      );
      assert.equal(err.status, 400);
      assert.equal(err.message, `Unable to parse range: ${range}`);
    }
    const outside = await failure(
      h.api.spreadsheets.get({ spreadsheetId: ID, ranges: ["Other!A1001"], includeGridData: true }),
    );
    assert.equal(
      outside.message,
      "Range ('Other'!A1001) exceeds grid limits. Max rows: 1000, max columns: 26",
    );
  });

  it("is one read request, subject to quota and injected faults", async () => {
    const emulator = h.running.emulator;
    emulator.injectFaults([{ status: 503, count: 1, methods: ["spreadsheets.get"] }]);
    const get = () =>
      h.api.spreadsheets.get({
        spreadsheetId: ID,
        ranges: ["Sheet1!A1:B2", "Other!A1:B2"],
        includeGridData: true,
      });
    assert.equal((await failure(get())).status, 503);
    await get();
    const stats = emulator.stats();
    assert.equal(stats.byMethod["spreadsheets.get"], 2);
    assert.equal(stats.reads, 1);
    assert.equal(stats.rejected, 1);
  });
});
