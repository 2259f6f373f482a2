/**
 * Names and limits both ends of the sync must agree on. The script packs its
 * requests under the request limits; the functions enforce them.
 */

/** Header texts of the hidden bookkeeping columns. */
export const ID_HEADER = "_id";
/** When a person last edited the row (ms), stamped by the script. */
export const MODIFIED_HEADER = "_modified";
/** The sync's write counter of the row, written only by the functions' flush. */
export const REV_HEADER = "_rev";
export const BOOKKEEPING_HEADERS: readonly string[] = [ID_HEADER, MODIFIED_HEADER, REV_HEADER];

/** Row ids are Firestore document ids: this alphabet, and never `__…__` (reserved by Firestore). */
export const ROW_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const RESERVED_NAME = /^__.*__$/;

/** Why `id` cannot be a row id, or null when it can. */
export function rowIdProblem(id: string): string | null {
  if (!ROW_ID_PATTERN.test(id)) return "must be 1-128 characters of A-Z a-z 0-9 _ -";
  if (RESERVED_NAME.test(id)) return "ids like __x__ are reserved by Firestore";
  return null;
}

export function isRowId(id: string): boolean {
  return rowIdProblem(id) === null;
}

/** Firestore allows 1,500 bytes per field name. */
export const MAX_FIELD_NAME_BYTES = 1_500;

/**
 * Names every JavaScript object already has (`constructor`, `toString`, …): both ends keep a
 * row's columns in plain objects, where such a name would read as a value that is not there.
 */
const OBJECT_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * A row-1 cell as a column's name: its text, trimmed. Only text names a column: a number, a date
 * or TRUE/FALSE typed as a header is not one (Apps Script reads a date header as a date, the
 * Sheets API as a serial number, so the two ends could never agree on its name), and
 * `headerCellProblem` tells the person how to make it one.
 */
export function headerName(cell: unknown): string {
  return typeof cell === "string" ? cell.trim() : "";
}

/** Why a non-empty row-1 cell names no column, or null when it does (or is empty). */
export function headerCellProblem(cell: unknown): string | null {
  if (cell === null || cell === undefined || typeof cell === "string") return null;
  const kind =
    cell instanceof Date ? "a date" : typeof cell === "boolean" ? "TRUE/FALSE" : "a number";
  return `the header is ${kind}, not text: type it as text (start it with ') to sync the column`;
}

/** Why a header text cannot be a synced column, or null when it can. */
export function columnNameProblem(name: string): string | null {
  if (RESERVED_NAME.test(name)) return "names like __x__ are reserved by Firestore";
  if (OBJECT_MEMBERS.has(name)) {
    return "names of JavaScript object members (constructor, toString, valueOf, …) are not synced: rename the column, e.g. to Constructor";
  }
  if (utf8Length(name) > MAX_FIELD_NAME_BYTES) {
    return `longer than ${MAX_FIELD_NAME_BYTES} bytes, the most Firestore allows in a field name`;
  }
  return null;
}

/** Longest text a Google Sheets cell holds. */
export const MAX_CELL_TEXT = 50_000;
/** Firestore stores timestamps from year 1 to year 9999. */
export const MIN_DATE_MS = -62_135_596_800_000; // 0001-01-01T00:00:00.000Z
export const MAX_DATE_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
/** A document holds at most 1 MiB; a row is refused a little below that. */
export const MAX_DOCUMENT_BYTES = 1_048_576;

/** What the script puts in one request (the server takes more: see below). */
export const MAX_ROWS_PER_REQUEST = 500;
export const MAX_REQUEST_BYTES = 1_000_000;

/** What the server takes in one request. */
export const MAX_ROWS_PER_BATCH = 10_000;
/** Ids in one describe request (see DescribeRequest). */
export const MAX_DESCRIBE_IDS = 2_000;
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** A sheet change may not claim to be from further ahead than this (clock skew). */
export const MAX_FUTURE_SKEW_MS = 10 * 60 * 1000;
/** A signature's timestamp may be this far from the server's clock (replay window). */
export const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;

export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
