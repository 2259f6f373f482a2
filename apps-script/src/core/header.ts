import {
  columnNameProblem,
  headerCellProblem,
  headerName,
  ID_HEADER,
  MODIFIED_HEADER,
  REV_HEADER,
} from "../../../contract/src/limits";
import { fnv1a } from "./hash";

export interface DataColumn {
  /** 0-based column index. */
  readonly index: number;
  readonly name: string;
}

export interface HeaderInfo {
  /** Row 1 as text, in sheet order. */
  readonly texts: string[];
  /** 0-based index of `_id` / `_modified` / `_rev`, or -1 when missing. */
  readonly idColumn: number;
  readonly modifiedColumn: number;
  readonly revColumn: number;
  /** Columns synced as fields: non-empty header, not a bookkeeping column. */
  readonly dataColumns: DataColumn[];
  /** Header texts used by more than one column (the webhook rejects them). */
  readonly duplicates: string[];
  /** Header texts Firestore cannot take as field names: not synced, shown in Status. */
  readonly unusable: { name: string; problem: string }[];
  /** Changes when the set of field names changes (not when columns merely move). */
  readonly fieldsHash: string;
}

/** A row-1 cell as a column name (only text names one: see `headerName`). */
export function headerText(value: unknown): string {
  return headerName(value);
}

export function analyzeHeader(row: readonly unknown[]): HeaderInfo {
  const texts = row.map(headerText);
  const unusable: { name: string; problem: string }[] = [];
  row.forEach((cell, index) => {
    const problem = headerCellProblem(cell);
    if (problem) unusable.push({ name: shownHeader(cell, index), problem });
  });
  const dataColumns: DataColumn[] = [];
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  let idColumn = -1;
  let modifiedColumn = -1;
  let revColumn = -1;
  texts.forEach((name, index) => {
    if (name === "") return;
    if (seen.has(name)) duplicates.add(name);
    seen.add(name);
    if (name === ID_HEADER) {
      if (idColumn === -1) idColumn = index;
    } else if (name === MODIFIED_HEADER) {
      if (modifiedColumn === -1) modifiedColumn = index;
    } else if (name === REV_HEADER) {
      if (revColumn === -1) revColumn = index;
    } else {
      const problem = columnNameProblem(name);
      if (problem) unusable.push({ name, problem });
      else dataColumns.push({ index, name });
    }
  });
  const names = dataColumns.map((c) => c.name).sort();
  return {
    texts,
    idColumn,
    modifiedColumn,
    revColumn,
    dataColumns,
    duplicates: [...duplicates],
    unusable,
    fieldsHash: fnv1a(JSON.stringify(names)),
  };
}

/** How Status names a header cell that is not text: its column letter and what it shows. */
function shownHeader(cell: unknown, index: number): string {
  let letter = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    letter = String.fromCharCode(65 + ((n - 1) % 26)) + letter;
  }
  const shown =
    cell instanceof Date
      ? Number.isNaN(cell.getTime())
        ? "?"
        : cell.toISOString().slice(0, 10)
      : String(cell).toUpperCase() === "TRUE" || String(cell).toUpperCase() === "FALSE"
        ? String(cell).toUpperCase()
        : String(cell);
  return `${letter}1 (${shown})`;
}
