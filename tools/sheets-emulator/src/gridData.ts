// Grid data for spreadsheets.get (`includeGridData=true`, or a `fields` mask naming
// sheets.data): Google's GridData / RowData / CellData shapes. Unlike values.get, CellData
// tells a formula (`formulaValue`) from text that looks like one (`stringValue`), and a date
// from a number only by its number format.

import type { GridBox } from "./a1.js";
import type { NumberFormat } from "./dates.js";
import { CellError, type Scalar } from "./formula.js";
import type { Sheet, Spreadsheet } from "./model.js";
import { renderCell } from "./values.js";

export type ErrorType =
  "ERROR" | "NULL_VALUE" | "DIVIDE_BY_ZERO" | "VALUE" | "REF" | "NAME" | "NUM" | "N_A";

export interface ErrorValue {
  type: ErrorType;
  /** Omitted where the emulator does not know the text Sheets would show. */
  message?: string;
}

/** Exactly one field is set (a oneof in Google's schema). */
export type ExtendedValue =
  | { numberValue: number }
  | { stringValue: string }
  | { boolValue: boolean }
  | { formulaValue: string }
  | { errorValue: ErrorValue };

/** The emulator models number formats only; fonts, colours and alignment are not stored. */
export interface CellFormat {
  numberFormat: NumberFormat;
}

export interface CellData {
  userEnteredValue?: ExtendedValue;
  effectiveValue?: ExtendedValue;
  formattedValue?: string;
  userEnteredFormat?: CellFormat;
  effectiveFormat?: CellFormat;
}

export interface RowData {
  values?: CellData[];
}

export interface GridData {
  /** Zero-based; omitted when 0, as proto3 JSON omits default values. */
  startRow?: number;
  startColumn?: number;
  rowData?: RowData[];
  rowMetadata: { pixelSize: number }[];
  columnMetadata: { pixelSize: number }[];
}

// Sheets' default row height and column width, in pixels.
const ROW_PIXELS = 21;
const COLUMN_PIXELS = 100;

const ERROR_TYPES: Record<string, ErrorType> = {
  "#NULL!": "NULL_VALUE",
  "#DIV/0!": "DIVIDE_BY_ZERO",
  "#VALUE!": "VALUE",
  "#REF!": "REF",
  "#NAME?": "NAME",
  "#NUM!": "NUM",
  "#N/A": "N_A",
  "#ERROR!": "ERROR",
};

function extended(value: Scalar): ExtendedValue {
  if (value instanceof CellError) {
    const errorValue: ErrorValue = { type: ERROR_TYPES[value.code] ?? "ERROR" };
    if (value.message) errorValue.message = value.message;
    return { errorValue };
  }
  if (typeof value === "number") return { numberValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  return { stringValue: value };
}

/** One cell as CellData; `{}` for an empty cell. */
export function cellData(ss: Spreadsheet, sheet: Sheet, r: number, c: number): CellData {
  const cell = sheet.get(r, c);
  if (!cell) return {};
  const out: CellData = {};
  if (cell.formula !== undefined) out.userEnteredValue = { formulaValue: cell.formula };
  // A leading apostrophe was never stored, so text typed as '=1+1 is a plain stringValue.
  else if (cell.value !== undefined) out.userEnteredValue = extended(cell.value);
  const eff = out.userEnteredValue ? ss.effective(sheet, r, c) : null;
  if (eff) {
    out.effectiveValue = extended(eff.value);
    const shown = String(
      renderCell(cell, eff, {
        valueRenderOption: "FORMATTED_VALUE",
        dateTimeRenderOption: "FORMATTED_STRING",
      }),
    );
    // proto3 JSON leaves out empty strings (a formula giving "" shows nothing).
    if (shown !== "") out.formattedValue = shown;
  }
  if (cell.format) out.userEnteredFormat = { numberFormat: { ...cell.format } };
  // A formula's computed format (e.g. NOW()'s date-time) counts when the cell sets none; the
  // default ("Automatic") format is not written, as Google documents for effectiveFormat.
  const effective = cell.format ?? eff?.format;
  if (effective) out.effectiveFormat = { numberFormat: { ...effective } };
  return out;
}

/**
 * The GridData of `box` (already clipped to the grid). Rows and cells are only scanned where
 * the sheet holds data, so a whole-column range costs what the used part of the sheet does.
 * Like values.get, trailing empty rows and each row's trailing empty cells are left out;
 * an empty row inside the range is `{}` and an empty cell inside a row is `{}`.
 */
export function gridData(ss: Spreadsheet, sheet: Sheet, box: GridBox): GridData {
  const rowData: RowData[] = [];
  const lastRow = Math.min(box.endRow, sheet.rows.length);
  for (let r = box.startRow; r < lastRow; r += 1) {
    const lastCol = Math.min(box.endCol, sheet.rows[r]?.length ?? 0);
    const values: CellData[] = [];
    let filled = 0;
    for (let c = box.startCol; c < lastCol; c += 1) {
      const cell = cellData(ss, sheet, r, c);
      values.push(cell);
      if (Object.keys(cell).length > 0) filled = values.length;
    }
    rowData.push(filled > 0 ? { values: values.slice(0, filled) } : {});
  }
  while (rowData.length > 0 && rowData[rowData.length - 1]?.values === undefined) rowData.pop();
  return {
    ...(box.startRow > 0 ? { startRow: box.startRow } : {}),
    ...(box.startCol > 0 ? { startColumn: box.startCol } : {}),
    ...(rowData.length > 0 ? { rowData } : {}),
    rowMetadata: Array.from({ length: box.endRow - box.startRow }, () => ({
      pixelSize: ROW_PIXELS,
    })),
    columnMetadata: Array.from({ length: box.endCol - box.startCol }, () => ({
      pixelSize: COLUMN_PIXELS,
    })),
  };
}

/** The whole grid of a sheet, for includeGridData without `ranges`. */
export function wholeGrid(sheet: Sheet): GridBox {
  return { startRow: 0, endRow: sheet.rowCount, startCol: 0, endCol: sheet.columnCount };
}
