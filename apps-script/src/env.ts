/**
 * The Apps Script services the sync uses, as the engine sees them. main.ts
 * builds them from the real services (SpreadsheetApp, PropertiesService,
 * LockService, Utilities); the model-based test builds them over the local
 * Sheets emulator, so the same engine code runs in both.
 */

import type { PostResult } from "./core/send";

/** The subset of GoogleAppsScript.Properties.Properties used. */
export interface Props {
  getProperty(key: string): string | null;
  setProperty(key: string, value: string): unknown;
  deleteProperty(key: string): unknown;
  getProperties(): Record<string, string>;
  setProperties(properties: Record<string, string>): unknown;
}

/** The synced tab. Rows are data rows (0 = sheet row 2), columns 0-based. */
export interface SheetPort {
  getName(): string;
  /** Row 1 and every data row, in one read (getDataRange().getValues()). */
  readAll(): { headerRow: unknown[]; rows: unknown[][] };
  /** Row 1 and one data row (0 = sheet row 2), in two small reads. */
  readRow(row: number): { headerRow: unknown[]; cells: unknown[] };
  /** Writes cells of one column, one setValues per run of adjacent rows. */
  writeColumn(column: number, cells: ReadonlyMap<number, string | number>): void;
  getNote(row: number, column: number): string;
  setNote(row: number, column: number, note: string): void;
}

/** The subset of GoogleAppsScript.Cache.Cache used (best effort: entries may go at any time). */
export interface CachePort {
  get(key: string): string | null;
  getAll(keys: string[]): Record<string, string>;
  put(key: string, value: string, expirationInSeconds: number): void;
  putAll(values: Record<string, string>, expirationInSeconds: number): void;
  remove(key: string): void;
}

export interface ScriptEnv {
  now(): number;
  uuid(): string;
  /**
   * Runs `fn` under the script lock; undefined when the lock was not
   * obtained. Sheet writes made inside land before the lock is released.
   */
  withLock<T>(fn: () => T): T | undefined;
  scriptProperties: Props;
  documentProperties: Props;
  /** The document's cache (CacheService), where waiting edits leave their words (words.ts). */
  cache?: CachePort | null;
  sheet(name: string): SheetPort | null;
  spreadsheetId(): string;
  hmac(message: string, key: string): readonly number[];
  /**
   * One signed request to the functions, answered before it returns (UrlFetchApp): the describe
   * request made under the lock. Without it, rows the flush wrote since the last scan are sent
   * for the server to place (its `moved` outcome), as before there was a describe.
   */
  fetch?(request: { url: string; headers: Record<string, string>; body: string }): PostResult;
}
