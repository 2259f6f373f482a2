// Public entry point of the Sheets API v4 emulator.

export {
  createSheetsEmulator,
  SheetsEmulator,
  type EmulatorRequest,
  type EmulatorResponse,
  type EmulatorStats,
  type Fault,
  type FaultStatus,
  type RequestEvent,
  type ScriptValue,
  type SeedSheet,
  type SheetChangeEvent,
  type SeedSpreadsheet,
  type SheetSnapshot,
  type SheetsEmulatorOptions,
  type SortBox,
  type SpreadsheetSnapshot,
} from "./emulator.js";
export type {
  CellData,
  CellFormat,
  ErrorType,
  ErrorValue,
  ExtendedValue,
  GridData,
  RowData,
} from "./gridData.js";
export type { RawRow } from "./userEdits.js";
export type { Cell } from "./values.js";
export type { NumberFormat } from "./dates.js";
export { startSheetsEmulator, type RunningSheetsEmulator, type StartOptions } from "./server.js";
export {
  serialFromWall,
  wallFromSerial,
  serialFromInstant,
  instantFromSerial,
  type WallTime,
} from "./dates.js";
