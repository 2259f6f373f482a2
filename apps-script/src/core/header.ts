import {
  columnNameProblem,
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

export function headerText(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "" : value.toISOString();
  if (value === null || value === undefined) return "";
  return String(value).trim();
}

export function analyzeHeader(row: readonly unknown[]): HeaderInfo {
  const texts = row.map(headerText);
  const dataColumns: DataColumn[] = [];
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  const unusable: { name: string; problem: string }[] = [];
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
