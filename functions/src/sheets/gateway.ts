/**
 * The synced tab through the Sheets API, in the few requests the flush and
 * the reconcile need: locate rows by the `_id` column, read rows as typed
 * cells (which cells are formulas, which numbers are dates), write cells,
 * delete and append rows, read every value. Every call counts its requests.
 */
import type { sheets_v4 } from "@googleapis/sheets";
import { serialToDate, type SheetInput } from "../core/cells.js";
import {
  columnLetter,
  deleteRanges,
  quoteSheetName,
  readBlocks,
  SheetLayoutError,
  type SheetCell,
  type SheetLayout,
  type SheetRowCells,
} from "../core/flushPlan.js";
import type { CellValue } from "../core/values.js";
import { headerName } from "../../../contract/src/limits.js";
import { SheetsApiError } from "../core/sheetErrors.js";
import type { SheetsApi } from "./client.js";

const RANGES_PER_READ = 100;
const DATE_TYPES = new Set(["DATE", "TIME", "DATE_TIME"]);

export interface Tab {
  sheetId: number;
  timeZone: string;
}

export interface SheetIndex {
  /** Row 1 as text. */
  header: string[];
  /** The `_id` column from row 2 down (index 0 = row 2), trimmed. */
  ids: string[];
}

/** A row as read by values (no types): a date cell is its serial number. */
export interface LooseRow {
  rowNumber: number;
  id: string;
  rev: number;
  modifiedAt: number;
  cells: Record<string, CellValue>;
}

/** A row read by `readRows`, with the id its `_id` cell holds. */
export type LocatedRow = SheetRowCells & { id: string };

export interface CellWrite {
  range: string;
  values: SheetInput[][];
}

/** Reads a bookkeeping cell as a non-negative integer (0 when empty or not a number). */
export function cellNumber(cell: unknown): number {
  const n =
    typeof cell === "number" ? cell : typeof cell === "string" && cell.trim() ? Number(cell) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.trunc(n) : 0;
}

/** Data rows as `readValues` returns them, by column name (row 2 is index 0). */
export function looseRows(rows: readonly unknown[][], layout: SheetLayout): LooseRow[] {
  return rows.map((row, i) => {
    const cells: Record<string, CellValue> = {};
    for (const [name, c] of layout.position) {
      const v = row[c];
      cells[name] = v === undefined || v === "" ? null : (v as CellValue);
    }
    return {
      rowNumber: i + 2,
      id: String(row[layout.idColumn] ?? "").trim(),
      rev: cellNumber(row[layout.revColumn]),
      modifiedAt: cellNumber(row[layout.modifiedColumn]),
      cells,
    };
  });
}

export class SheetsGateway {
  readonly requests = { reads: 0, writes: 0 };
  private readonly sheet: string;

  constructor(
    private readonly api: SheetsApi,
    readonly spreadsheetId: string,
    readonly sheetName: string,
  ) {
    this.sheet = quoteSheetName(sheetName);
  }

  /** Every call's failure is a SheetsApiError, so callers tell Sheets errors from others. */
  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (err) {
      throw new SheetsApiError(err);
    }
  }

  async tab(): Promise<Tab> {
    this.requests.reads++;
    const res = await this.call(() =>
      this.api.spreadsheets.get({
        spreadsheetId: this.spreadsheetId,
        fields: "properties.timeZone,sheets.properties(sheetId,title)",
      }),
    );
    const tab = (res.data.sheets ?? []).find((s) => s.properties?.title === this.sheetName);
    if (!tab || typeof tab.properties?.sheetId !== "number") {
      throw new SheetLayoutError(
        `the spreadsheet has no tab named "${this.sheetName}" (SHEET_SYNC_SHEET_NAME)`,
      );
    }
    return {
      sheetId: tab.properties.sheetId,
      timeZone: res.data.properties?.timeZone ?? "Etc/UTC",
    };
  }

  /**
   * Row 1 and the `_id` column: one request when the `_id` column is where
   * `idColumnHint` says, two when it moved.
   */
  async index(idColumnHint: number | null): Promise<SheetIndex> {
    const column = (i: number) => `${this.sheet}!${columnLetter(i)}2:${columnLetter(i)}`;
    const ranges = [`${this.sheet}!1:1`];
    if (idColumnHint !== null) ranges.push(column(idColumnHint));
    let values = await this.batchGet(ranges, "COLUMNS");
    const header = (values[0] ?? []).map((c) => headerName(c?.[0]));
    const idColumn = header.indexOf("_id");
    if (idColumn < 0) return { header, ids: [] };
    let ids = values[1]?.[0];
    if (idColumn !== idColumnHint) {
      values = await this.batchGet([column(idColumn)], "COLUMNS");
      ids = values[0]?.[0];
    }
    return { header, ids: (ids ?? []).map((c) => String(c ?? "").trim()) };
  }

  /**
   * Typed cells of the given rows, whole header width, in one request per
   * 100 blocks of nearby rows: each cell's effective value, whether it is a
   * formula, and whether its number is a date.
   */
  async readRows(
    rowNumbers: readonly number[],
    layout: SheetLayout,
    timeZone: string,
  ): Promise<Map<number, LocatedRow>> {
    const out = new Map<number, LocatedRow>();
    const last = columnLetter(layout.header.length - 1);
    const blocks = readBlocks(rowNumbers);
    for (let i = 0; i < blocks.length; i += RANGES_PER_READ) {
      const part = blocks.slice(i, i + RANGES_PER_READ);
      this.requests.reads++;
      const res = await this.call(() =>
        this.api.spreadsheets.get({
          spreadsheetId: this.spreadsheetId,
          ranges: part.map(([from, to]) => `${this.sheet}!A${from}:${last}${to}`),
          includeGridData: true,
          fields:
            "sheets(data(startRow,rowData(values(userEnteredValue,effectiveValue,formattedValue,effectiveFormat(numberFormat(type))))))",
        }),
      );
      const grids = res.data.sheets?.[0]?.data ?? [];
      grids.forEach((grid, k) => {
        const [from, to] = part[k]!;
        for (let r = from; r <= to; r++) {
          const cells = grid.rowData?.[r - from]?.values ?? [];
          out.set(r, this.typedRow(r, cells, layout, timeZone));
        }
      });
    }
    return out;
  }

  private typedRow(
    rowNumber: number,
    cells: sheets_v4.Schema$CellData[],
    layout: SheetLayout,
    timeZone: string,
  ): LocatedRow {
    const typed = (cell: sheets_v4.Schema$CellData | undefined): SheetCell => {
      const formula = cell?.userEnteredValue?.formulaValue != null;
      const ev = cell?.effectiveValue;
      let value: CellValue = null;
      if (ev?.numberValue != null) {
        const type = cell?.effectiveFormat?.numberFormat?.type ?? "";
        value = DATE_TYPES.has(type) ? serialToDate(ev.numberValue, timeZone) : ev.numberValue;
      } else if (ev?.stringValue != null) value = ev.stringValue === "" ? null : ev.stringValue;
      else if (ev?.boolValue != null) value = ev.boolValue;
      else if (ev?.errorValue) value = cell?.formattedValue ?? "#ERROR!";
      return { value, formula };
    };
    const byName: Record<string, SheetCell> = {};
    for (const [name, i] of layout.position) byName[name] = typed(cells[i]);
    const raw = (i: number) => {
      const ev = cells[i]?.effectiveValue;
      return ev?.numberValue ?? ev?.stringValue ?? null;
    };
    return {
      rowNumber,
      id: String(raw(layout.idColumn) ?? "").trim(),
      rev: cellNumber(raw(layout.revColumn)),
      modifiedAt: cellNumber(raw(layout.modifiedColumn)),
      cells: byName,
    };
  }

  /**
   * The whole tab's values, untyped (dates as serial numbers), header
   * included, in one request: what the reconcile compares.
   */
  async readValues(): Promise<{ header: string[]; rows: unknown[][] }> {
    const [grid] = await this.batchGet([this.sheet], "ROWS", "UNFORMATTED_VALUE");
    const header = (grid?.[0] ?? []).map((c) => headerName(c));
    return { header, rows: (grid ?? []).slice(1) };
  }

  async writeCells(data: readonly CellWrite[]): Promise<void> {
    if (data.length === 0) return;
    this.requests.writes++;
    await this.call(() =>
      this.api.spreadsheets.values.batchUpdate({
        spreadsheetId: this.spreadsheetId,
        requestBody: { valueInputOption: "USER_ENTERED", data: [...data] },
      }),
    );
  }

  async deleteRows(sheetId: number, rowNumbers: readonly number[]): Promise<void> {
    if (rowNumbers.length === 0) return;
    this.requests.writes++;
    await this.call(() =>
      this.api.spreadsheets.batchUpdate({
        spreadsheetId: this.spreadsheetId,
        requestBody: {
          requests: deleteRanges(rowNumbers).map((r) => ({
            deleteDimension: { range: { sheetId, dimension: "ROWS", ...r } },
          })),
        },
      }),
    );
  }

  async appendRows(rows: readonly SheetInput[][]): Promise<void> {
    if (rows.length === 0) return;
    this.requests.writes++;
    await this.call(() =>
      this.api.spreadsheets.values.append({
        spreadsheetId: this.spreadsheetId,
        range: `${this.sheet}!A1`,
        valueInputOption: "USER_ENTERED",
        insertDataOption: "INSERT_ROWS",
        requestBody: { values: rows.map((r) => [...r]) },
      }),
    );
  }

  /** A1 range of one row's cells from column `from` to `to` (0-based). */
  cellRange(rowNumber: number, from: number, to: number): string {
    return `${this.sheet}!${columnLetter(from)}${rowNumber}:${columnLetter(to)}${rowNumber}`;
  }

  private async batchGet(
    ranges: string[],
    majorDimension: "ROWS" | "COLUMNS",
    valueRenderOption: "FORMULA" | "UNFORMATTED_VALUE" = "UNFORMATTED_VALUE",
  ): Promise<unknown[][][]> {
    this.requests.reads++;
    const res = await this.call(() =>
      this.api.spreadsheets.values.batchGet({
        spreadsheetId: this.spreadsheetId,
        ranges,
        valueRenderOption,
        dateTimeRenderOption: "SERIAL_NUMBER",
        majorDimension,
      }),
    );
    return (res.data.valueRanges ?? []).map((vr) => (vr.values ?? []) as unknown[][]);
  }
}
