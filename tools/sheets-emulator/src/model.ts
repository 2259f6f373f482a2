// In-memory spreadsheets: sheets as sparse row arrays, range resolution against the grid,
// and effective values (formulas evaluated on read, so references always see current data).

import { formatRange, parseA1, quoteSheetTitle, boxToA1, type GridBox } from "./a1.js";
import { serialFromInstant } from "./dates.js";
import { CellError, evaluateFormula, type Evaluated } from "./formula.js";
import type { Cell } from "./values.js";

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
    readonly details?: unknown[],
  ) {
    super(message);
  }
}

export const invalid = (message: string) => new ApiError(400, "INVALID_ARGUMENT", message);

export const DEFAULT_ROWS = 1000;
export const DEFAULT_COLUMNS = 26;

export class Sheet {
  rows: (Cell | undefined)[][] = [];

  constructor(
    public sheetId: number,
    public title: string,
    public rowCount: number,
    public columnCount: number,
  ) {}

  get(r: number, c: number): Cell | undefined {
    return this.rows[r]?.[c];
  }

  set(r: number, c: number, cell: Cell | undefined): void {
    let row = this.rows[r];
    if (!row) {
      if (!cell) return;
      row = [];
      this.rows[r] = row;
    }
    row[c] = cell;
  }

  isEmpty(r: number, c: number): boolean {
    const cell = this.get(r, c);
    return !cell || (cell.value === undefined && cell.formula === undefined);
  }

  insertRows(at: number, count: number, inheritFrom?: number): void {
    const template = inheritFrom === undefined ? undefined : this.rows[inheritFrom];
    const fresh = () =>
      template ? template.map((cell) => (cell?.format ? { format: cell.format } : undefined)) : [];
    while (this.rows.length < at) this.rows.push([]);
    this.rows.splice(at, 0, ...Array.from({ length: count }, fresh));
    this.rowCount += count;
  }

  deleteRows(start: number, end: number): void {
    this.rows.splice(start, end - start);
    this.rowCount -= end - start;
  }

  insertColumns(at: number, count: number, inheritFrom?: number): void {
    for (const row of this.rows) {
      if (!row) continue;
      const template = inheritFrom === undefined ? undefined : row[inheritFrom];
      const fill = template?.format ? { format: template.format } : undefined;
      while (row.length < at) row.push(undefined);
      row.splice(at, 0, ...Array.from({ length: count }, () => (fill ? { ...fill } : undefined)));
    }
    this.columnCount += count;
  }

  deleteColumns(start: number, end: number): void {
    for (const row of this.rows) row?.splice(start, end - start);
    this.columnCount -= end - start;
  }

  clone(): Sheet {
    const copy = new Sheet(this.sheetId, this.title, this.rowCount, this.columnCount);
    copy.rows = this.rows.map((row) => (row ? row.map((c) => (c ? { ...c } : undefined)) : []));
    return copy;
  }
}

export interface ResolvedRange {
  sheet: Sheet;
  /** The requested bounds with open ends filled in from the grid, not clipped. */
  box: GridBox;
}

export class Spreadsheet {
  sheets: Sheet[] = [];
  locale = "en_US";

  constructor(
    readonly spreadsheetId: string,
    public title: string,
    public timeZone: string,
    private readonly now: () => number,
  ) {}

  findSheet(title: string): Sheet | undefined {
    // Sheets matches sheet names in A1 ranges case-insensitively.
    const lower = title.toLowerCase();
    return this.sheets.find((s) => s.title.toLowerCase() === lower);
  }

  sheetById(id: number): Sheet | undefined {
    return this.sheets.find((s) => s.sheetId === id);
  }

  /** Parses an A1 range; unknown sheets and bad syntax are Google's "Unable to parse range". */
  resolve(text: string): ResolvedRange {
    const parsed = parseA1(text, (t) => this.findSheet(t) !== undefined);
    const sheet =
      parsed &&
      (parsed.sheetTitle === undefined ? this.sheets[0] : this.findSheet(parsed.sheetTitle));
    if (!parsed || !sheet) throw invalid(`Unable to parse range: ${text}`);
    const box: GridBox = {
      startRow: parsed.startRow ?? 0,
      endRow: parsed.endRow ?? Math.max(sheet.rowCount, (parsed.startRow ?? 0) + 1),
      startCol: parsed.startCol ?? 0,
      endCol: parsed.endCol ?? Math.max(sheet.columnCount, (parsed.startCol ?? 0) + 1),
    };
    return { sheet, box };
  }

  /** The range clipped to the grid, for reads and clears; a start outside the grid is an error. */
  clip(range: ResolvedRange): GridBox {
    const { sheet, box } = range;
    if (box.startRow >= sheet.rowCount || box.startCol >= sheet.columnCount) {
      throw gridError(sheet, box);
    }
    return {
      startRow: box.startRow,
      endRow: Math.min(box.endRow, sheet.rowCount),
      startCol: box.startCol,
      endCol: Math.min(box.endCol, sheet.columnCount),
    };
  }

  /** The cell's effective value (formulas evaluated), or null when empty. */
  effective(sheet: Sheet, r: number, c: number, visiting = new Set<string>()): Evaluated | null {
    const cell = sheet.get(r, c);
    if (!cell) return null;
    if (cell.formula === undefined) {
      if (cell.value === undefined) return null;
      return cell.format ? { value: cell.value, format: cell.format } : { value: cell.value };
    }
    const key = `${sheet.sheetId}:${r}:${c}`;
    if (visiting.has(key)) {
      const message =
        "Circular dependency detected. To resolve with iterative calculation, see File > Settings.";
      return { value: new CellError("#REF!", message) };
    }
    visiting.add(key);
    try {
      const result = evaluateFormula(cell.formula, {
        cell: (title, row, col) => {
          const target = title === undefined ? sheet : this.findSheet(title);
          if (!target) return new CellError("#REF!", `Unresolved sheet name '${title}'.`);
          return this.effective(target, row, col, visiting);
        },
        nowSerial: () => serialFromInstant(this.now(), this.timeZone),
      });
      return cell.format ? { ...result, format: cell.format } : result;
    } finally {
      visiting.delete(key);
    }
  }

  formatRange(sheet: Sheet, box: GridBox): string {
    return formatRange(sheet.title, box);
  }
}

export function gridError(sheet: Sheet, box: GridBox): ApiError {
  return invalid(
    `Range (${quoteSheetTitleAlways(sheet.title)}!${boxToA1(box)}) exceeds grid limits. ` +
      `Max rows: ${sheet.rowCount}, max columns: ${sheet.columnCount}`,
  );
}

// Google's grid-limit messages quote the sheet name even when plain ('Sheet1'!A1001).
function quoteSheetTitleAlways(title: string): string {
  const q = quoteSheetTitle(title);
  return q.startsWith("'") ? q : `'${q}'`;
}
