/**
 * Is a document's content already what the sheet has? A row document
 * carries `_sync.hash`: the content hash of the columns as last synced,
 * written by the ingest (a sheet edit) or by the trigger's bookkeeping (a
 * document edit already queued for the sheet). If the columns still hash to
 * it, the write was an echo or bookkeeping; otherwise a person or an app
 * changed the row and it must go to the sheet.
 */
import { hashRow, type CellValue, type RowValues } from "./values.js";

export interface SyncMeta {
  origin: "sheet" | "firestore";
  modifiedAt: number;
  hash: string;
  /** The columns the hash covers. */
  columns: string[];
  /** The row has been in the sheet (so a missing row there means it was deleted there). */
  inSheet: boolean;
}

/**
 * The columns a row's hash covers. With the sheet's columns known (the
 * ingest and the flush record them), exactly those: fields an app adds
 * beside them never go to the sheet, and a column the document lacks counts
 * as an empty cell, as the sheet would send it. Without them: the row's own
 * columns for a sheet row, every field for a row made in Firestore.
 */
export function checkedColumns(
  values: RowValues,
  sync: SyncMeta | null,
  sheetColumns: readonly string[] | null,
): string[] {
  if (sheetColumns) return [...sheetColumns].sort();
  if (sync?.origin === "sheet") return [...sync.columns].sort();
  return [...new Set([...(sync?.columns ?? []), ...Object.keys(values)])].sort();
}

export function contentHash(values: RowValues, columns: readonly string[]): string {
  const picked: Record<string, CellValue> = {};
  for (const c of columns) picked[c] = values[c] ?? null;
  return hashRow(picked);
}

export function isInSync(
  values: RowValues,
  sync: SyncMeta | null,
  sheetColumns: readonly string[] | null,
): boolean {
  if (!sync) return false;
  return contentHash(values, checkedColumns(values, sync, sheetColumns)) === sync.hash;
}
