import { strict as assert } from "node:assert";
import { failure, startHarness, type Harness } from "./helpers.js";

const ID = "dims";
const rows = Array.from({ length: 10 }, (_, i) => [`r${i + 1}`, i + 1]);

describe("spreadsheets.batchUpdate (real client)", () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.running.close();
  });
  beforeEach(() => {
    h.running.emulator.reset();
    h.running.emulator.seed(ID, { sheets: [{ title: "Data", sheetId: 42, rows }] });
  });

  const column = async () =>
    (
      await h.api.spreadsheets.values.get({ spreadsheetId: ID, range: "Data!A:A" })
    ).data.values?.map((r) => r[0]);

  it("deletes several row ranges bottom-up in one batch", async () => {
    const ranges = [
      [1, 3],
      [5, 6],
      [8, 9],
    ].reverse();
    const { data } = await h.api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: {
        requests: ranges.map(([startIndex, endIndex]) => ({
          deleteDimension: { range: { sheetId: 42, dimension: "ROWS", startIndex, endIndex } },
        })),
      },
    });
    assert.deepEqual(data, { spreadsheetId: ID, replies: [{}, {}, {}] });
    assert.deepEqual(await column(), ["r1", "r4", "r5", "r7", "r8", "r10"]);
    const meta = await h.api.spreadsheets.get({ spreadsheetId: ID });
    assert.equal(meta.data.sheets?.[0]?.properties?.gridProperties?.rowCount, 996);
  });

  it("inserts rows and columns and appends dimensions", async () => {
    await h.api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: {
        requests: [
          {
            insertDimension: {
              range: { sheetId: 42, dimension: "ROWS", startIndex: 1, endIndex: 3 },
              inheritFromBefore: true,
            },
          },
          {
            insertDimension: {
              range: { sheetId: 42, dimension: "COLUMNS", startIndex: 0, endIndex: 1 },
            },
          },
          { appendDimension: { sheetId: 42, dimension: "ROWS", length: 5 } },
        ],
      },
    });
    const { data } = await h.api.spreadsheets.values.get({
      spreadsheetId: ID,
      range: "Data!A1:C4",
    });
    assert.deepEqual(data.values, [["", "r1", "1"], [], [], ["", "r2", "2"]]);
    const meta = await h.api.spreadsheets.get({ spreadsheetId: ID });
    assert.deepEqual(meta.data.sheets?.[0]?.properties?.gridProperties, {
      rowCount: 1007,
      columnCount: 27,
    });
  });

  it("is all-or-nothing and names the failing request", async () => {
    const err = await failure(
      h.api.spreadsheets.batchUpdate({
        spreadsheetId: ID,
        requestBody: {
          requests: [
            {
              deleteDimension: {
                range: { sheetId: 42, dimension: "ROWS", startIndex: 0, endIndex: 2 },
              },
            },
            {
              deleteDimension: {
                range: { sheetId: 9, dimension: "ROWS", startIndex: 0, endIndex: 1 },
              },
            },
          ],
        },
      }),
    );
    assert.equal(err.status, 400);
    assert.equal(err.message, "Invalid requests[1].deleteDimension: No grid with id: 9");
    assert.equal((await column())?.length, 10);
  });

  it("rejects unknown and unsupported request kinds", async () => {
    const unknown = await failure(
      h.api.spreadsheets.batchUpdate({
        spreadsheetId: ID,
        requestBody: { requests: [{ deleteRows: {} } as never] },
      }),
    );
    assert.equal(unknown.status, 400);
    assert.equal(
      unknown.message,
      `Invalid JSON payload received. Unknown name "deleteRows" at 'requests[0]': Cannot find field.`,
    );
    const unsupported = await failure(
      h.api.spreadsheets.batchUpdate({
        spreadsheetId: ID,
        requestBody: { requests: [{ repeatCell: {} }] },
      }),
    );
    assert.match(unsupported.message, /not supported by the emulator/);
  });

  it("refuses to delete every row", async () => {
    const err = await failure(
      h.api.spreadsheets.batchUpdate({
        spreadsheetId: ID,
        requestBody: {
          requests: [{ deleteDimension: { range: { sheetId: 42, dimension: "ROWS" } } }],
        },
      }),
    );
    assert.equal(
      err.message,
      "Invalid requests[0].deleteDimension: You can't delete all the rows on the sheet.",
    );
  });

  it("adds and deletes sheets", async () => {
    const { data } = await h.api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: { requests: [{ addSheet: { properties: { title: "Log" } } }] },
    });
    const added = data.replies?.[0]?.addSheet?.properties;
    assert.equal(added?.title, "Log");
    assert.equal(added?.index, 1);
    assert.equal(typeof added?.sheetId, "number");
    await h.api.spreadsheets.batchUpdate({
      spreadsheetId: ID,
      requestBody: { requests: [{ deleteSheet: { sheetId: added?.sheetId ?? -1 } }] },
    });
    const meta = await h.api.spreadsheets.get({
      spreadsheetId: ID,
      fields: "sheets.properties.title",
    });
    assert.deepEqual(meta.data.sheets, [{ properties: { title: "Data" } }]);
  });
});
