/** What the stack sends the page (JSON over /api/state and Server-Sent Events). */

export interface SheetView {
  title: string;
  sheetName: string;
  timeZone: string;
  /** What the sheet shows (FORMATTED_VALUE), row 1 = header. */
  formatted: string[][];
  /** Formula text where a cell has one. */
  formulas: (string | null)[][];
}

export interface Doc {
  id: string;
  /** Fields as JSON; timestamps as {"$date": iso}. */
  data: Record<string, unknown>;
}

export interface ActivityEntry {
  id: number;
  at: number;
  /** to-firestore: sheet → webhook; to-sheet: functions → Sheets API; page: a page edit. */
  dir: "to-firestore" | "to-sheet" | "retry" | "conflict" | "page" | "info" | "error";
  title: string;
  detail?: string;
}

export interface PageInfo {
  firestore: "real" | "standin";
  webhook: string;
  functions: string;
  firestoreHost: string;
  collection: string;
  spreadsheetId: string;
}

export interface Stats {
  total: number;
  reads: number;
  writes: number;
  rejected: number;
  byMethod: Record<string, number>;
  errorsByStatus: Record<string, number>;
}
