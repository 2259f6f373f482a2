// A1 notation: parsing the forms the Sheets API accepts and printing ranges the way Google
// echoes them back (`Sheet1!A1:B2`, `'My Sheet'!A1`).

/** A parsed range before it is bound to a sheet's grid. End indexes are exclusive. */
export interface A1Range {
  /** Sheet title, or undefined when the range names no sheet (Google then uses the first sheet). */
  sheetTitle: string | undefined;
  startRow: number | undefined;
  endRow: number | undefined;
  startCol: number | undefined;
  endCol: number | undefined;
}

/** A range bound to a grid: every bound is concrete. End indexes are exclusive. */
export interface GridBox {
  startRow: number;
  endRow: number;
  startCol: number;
  endCol: number;
}

export function columnToLetters(index: number): string {
  let n = index + 1;
  let out = "";
  while (n > 0) {
    const rem = (n - 1) % 26;
    out = String.fromCharCode(65 + rem) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

export function lettersToColumn(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/**
 * Splits `'It''s'!A1:B2` into the sheet title and the cell part. Returns undefined when the
 * quoting is malformed. `cells` is undefined when the string has no `!`.
 */
export function splitSheet(
  text: string,
): { sheet: string | undefined; cells: string | undefined; quoted: boolean } | undefined {
  if (text.startsWith("'")) {
    let i = 1;
    let name = "";
    for (;;) {
      if (i >= text.length) return undefined;
      const ch = text[i];
      if (ch === "'") {
        if (text[i + 1] === "'") {
          name += "'";
          i += 2;
          continue;
        }
        break;
      }
      name += ch;
      i += 1;
    }
    const rest = text.slice(i + 1);
    if (rest === "") return { sheet: name, cells: undefined, quoted: true };
    if (!rest.startsWith("!")) return undefined;
    return { sheet: name, cells: rest.slice(1), quoted: true };
  }
  const bang = text.indexOf("!");
  if (bang < 0) return { sheet: undefined, cells: text, quoted: false };
  return { sheet: text.slice(0, bang), cells: text.slice(bang + 1), quoted: false };
}

interface Ref {
  col: number | undefined;
  row: number | undefined;
}

const REF = /^\$?([A-Za-z]{1,4})?\$?([0-9]{1,7})?$/;

function parseRef(text: string): Ref | undefined {
  const m = REF.exec(text);
  if (!m || (m[1] === undefined && m[2] === undefined)) return undefined;
  const row = m[2] === undefined ? undefined : Number(m[2]) - 1;
  if (row !== undefined && row < 0) return undefined;
  return { col: m[1] === undefined ? undefined : lettersToColumn(m[1]), row };
}

/** Parses the part after `!` (`A1`, `A1:B2`, `A:C`, `2:5`, `A2:C`). */
export function parseCells(text: string): Omit<A1Range, "sheetTitle"> | undefined {
  const parts = text.split(":");
  if (parts.length > 2) return undefined;
  const a = parseRef(parts[0] ?? "");
  if (!a) return undefined;
  if (parts.length === 1) {
    // A lone column (`A`) or row (`3`) is not a valid range on its own; a cell is.
    if (a.col === undefined || a.row === undefined) return undefined;
    return { startRow: a.row, endRow: a.row + 1, startCol: a.col, endCol: a.col + 1 };
  }
  const b = parseRef(parts[1] ?? "");
  if (!b) return undefined;
  // `A:C` and `1:2` need both sides of the same kind; `A2:C` leaves the rows open below.
  if (a.col === undefined && b.col !== undefined) return undefined;
  if (a.col !== undefined && b.col === undefined) return undefined;
  if (a.row === undefined && b.row !== undefined && a.col === undefined) return undefined;
  const cols =
    a.col === undefined || b.col === undefined
      ? { startCol: undefined, endCol: undefined }
      : { startCol: Math.min(a.col, b.col), endCol: Math.max(a.col, b.col) + 1 };
  let rows: { startRow: number | undefined; endRow: number | undefined };
  if (a.row !== undefined && b.row !== undefined) {
    rows = { startRow: Math.min(a.row, b.row), endRow: Math.max(a.row, b.row) + 1 };
  } else if (a.row !== undefined) {
    rows = { startRow: a.row, endRow: undefined };
  } else if (b.row !== undefined) {
    rows = { startRow: undefined, endRow: b.row + 1 };
  } else {
    rows = { startRow: undefined, endRow: undefined };
  }
  return { ...rows, ...cols };
}

/**
 * Parses a full A1 range. `sheetExists` decides whether a bare word like `Data` names a sheet
 * (the whole sheet) rather than a cell range on the first sheet.
 */
export function parseA1(
  text: string,
  sheetExists: (title: string) => boolean,
): A1Range | undefined {
  const split = splitSheet(text);
  if (!split) return undefined;
  const whole = {
    startRow: undefined,
    endRow: undefined,
    startCol: undefined,
    endCol: undefined,
  };
  if (split.sheet !== undefined && split.cells === undefined) {
    return { sheetTitle: split.sheet, ...whole };
  }
  if (split.sheet === undefined) {
    if (sheetExists(text)) return { sheetTitle: text, ...whole };
    const cells = parseCells(text);
    return cells ? { sheetTitle: undefined, ...cells } : undefined;
  }
  if (split.sheet === "") return undefined;
  const cells = parseCells(split.cells ?? "");
  return cells ? { sheetTitle: split.sheet, ...cells } : undefined;
}

/** Quotes a sheet title when Google would: anything but a plain identifier that is not a cell. */
export function quoteSheetTitle(title: string): string {
  const plain =
    /^[A-Za-z_][A-Za-z0-9_]*$/.test(title) &&
    !/^[A-Za-z]{1,3}[0-9]+$/.test(title) &&
    !/^[Rr][0-9]*[Cc][0-9]*$/.test(title) &&
    !/^(true|false)$/i.test(title);
  return plain ? title : `'${title.replace(/'/g, "''")}'`;
}

export function boxToA1(box: GridBox): string {
  const a = `${columnToLetters(box.startCol)}${box.startRow + 1}`;
  if (box.endRow - box.startRow === 1 && box.endCol - box.startCol === 1) return a;
  return `${a}:${columnToLetters(box.endCol - 1)}${box.endRow}`;
}

export function formatRange(title: string, box: GridBox): string {
  return `${quoteSheetTitle(title)}!${boxToA1(box)}`;
}
