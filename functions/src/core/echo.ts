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
 * The columns a row's hash covers.
 * - A row the sheet wrote: the columns the sheet sent with it. Its content is
 *   what the sheet sent exactly when those columns still hash to `_sync.hash`;
 *   fields beside them (an app's own, or a column added to the sheet since)
 *   do not make it a new change.
 * - A row stamped here after a Firestore edit: the sheet's columns; with
 *   them unknown, every field. A column the document lacks counts as an
 *   empty cell, as the sheet would send it.
 */
export function checkedColumns(
  values: RowValues,
  sync: SyncMeta | null,
  sheetColumns: readonly string[] | null,
): string[] {
  if (sync?.origin === "sheet") return [...sync.columns].sort();
  // Once the sheet's columns are known they are the whole story: fields an app keeps beside
  // them (even ones stamped before the columns were known) never make a row a change.
  if (sheetColumns) return [...sheetColumns].sort();
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
