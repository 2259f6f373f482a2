// Public entry point of the Sheets API v4 emulator.

export {
  createSheetsEmulator,
  SheetsEmulator,
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
  type SpreadsheetSnapshot,
} from "./emulator.js";
export { startSheetsEmulator, type RunningSheetsEmulator, type StartOptions } from "./server.js";
export {
  serialFromWall,
  wallFromSerial,
  serialFromInstant,
  instantFromSerial,
  type WallTime,
} from "./dates.js";
