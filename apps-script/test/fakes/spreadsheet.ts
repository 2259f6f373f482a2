/**
 * In-memory SpreadsheetApp: sheets are 2D arrays of cell values with the
 * semantics of the real service that the script relies on (1-based ranges,
 * '' for empty cells, getLastRow/getLastColumn over content, Date copies,
 * setValues dimension checks, column insertion shifting content).
 */

export type CellValue = string | number | boolean | Date;

const DEFAULT_ROWS = 1000;
const DEFAULT_COLUMNS = 26;

function normalize(value: unknown): CellValue {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return new Date(value.getTime());
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return value;
  }
  return String(value);
}

function copy(value: CellValue): CellValue {
  return value instanceof Date ? new Date(value.getTime()) : value;
}

export function columnToLetters(column: number): string {
  let letters = "";
  for (let n = column; n > 0; n = Math.floor((n - 1) / 26)) {
    letters = String.fromCharCode(65 + ((n - 1) % 26)) + letters;
  }
  return letters;
}

function parseCell(ref: string): { row: number; column: number } {
  const match = /^([A-Z]+)(\d+)$/i.exec(ref.trim());
  if (!match) throw new Error(`Range not found: ${ref}`);
  let column = 0;
  for (const ch of (match[1] as string).toUpperCase()) column = column * 26 + ch.charCodeAt(0) - 64;
  return { row: Number(match[2]), column };
}

export class FakeRange {
  constructor(
    private readonly sheet: FakeSheet,
    private readonly row: number,
    private readonly column: number,
    private readonly numRows: number,
    private readonly numColumns: number,
  ) {}

  getSheet(): FakeSheet {
    return this.sheet;
  }
  getRow(): number {
    return this.row;
  }
  getColumn(): number {
    return this.column;
  }
  getLastRow(): number {
    return this.row + this.numRows - 1;
  }
  getLastColumn(): number {
    return this.column + this.numColumns - 1;
  }
  getNumRows(): number {
    return this.numRows;
  }
  getNumColumns(): number {
    return this.numColumns;
  }
  getA1Notation(): string {
    const start = `${columnToLetters(this.column)}${this.row}`;
    if (this.numRows === 1 && this.numColumns === 1) return start;
    return `${start}:${columnToLetters(this.getLastColumn())}${this.getLastRow()}`;
  }

  getValues(): CellValue[][] {
    const out: CellValue[][] = [];
    for (let r = 0; r < this.numRows; r++) {
      const row: CellValue[] = [];
      for (let c = 0; c < this.numColumns; c++) {
        row.push(copy(this.sheet.cell(this.row + r, this.column + c)));
      }
      out.push(row);
    }
    return out;
  }

  getValue(): CellValue {
    return copy(this.sheet.cell(this.row, this.column));
  }

  /** The note of the range's top-left cell ('' when none). */
  getNote(): string {
    return this.sheet.note(this.row, this.column);
  }

  /** Sets (or with '' removes) the note of every cell of the range. */
  setNote(note: string | null): this {
    for (let r = 0; r < this.numRows; r++) {
      for (let c = 0; c < this.numColumns; c++) {
        this.sheet.setNoteAt(this.row + r, this.column + c, note ?? "");
      }
    }
    return this;
  }

  setValues(values: unknown[][]): this {
    if (values.length !== this.numRows) {
      throw new Error(
        `The number of rows in the data does not match the number of rows in the range. The data has ${values.length} but the range has ${this.numRows}.`,
      );
    }
    values.forEach((row, r) => {
      if (row.length !== this.numColumns) {
        throw new Error(
          `The number of columns in the data does not match the number of columns in the range. The data has ${row.length} but the range has ${this.numColumns}.`,
        );
      }
      row.forEach((value, c) => this.sheet.setCell(this.row + r, this.column + c, value));
    });
    return this;
  }

  setValue(value: unknown): this {
    for (let r = 0; r < this.numRows; r++) {
      for (let c = 0; c < this.numColumns; c++) {
        this.sheet.setCell(this.row + r, this.column + c, value);
      }
    }
    return this;
  }

  clearContent(): this {
    return this.setValue("");
  }

  /** Range.sort(column | {column, ascending}) with Sheets' ordering of mixed types. */
  sort(spec: number | { column: number; ascending?: boolean }): this {
    const { column, ascending = true } = typeof spec === "number" ? { column: spec } : spec;
    const key = column - this.column;
    if (key < 0 || key >= this.numColumns) throw new Error("Sort column is outside the range");
    const rank = (v: CellValue): number =>
      typeof v === "number" || v instanceof Date
        ? 0
        : typeof v === "boolean"
          ? 2
          : v === ""
            ? 3
            : 1;
    const values = this.getValues();
    const order = values.map((_, i) => i);
    order.sort((i, j) => {
      const x = values[i]![key] as CellValue;
      const y = values[j]![key] as CellValue;
      // Empty cells go last whatever the direction.
      if (rank(x) !== rank(y)) return rank(x) - rank(y);
      const vx = x instanceof Date ? x.getTime() : x;
      const vy = y instanceof Date ? y.getTime() : y;
      const by = vx < vy ? -1 : vx > vy ? 1 : 0;
      return ascending ? by : -by;
    });
    // Notes move with their cells, as in Sheets.
    const notes = order.map((i) =>
      Array.from({ length: this.numColumns }, (_, c) =>
        this.sheet.note(this.row + i, this.column + c),
      ),
    );
    this.setValues(order.map((i) => values[i]!));
    notes.forEach((line, r) =>
      line.forEach((note, c) => this.sheet.setNoteAt(this.row + r, this.column + c, note)),
    );
    return this;
  }
}

export class FakeSheet {
  private grid: CellValue[][];
  /** Notes, in the grid's shape ('' = none); they move with rows and columns. */
  private notes: string[][];
  private hidden: boolean[];
  private frozenRows = 0;

  constructor(
    private readonly parent: FakeSpreadsheet,
    private name: string,
    data: unknown[][] = [],
    private readonly sheetId = 0,
  ) {
    const rows = Math.max(DEFAULT_ROWS, data.length);
    const columns = Math.max(DEFAULT_COLUMNS, ...data.map((r) => r.length));
    this.grid = Array.from({ length: rows }, (_, r) =>
      Array.from({ length: columns }, (_, c) => normalize(data[r]?.[c])),
    );
    this.hidden = Array.from({ length: columns }, () => false);
    this.notes = Array.from({ length: rows }, () => Array<string>(columns).fill(""));
  }

  /** @internal */
  note(row: number, column: number): string {
    return this.notes[row - 1]?.[column - 1] ?? "";
  }
  /** @internal */
  setNoteAt(row: number, column: number, note: string): void {
    const line = this.notes[row - 1];
    if (!line || column < 1 || column > line.length) {
      throw new Error("The coordinates of the range are outside the dimensions of the sheet.");
    }
    line[column - 1] = note;
  }

  getName(): string {
    return this.name;
  }
  setName(name: string): this {
    this.name = name;
    return this;
  }
  getParent(): FakeSpreadsheet {
    return this.parent;
  }
  getSheetId(): number {
    return this.sheetId;
  }
  getMaxRows(): number {
    return this.grid.length;
  }
  getMaxColumns(): number {
    return this.hidden.length;
  }
  getFrozenRows(): number {
    return this.frozenRows;
  }
  setFrozenRows(rows: number): void {
    this.frozenRows = rows;
  }

  /** @internal 1-based cell access for ranges. */
  cell(row: number, column: number): CellValue {
    return this.grid[row - 1]?.[column - 1] ?? "";
  }
  /** @internal */
  setCell(row: number, column: number, value: unknown): void {
    const target = this.grid[row - 1];
    if (!target || column < 1 || column > target.length) {
      throw new Error("The coordinates of the range are outside the dimensions of the sheet.");
    }
    target[column - 1] = normalize(value);
  }

  getLastRow(): number {
    for (let r = this.grid.length; r > 0; r--) {
      if ((this.grid[r - 1] as CellValue[]).some((v) => v !== "")) return r;
    }
    return 0;
  }

  getLastColumn(): number {
    let last = 0;
    for (const row of this.grid) {
      for (let c = row.length; c > last; c--) {
        if (row[c - 1] !== "") {
          last = c;
          break;
        }
      }
    }
    return last;
  }

  getRange(a1: string): FakeRange;
  getRange(row: number, column: number, numRows?: number, numColumns?: number): FakeRange;
  getRange(rowOrA1: number | string, column?: number, numRows = 1, numColumns = 1): FakeRange {
    if (typeof rowOrA1 === "string") {
      const [from, to] = rowOrA1.split(":");
      const start = parseCell(from as string);
      const end = to === undefined ? start : parseCell(to);
      return this.getRange(
        start.row,
        start.column,
        end.row - start.row + 1,
        end.column - start.column + 1,
      );
    }
    const row = rowOrA1;
    const col = column as number;
    if (!Number.isInteger(row) || !Number.isInteger(col) || row < 1 || col < 1) {
      throw new Error("The coordinates of the range are outside the dimensions of the sheet.");
    }
    if (numRows < 1) throw new Error("The number of rows in the range must be at least 1.");
    if (numColumns < 1) throw new Error("The number of columns in the range must be at least 1.");
    if (row + numRows - 1 > this.getMaxRows() || col + numColumns - 1 > this.getMaxColumns()) {
      throw new Error("The coordinates of the range are outside the dimensions of the sheet.");
    }
    return new FakeRange(this, row, col, numRows, numColumns);
  }

  /** Like Sheets: A1 to the last row/column with content (A1 alone when empty). */
  getDataRange(): FakeRange {
    return this.getRange(1, 1, Math.max(this.getLastRow(), 1), Math.max(this.getLastColumn(), 1));
  }

  appendRow(values: unknown[]): this {
    const row = this.getLastRow() + 1;
    if (row > this.getMaxRows()) this.insertRowsAfter(this.getMaxRows(), 1);
    values.forEach((v, c) => this.setCell(row, c + 1, v));
    return this;
  }

  insertRowBefore(row: number): this {
    return this.insertRowsBefore(row, 1);
  }
  insertRowAfter(row: number): this {
    return this.insertRowsAfter(row, 1);
  }
  insertRowsBefore(row: number, count: number): this {
    const width = this.getMaxColumns();
    this.grid.splice(row - 1, 0, ...Array.from({ length: count }, () => Array(width).fill("")));
    this.notes.splice(row - 1, 0, ...Array.from({ length: count }, () => Array(width).fill("")));
    return this;
  }
  insertRowsAfter(row: number, count: number): this {
    return this.insertRowsBefore(row + 1, count);
  }
  deleteRow(row: number): this {
    return this.deleteRows(row, 1);
  }
  deleteRows(row: number, count: number): this {
    if (row < 1 || row + count - 1 > this.getMaxRows()) {
      throw new Error("Those rows are out of bounds.");
    }
    this.grid.splice(row - 1, count);
    this.notes.splice(row - 1, count);
    return this;
  }

  insertColumnBefore(column: number): this {
    return this.insertColumnsAt(column, 1);
  }
  insertColumnAfter(column: number): this {
    return this.insertColumnsAt(column + 1, 1);
  }
  insertColumnsBefore(column: number, count: number): this {
    return this.insertColumnsAt(column, count);
  }
  private insertColumnsAt(column: number, count: number): this {
    if (column < 1 || column > this.getMaxColumns() + 1) {
      throw new Error("The coordinates of the range are outside the dimensions of the sheet.");
    }
    for (const row of this.grid) row.splice(column - 1, 0, ...Array<CellValue>(count).fill(""));
    for (const row of this.notes) row.splice(column - 1, 0, ...Array<string>(count).fill(""));
    this.hidden.splice(column - 1, 0, ...Array<boolean>(count).fill(false));
    return this;
  }
  deleteColumn(column: number): this {
    for (const row of this.grid) row.splice(column - 1, 1);
    for (const row of this.notes) row.splice(column - 1, 1);
    this.hidden.splice(column - 1, 1);
    return this;
  }

  hideColumns(column: number, count = 1): void {
    for (let c = column; c < column + count; c++) this.hidden[c - 1] = true;
  }
  showColumns(column: number, count = 1): void {
    for (let c = column; c < column + count; c++) this.hidden[c - 1] = false;
  }
  isColumnHiddenByUser(column: number): boolean {
    return this.hidden[column - 1] ?? false;
  }

  /** Sheet.sort: sorts every row below the frozen ones. */
  sort(column: number, ascending = true): this {
    const first = this.frozenRows + 1;
    const last = this.getLastRow();
    if (last >= first) {
      this.getRange(first, 1, last - first + 1, Math.max(this.getLastColumn(), 1)).sort({
        column,
        ascending,
      });
    }
    return this;
  }

  /** Test helper: the content area as plain values (not part of the real API). */
  dump(): CellValue[][] {
    return this.getDataRange().getValues();
  }
}

export interface Toast {
  message: string;
  title: string | undefined;
}

export class FakeSpreadsheet {
  private readonly sheets: FakeSheet[] = [];
  readonly toasts: Toast[] = [];

  constructor(
    private readonly id = "spreadsheet-1",
    private readonly name = "Sheet Sync test",
  ) {}

  getId(): string {
    return this.id;
  }
  getName(): string {
    return this.name;
  }
  getUrl(): string {
    return `https://docs.google.com/spreadsheets/d/${this.id}/edit`;
  }
  getSheets(): FakeSheet[] {
    return [...this.sheets];
  }
  getSheetByName(name: string): FakeSheet | null {
    return this.sheets.find((s) => s.getName() === name) ?? null;
  }
  getActiveSheet(): FakeSheet {
    const sheet = this.sheets[0];
    if (!sheet) throw new Error("No sheets");
    return sheet;
  }
  insertSheet(name: string, data: unknown[][] = []): FakeSheet {
    if (this.getSheetByName(name)) {
      throw new Error(`A sheet with the name "${name}" already exists. Please enter another name.`);
    }
    const sheet = new FakeSheet(this, name, data, this.sheets.length);
    this.sheets.push(sheet);
    return sheet;
  }
  deleteSheet(sheet: FakeSheet): void {
    this.sheets.splice(this.sheets.indexOf(sheet), 1);
  }
  toast(message: string, title?: string): void {
    this.toasts.push({ message, title });
  }
}

export interface Alert {
  title: string | undefined;
  prompt: string;
}

export interface MenuSpec {
  caption: string;
  items: { caption: string; functionName: string }[];
}

export const ButtonSet = { OK: "OK", OK_CANCEL: "OK_CANCEL", YES_NO: "YES_NO" } as const;
export const Button = { OK: "OK", CANCEL: "CANCEL", YES: "YES", NO: "NO", CLOSE: "CLOSE" } as const;

export class FakeUi {
  readonly menus: MenuSpec[] = [];
  readonly alerts: Alert[] = [];
  readonly ButtonSet = ButtonSet;
  readonly Button = Button;

  createMenu(caption: string) {
    const spec: MenuSpec = { caption, items: [] };
    const menu = {
      addItem: (itemCaption: string, functionName: string) => {
        spec.items.push({ caption: itemCaption, functionName });
        return menu;
      },
      addSeparator: () => menu,
      addToUi: () => {
        this.menus.push(spec);
      },
    };
    return menu;
  }

  /** alert(prompt), alert(prompt, buttons) or alert(title, prompt, buttons). */
  alert(first: string, second?: string, _buttons?: string): string {
    const withTitle = typeof second === "string" && !(second in ButtonSet);
    this.alerts.push(
      withTitle ? { title: first, prompt: second as string } : { title: undefined, prompt: first },
    );
    return Button.OK;
  }
}

export class FakeSpreadsheetApp {
  readonly ui = new FakeUi();
  constructor(readonly spreadsheet: FakeSpreadsheet) {}
  getActive(): FakeSpreadsheet {
    return this.spreadsheet;
  }
  getActiveSpreadsheet(): FakeSpreadsheet {
    return this.spreadsheet;
  }
  getUi(): FakeUi {
    return this.ui;
  }
  flush(): void {}
}
