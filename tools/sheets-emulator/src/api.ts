// The Sheets API v4 operations on the in-memory model, returning Google's response shapes.
// HTTP concerns (routing, query parsing, quotas, faults) live in http.ts and emulator.ts.

import { columnToLetters, formatRange, type GridBox } from "./a1.js";
import { gridData, wholeGrid } from "./gridData.js";
import { gridError, invalid, Sheet, type Spreadsheet } from "./model.js";
import { deletedRowsMap, insertedRowsMap, remapFormulas } from "./rows.js";
import {
  applyInput,
  parseInput,
  renderCell,
  type Input,
  type RenderOptions,
  type ValueInputOption,
} from "./values.js";

export type Dimension = "ROWS" | "COLUMNS";

export interface ReadOptions extends RenderOptions {
  majorDimension: Dimension;
}

export interface ValueRange {
  range: string;
  majorDimension: Dimension;
  values?: unknown[][];
}

function renderBox(ss: Spreadsheet, sheet: Sheet, box: GridBox, opts: ReadOptions): unknown[][] {
  const byRows = opts.majorDimension === "ROWS";
  const outer = byRows ? [box.startRow, box.endRow] : [box.startCol, box.endCol];
  const inner = byRows ? [box.startCol, box.endCol] : [box.startRow, box.endRow];
  // Only scan where data can be: the used part of the sheet.
  const usedRows = sheet.rows.length;
  const usedCols = sheet.rows.reduce((m, row) => Math.max(m, row?.length ?? 0), 0);
  const outerEnd = Math.min(outer[1] ?? 0, byRows ? usedRows : usedCols);
  const innerEnd = Math.min(inner[1] ?? 0, byRows ? usedCols : usedRows);
  const lines: unknown[][] = [];
  for (let o = outer[0] ?? 0; o < outerEnd; o += 1) {
    const line: unknown[] = [];
    let lastFilled = -1;
    for (let i = inner[0] ?? 0; i < innerEnd; i += 1) {
      const [r, c] = byRows ? [o, i] : [i, o];
      const cell = sheet.get(r, c);
      const eff = cell ? ss.effective(sheet, r, c) : null;
      if (!cell || !eff) {
        line.push("");
        continue;
      }
      line.push(renderCell(cell, eff, opts));
      lastFilled = line.length - 1;
    }
    // Google trims trailing empty cells of each row and trailing empty rows.
    lines.push(line.slice(0, lastFilled + 1));
  }
  while (lines.length > 0 && (lines[lines.length - 1]?.length ?? 0) === 0) lines.pop();
  return lines;
}

export function readRange(ss: Spreadsheet, text: string, opts: ReadOptions): ValueRange {
  const resolved = ss.resolve(text);
  const box = ss.clip(resolved);
  return readBox(ss, resolved.sheet, box, opts);
}

function readBox(ss: Spreadsheet, sheet: Sheet, box: GridBox, opts: ReadOptions): ValueRange {
  const values = renderBox(ss, sheet, box, opts);
  const out: ValueRange = {
    range: formatRange(sheet.title, box),
    majorDimension: opts.majorDimension,
  };
  if (values.length > 0) out.values = values;
  return out;
}

export interface WriteInput {
  range: string;
  values: unknown;
  majorDimension?: unknown;
}

export interface ResponseOptions {
  includeValuesInResponse: boolean;
  render: RenderOptions;
}

interface PlannedWrite {
  sheet: Sheet;
  /** Where the values land. */
  box: GridBox;
  cells: { r: number; c: number; input: Input }[];
}

export interface UpdateValuesResponse {
  spreadsheetId: string;
  updatedRange: string;
  updatedRows: number;
  updatedColumns: number;
  updatedCells: number;
  updatedData?: ValueRange;
}

function dimensionOf(raw: unknown, where: string): Dimension {
  if (raw === undefined || raw === null || raw === "ROWS") return "ROWS";
  if (raw === "COLUMNS") return "COLUMNS";
  if (raw === "DIMENSION_UNSPECIFIED") return "ROWS";
  throw invalid(
    `Invalid value at '${where}' (type.googleapis.com/google.apps.sheets.v4.Dimension), ${JSON.stringify(raw)}`,
  );
}

/** Turns a values array into cell writes anchored at (row, col); validates every entry. */
function layout(
  ss: Spreadsheet,
  values: unknown,
  major: Dimension,
  option: ValueInputOption,
  anchor: { row: number; col: number },
  where: string,
): { cells: PlannedWrite["cells"]; rows: number; cols: number } {
  if (values === undefined || values === null) return { cells: [], rows: 0, cols: 0 };
  if (!Array.isArray(values)) throw invalid(`Invalid ${where}: values must be a list of lists`);
  const cells: PlannedWrite["cells"] = [];
  let rows = 0;
  let cols = 0;
  values.forEach((line: unknown, i) => {
    if (!Array.isArray(line)) {
      throw invalid(
        `Invalid ${where}values[${i}]: ${typeof line === "object" ? "struct_value" : "list_value expected"}`,
      );
    }
    line.forEach((raw: unknown, j) => {
      let input: Input;
      try {
        input = parseInput(raw, option, { timeZone: ss.timeZone });
      } catch (e) {
        throw invalid(`Invalid ${where}values[${i}][${j}]: ${(e as Error).message}`);
      }
      const [dr, dc] = major === "ROWS" ? [i, j] : [j, i];
      rows = Math.max(rows, dr + 1);
      cols = Math.max(cols, dc + 1);
      cells.push({ r: anchor.row + dr, c: anchor.col + dc, input });
    });
  });
  return { cells, rows, cols };
}

/** Plans a values.update of one range without touching the sheet (so batches stay atomic). */
function planUpdate(
  ss: Spreadsheet,
  write: WriteInput,
  option: ValueInputOption,
  where: string,
): PlannedWrite {
  if (typeof write.range !== "string" || write.range === "") {
    throw invalid(`Invalid ${where}range: must be specified`);
  }
  const { sheet, box } = ss.resolve(write.range);
  const major = dimensionOf(write.majorDimension, `${where}major_dimension`);
  const { cells, rows, cols } = layout(
    ss,
    write.values,
    major,
    option,
    { row: box.startRow, col: box.startCol },
    where,
  );
  const written: GridBox = {
    startRow: box.startRow,
    endRow: box.startRow + rows,
    startCol: box.startCol,
    endCol: box.startCol + cols,
  };
  // A single cell is only an anchor; a wider range bounds what may be written.
  const anchorOnly = box.endRow - box.startRow === 1 && box.endCol - box.startCol === 1;
  if (!anchorOnly && rows > 0) {
    const requested = formatRange(sheet.title, box);
    if (written.endRow > box.endRow) {
      throw invalid(
        `Requested writing within range [${requested}], but tried writing to row [${box.endRow + 1}]`,
      );
    }
    if (written.endCol > box.endCol) {
      throw invalid(
        `Requested writing within range [${requested}], but tried writing to column [${columnToLetters(box.endCol)}]`,
      );
    }
  }
  if (box.startRow >= sheet.rowCount || box.startCol >= sheet.columnCount)
    throw gridError(sheet, box);
  if (written.endRow > sheet.rowCount || written.endCol > sheet.columnCount) {
    throw gridError(sheet, written);
  }
  return { sheet, box: written, cells };
}

function applyPlan(plan: PlannedWrite): void {
  for (const { r, c, input } of plan.cells) {
    plan.sheet.set(r, c, applyInput(plan.sheet.get(r, c), input));
  }
}

function updateResponse(
  ss: Spreadsheet,
  plan: PlannedWrite,
  resp: ResponseOptions,
): UpdateValuesResponse {
  const written = plan.cells.filter((c) => c.input.kind !== "skip");
  const rows = new Set(written.map((c) => c.r));
  const cols = new Set(written.map((c) => c.c));
  const out: UpdateValuesResponse = {
    spreadsheetId: ss.spreadsheetId,
    updatedRange: formatRange(plan.sheet.title, plan.box),
    updatedRows: rows.size,
    updatedColumns: cols.size,
    updatedCells: written.length,
  };
  if (resp.includeValuesInResponse) {
    out.updatedData = readBox(ss, plan.sheet, plan.box, { ...resp.render, majorDimension: "ROWS" });
  }
  return out;
}

export function updateValues(
  ss: Spreadsheet,
  write: WriteInput,
  option: ValueInputOption,
  resp: ResponseOptions,
): UpdateValuesResponse | { spreadsheetId: string } {
  const plan = planUpdate(ss, write, option, "");
  if (plan.cells.length === 0) return { spreadsheetId: ss.spreadsheetId };
  applyPlan(plan);
  return updateResponse(ss, plan, resp);
}

export function batchUpdateValues(
  ss: Spreadsheet,
  data: WriteInput[],
  option: ValueInputOption,
  resp: ResponseOptions,
) {
  // Validate everything first: Google applies all of a batch or none of it.
  const plans = data.map((d, i) => planUpdate(ss, d, option, `data[${i}].`));
  plans.forEach(applyPlan);
  const responses = plans.filter((p) => p.cells.length > 0).map((p) => updateResponse(ss, p, resp));
  const key = (sheet: Sheet, n: number) => `${sheet.sheetId}:${n}`;
  const rows = new Set<string>();
  const cols = new Set<string>();
  const sheets = new Set<number>();
  let cells = 0;
  for (const p of plans) {
    for (const c of p.cells) {
      if (c.input.kind === "skip") continue;
      rows.add(key(p.sheet, c.r));
      cols.add(key(p.sheet, c.c));
      sheets.add(p.sheet.sheetId);
      cells += 1;
    }
  }
  return {
    spreadsheetId: ss.spreadsheetId,
    totalUpdatedRows: rows.size,
    totalUpdatedColumns: cols.size,
    totalUpdatedCells: cells,
    totalUpdatedSheets: sheets.size,
    responses,
  };
}

/**
 * Finds the table values.append writes after: from the first non-empty cell inside the range,
 * the contiguous block of data around it (like Ctrl+A in the UI).
 */
function findTable(sheet: Sheet, box: GridBox): GridBox | undefined {
  let seed: { r: number; c: number } | undefined;
  const lastRow = Math.min(box.endRow, sheet.rows.length);
  outer: for (let r = box.startRow; r < lastRow; r += 1) {
    const width = Math.min(box.endCol, sheet.rows[r]?.length ?? 0);
    for (let c = box.startCol; c < width; c += 1) {
      if (!sheet.isEmpty(r, c)) {
        seed = { r, c };
        break outer;
      }
    }
  }
  if (!seed) return undefined;
  const t: GridBox = { startRow: seed.r, endRow: seed.r + 1, startCol: seed.c, endCol: seed.c + 1 };
  const filled = (r: number, c: number) =>
    r >= 0 && c >= 0 && r < sheet.rowCount && c < sheet.columnCount && !sheet.isEmpty(r, c);
  const anyInRow = (r: number) => {
    for (let c = t.startCol - 1; c <= t.endCol; c += 1) if (filled(r, c)) return true;
    return false;
  };
  const anyInCol = (c: number) => {
    for (let r = t.startRow - 1; r <= t.endRow; r += 1) if (filled(r, c)) return true;
    return false;
  };
  for (let grew = true; grew;) {
    grew = false;
    if (anyInRow(t.endRow)) {
      t.endRow += 1;
      grew = true;
    }
    if (anyInRow(t.startRow - 1)) {
      t.startRow -= 1;
      grew = true;
    }
    if (anyInCol(t.endCol)) {
      t.endCol += 1;
      grew = true;
    }
    if (anyInCol(t.startCol - 1)) {
      t.startCol -= 1;
      grew = true;
    }
  }
  return t;
}

export type InsertDataOption = "OVERWRITE" | "INSERT_ROWS";

export function appendValues(
  ss: Spreadsheet,
  write: WriteInput,
  option: ValueInputOption,
  insert: InsertDataOption,
  resp: ResponseOptions,
) {
  const resolved = ss.resolve(write.range);
  const { sheet } = resolved;
  const box = ss.clip(resolved);
  const table = findTable(sheet, box);
  const anchor = table
    ? { row: table.endRow, col: table.startCol }
    : { row: box.startRow, col: box.startCol };
  const major = dimensionOf(write.majorDimension, "major_dimension");
  const { cells, rows, cols } = layout(ss, write.values, major, option, anchor, "");
  const out: Record<string, unknown> = { spreadsheetId: ss.spreadsheetId };
  if (table) out["tableRange"] = formatRange(sheet.title, table);
  if (rows === 0) {
    out["updates"] = { spreadsheetId: ss.spreadsheetId };
    return out;
  }
  if (insert === "INSERT_ROWS") {
    // As any insert: formulas that point at the rows pushed down follow them.
    sheet.insertRows(anchor.row, rows);
    remapFormulas(ss, sheet, insertedRowsMap(anchor.row, rows));
  }
  // Appending grows the grid as needed (unlike values.update).
  sheet.rowCount = Math.max(sheet.rowCount, anchor.row + rows);
  sheet.columnCount = Math.max(sheet.columnCount, anchor.col + cols);
  const plan: PlannedWrite = {
    sheet,
    box: {
      startRow: anchor.row,
      endRow: anchor.row + rows,
      startCol: anchor.col,
      endCol: anchor.col + cols,
    },
    cells,
  };
  applyPlan(plan);
  out["updates"] = updateResponse(ss, plan, resp);
  return out;
}

export function clearRange(ss: Spreadsheet, text: string): string {
  const resolved = ss.resolve(text);
  const box = ss.clip(resolved);
  const { sheet } = resolved;
  for (let r = box.startRow; r < Math.min(box.endRow, sheet.rows.length); r += 1) {
    for (let c = box.startCol; c < box.endCol; c += 1) {
      // Clearing values keeps formatting, as in Sheets.
      sheet.set(r, c, applyInput(sheet.get(r, c), { kind: "clear" }));
    }
  }
  return formatRange(sheet.title, box);
}

export interface SpreadsheetGetOptions {
  /** A1 ranges: only the sheets they name are returned, with one GridData per range. */
  ranges?: string[];
  includeGridData?: boolean;
}

export function spreadsheetResource(ss: Spreadsheet, opts: SpreadsheetGetOptions = {}) {
  // Resolve every range first: one bad range fails the whole request.
  const requested = opts.ranges?.length
    ? opts.ranges.map((text) => {
        const resolved = ss.resolve(text);
        return { sheet: resolved.sheet, box: ss.clip(resolved) };
      })
    : undefined;
  const sheets = ss.sheets.flatMap((s, index) => {
    const boxes = requested
      ? requested.filter((g) => g.sheet === s).map((g) => g.box)
      : [wholeGrid(s)];
    if (boxes.length === 0) return [];
    const properties = sheetProperties(s, index);
    if (!opts.includeGridData) return [{ properties }];
    return [{ properties, data: boxes.map((box) => gridData(ss, s, box)) }];
  });
  return {
    spreadsheetId: ss.spreadsheetId,
    properties: {
      title: ss.title,
      locale: ss.locale,
      autoRecalc: "ON_CHANGE",
      timeZone: ss.timeZone,
      defaultFormat: {
        backgroundColor: { red: 1, green: 1, blue: 1 },
        padding: { top: 2, right: 3, bottom: 2, left: 3 },
        verticalAlignment: "BOTTOM",
        wrapStrategy: "OVERFLOW_CELL",
        textFormat: {
          foregroundColor: {},
          fontFamily: "arial,sans,sans-serif",
          fontSize: 10,
          bold: false,
          italic: false,
          strikethrough: false,
          underline: false,
        },
      },
    },
    sheets,
    spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${ss.spreadsheetId}/edit`,
  };
}

function sheetProperties(s: Sheet, index: number) {
  return {
    sheetId: s.sheetId,
    title: s.title,
    index,
    sheetType: "GRID",
    gridProperties: { rowCount: s.rowCount, columnCount: s.columnCount },
  };
}

// Request kinds Google knows but the emulator does not implement: a clear 400 instead of a
// silent no-op, so nobody mistakes an unimplemented request for a working one.
const KNOWN_REQUESTS = new Set([
  "updateSpreadsheetProperties",
  "updateSheetProperties",
  "updateDimensionProperties",
  "updateNamedRange",
  "repeatCell",
  "addNamedRange",
  "deleteNamedRange",
  "addSheet",
  "deleteSheet",
  "autoFill",
  "cutPaste",
  "copyPaste",
  "mergeCells",
  "unmergeCells",
  "updateBorders",
  "updateCells",
  "addFilterView",
  "appendCells",
  "clearBasicFilter",
  "deleteDimension",
  "deleteEmbeddedObject",
  "deleteFilterView",
  "duplicateFilterView",
  "duplicateSheet",
  "findReplace",
  "insertDimension",
  "insertRange",
  "moveDimension",
  "updateEmbeddedObjectPosition",
  "pasteData",
  "textToColumns",
  "updateFilterView",
  "deleteRange",
  "appendDimension",
  "addConditionalFormatRule",
  "updateConditionalFormatRule",
  "deleteConditionalFormatRule",
  "sortRange",
  "setDataValidation",
  "setBasicFilter",
  "addProtectedRange",
  "updateProtectedRange",
  "deleteProtectedRange",
  "autoResizeDimensions",
  "addChart",
  "updateChartSpec",
  "updateBanding",
  "addBanding",
  "deleteBanding",
  "createDeveloperMetadata",
  "updateDeveloperMetadata",
  "deleteDeveloperMetadata",
  "randomizeRange",
  "addDimensionGroup",
  "deleteDimensionGroup",
  "updateDimensionGroup",
  "trimWhitespace",
  "deleteDuplicates",
  "updateEmbeddedObjectBorder",
  "addSlicer",
  "updateSlicerSpec",
  "addDataSource",
  "updateDataSource",
  "deleteDataSource",
  "refreshDataSource",
  "cancelDataSourceRefresh",
  "addTable",
  "updateTable",
  "deleteTable",
]);

interface DimensionRangeInput {
  sheetId?: unknown;
  dimension?: unknown;
  startIndex?: unknown;
  endIndex?: unknown;
}

function intField(v: unknown, name: string, where: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "string" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw invalid(`Invalid value at '${where}.${name}' (TYPE_INT32), ${JSON.stringify(v)}`);
  }
  return n;
}

function dimensionRange(ss: Spreadsheet, raw: unknown, where: string) {
  const range = (raw ?? {}) as DimensionRangeInput;
  const sheetId = intField(range.sheetId, "sheet_id", `${where}.range`) ?? 0;
  const sheet = ss.sheetById(sheetId);
  if (!sheet) throw invalid(`Invalid ${where}: No grid with id: ${sheetId}`);
  if (range.dimension !== "ROWS" && range.dimension !== "COLUMNS") {
    if (range.dimension === undefined || range.dimension === "DIMENSION_UNSPECIFIED") {
      throw invalid(`Invalid ${where}: range.dimension must be specified`);
    }
    throw invalid(
      `Invalid value at '${where}.range.dimension' (type.googleapis.com/google.apps.sheets.v4.Dimension), ${JSON.stringify(range.dimension)}`,
    );
  }
  const rows = range.dimension === "ROWS";
  const count = rows ? sheet.rowCount : sheet.columnCount;
  const start = intField(range.startIndex, "start_index", `${where}.range`) ?? 0;
  const end = intField(range.endIndex, "end_index", `${where}.range`) ?? count;
  return { sheet, rows, count, start, end };
}

type Reply = Record<string, unknown>;

function applyRequest(ss: Spreadsheet, request: unknown, i: number): Reply {
  const where = `requests[${i}]`;
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    throw invalid(`Invalid JSON payload received. Invalid value at '${where}'`);
  }
  const kinds = Object.keys(request);
  for (const k of kinds) {
    if (!KNOWN_REQUESTS.has(k)) {
      throw invalid(
        `Invalid JSON payload received. Unknown name "${k}" at '${where}': Cannot find field.`,
      );
    }
  }
  const kind = kinds[0];
  if (kind === undefined) throw invalid(`Invalid ${where}: No request set.`);
  if (kinds.length > 1) {
    throw invalid(`Invalid ${where}: oneof field 'kind' is already set. Cannot set '${kinds[1]}'`);
  }
  const body = (request as Record<string, unknown>)[kind] as Record<string, unknown> | null;
  const at = `${where}.${kind}`;
  switch (kind) {
    case "deleteDimension": {
      const { sheet, rows, count, start, end } = dimensionRange(ss, body?.["range"], `${at}`);
      if (start < 0 || end > count || start >= end) {
        throw invalid(
          `Invalid ${at}: Invalid range [${start}, ${end}) for a sheet with ${count} ${rows ? "rows" : "columns"}.`,
        );
      }
      if (end - start === count) {
        throw invalid(
          `Invalid ${at}: You can't delete all the ${rows ? "rows" : "columns"} on the sheet.`,
        );
      }
      if (rows) {
        sheet.deleteRows(start, end);
        remapFormulas(ss, sheet, deletedRowsMap(start, end));
      } else sheet.deleteColumns(start, end);
      return {};
    }
    case "insertDimension": {
      const { sheet, rows, count, start, end } = dimensionRange(ss, body?.["range"], `${at}`);
      const inheritFromBefore = body?.["inheritFromBefore"] === true;
      if (start < 0 || start > count || start >= end) {
        throw invalid(
          `Invalid ${at}: Invalid range [${start}, ${end}) for a sheet with ${count} ${rows ? "rows" : "columns"}.`,
        );
      }
      if (inheritFromBefore && start === 0) {
        throw invalid(`Invalid ${at}: Cannot inherit from before when inserting at the start.`);
      }
      // Formatting comes from the row/column before, or after when not inheriting from before.
      const from = inheritFromBefore ? start - 1 : start < count ? start : undefined;
      if (rows) {
        sheet.insertRows(start, end - start, from === undefined ? undefined : from);
        remapFormulas(ss, sheet, insertedRowsMap(start, end - start));
      } else sheet.insertColumns(start, end - start, from);
      return {};
    }
    case "appendDimension": {
      const sheetId = intField(body?.["sheetId"], "sheet_id", at) ?? 0;
      const sheet = ss.sheetById(sheetId);
      if (!sheet) throw invalid(`Invalid ${at}: No grid with id: ${sheetId}`);
      const length = intField(body?.["length"], "length", at) ?? 0;
      if (length <= 0) throw invalid(`Invalid ${at}: length must be positive`);
      if (body?.["dimension"] === "ROWS") sheet.rowCount += length;
      else if (body?.["dimension"] === "COLUMNS") sheet.columnCount += length;
      else throw invalid(`Invalid ${at}: dimension must be specified`);
      return {};
    }
    case "addSheet": {
      const props = (body?.["properties"] ?? {}) as Record<string, unknown>;
      const title = typeof props["title"] === "string" ? props["title"] : nextSheetTitle(ss);
      if (ss.findSheet(title)) {
        throw invalid(
          `Invalid ${at}: A sheet with the name "${title}" already exists. Please enter another name.`,
        );
      }
      const requestedId = intField(props["sheetId"], "sheet_id", `${at}.properties`);
      if (requestedId !== undefined && ss.sheetById(requestedId)) {
        throw invalid(`Invalid ${at}: Sheet with id ${requestedId} already exists.`);
      }
      const grid = (props["gridProperties"] ?? {}) as Record<string, unknown>;
      const sheet = new Sheet(
        requestedId ?? newSheetId(ss),
        title,
        intField(grid["rowCount"], "row_count", at) ?? 1000,
        intField(grid["columnCount"], "column_count", at) ?? 26,
      );
      const index = intField(props["index"], "index", at);
      ss.sheets.splice(index ?? ss.sheets.length, 0, sheet);
      return { addSheet: { properties: sheetProperties(sheet, ss.sheets.indexOf(sheet)) } };
    }
    case "deleteSheet": {
      const sheetId = intField(body?.["sheetId"], "sheet_id", at) ?? 0;
      const idx = ss.sheets.findIndex((s) => s.sheetId === sheetId);
      if (idx < 0) throw invalid(`Invalid ${at}: No sheet with id: ${sheetId}`);
      if (ss.sheets.length === 1) {
        throw invalid(`Invalid ${at}: You can't remove all the visible sheets in a document.`);
      }
      ss.sheets.splice(idx, 1);
      return {};
    }
    default:
      throw invalid(`Invalid ${at}: the '${kind}' request is not supported by the emulator.`);
  }
}

function nextSheetTitle(ss: Spreadsheet): string {
  for (let n = ss.sheets.length + 1; ; n += 1) {
    if (!ss.findSheet(`Sheet${n}`)) return `Sheet${n}`;
  }
}

/** Google gives added sheets large arbitrary ids; callers must not assume they are sequential. */
export function newSheetId(ss: Spreadsheet, seed = ss.sheets.length): number {
  for (let n = seed; ; n += 1) {
    const id = (Math.imul(n + 1, 2_654_435_761) >>> 1) % 2_000_000_000;
    if (!ss.sheetById(id)) return id;
  }
}

export function batchUpdateSpreadsheet(ss: Spreadsheet, body: Record<string, unknown>) {
  const requests = body["requests"];
  if (requests !== undefined && !Array.isArray(requests)) {
    throw invalid(`Invalid JSON payload received. Invalid value at 'requests'`);
  }
  const list: unknown[] = requests ?? [];
  if (list.length === 0) throw invalid("Must specify at least one request.");
  for (const k of ["includeSpreadsheetInResponse", "responseRanges", "responseIncludeGridData"]) {
    if (body[k] !== undefined && body[k] !== false) {
      throw invalid(`'${k}' is not supported by the emulator.`);
    }
  }
  // All or nothing, like Google: snapshot the sheets and restore them if a request fails.
  const saved = ss.sheets.map((s) => s.clone());
  try {
    const replies = list.map((r, i) => applyRequest(ss, r, i));
    return { spreadsheetId: ss.spreadsheetId, replies };
  } catch (e) {
    ss.sheets = saved;
    throw e;
  }
}
