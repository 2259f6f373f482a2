/**
 * Firestore's storage size of a document, as its limits count it (1 MiB a
 * document): https://firebase.google.com/docs/firestore/storage-size. Used to
 * refuse one row that would not fit, instead of failing a whole batch.
 */
import { utf8Length } from "../../../contract/src/limits.js";
import type { CellValue } from "./values.js";

function valueBytes(value: CellValue | undefined): number {
  if (value === null || value === undefined || typeof value === "boolean") return 1;
  if (typeof value === "number" || value instanceof Date) return 8;
  return utf8Length(value) + 1;
}

export function documentBytes(
  collection: string,
  id: string,
  values: Record<string, CellValue>,
): number {
  let bytes = utf8Length(collection) + 1 + utf8Length(id) + 1 + 16 + 32;
  for (const [name, value] of Object.entries(values))
    bytes += utf8Length(name) + 1 + valueBytes(value);
  return bytes;
}
