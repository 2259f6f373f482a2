type Sheet = GoogleAppsScript.Spreadsheet.Sheet;

/** Header row and data rows (row 2 onwards) in one read. */
export function readSheet(sheet: Sheet): { headerRow: unknown[]; rows: unknown[][] } {
  const values = sheet.getDataRange().getValues();
  return { headerRow: values[0] ?? [], rows: values.slice(1) };
}

/** Header row and one data row (0 = sheet row 2). */
export function readSheetRow(
  sheet: Sheet,
  row: number,
): { headerRow: unknown[]; cells: unknown[] } {
  const width = Math.max(sheet.getLastColumn(), 1);
  return {
    headerRow: sheet.getRange(1, 1, 1, width).getValues()[0] ?? [],
    cells: sheet.getRange(row + 2, 1, 1, width).getValues()[0] ?? [],
  };
}

/**
 * Writes cells of one column (0-based) for data rows (0 = sheet row 2), one
 * setValues per run of adjacent rows, so other cells are never rewritten
 * from a possibly stale read.
 */
export function writeColumnCells(
  sheet: Sheet,
  column: number,
  cells: ReadonlyMap<number, string | number>,
): void {
  if (column < 0 || cells.size === 0) return;
  const rows = [...cells.keys()].sort((a, b) => a - b);
  let start = 0;
  for (let i = 1; i <= rows.length; i++) {
    const previous = rows[i - 1] as number;
    if (i < rows.length && rows[i] === previous + 1) continue;
    const first = rows[start] as number;
    const run = rows.slice(start, i).map((row) => [cells.get(row) as string | number]);
    sheet.getRange(first + 2, column + 1, run.length, 1).setValues(run);
    start = i;
  }
}
