/**
 * Row values as sheet cells. Writes use valueInputOption USER_ENTERED so
 * dates become real date cells; text is prefixed with an apostrophe so that
 * "0042", "TRUE" or "=1+1" stay text. Reads get date cells as serial numbers
 * in the spreadsheet's time zone.
 */
import type { CellValue } from "./values.js";

/** What the Sheets API takes in a `values` array with USER_ENTERED. */
export type SheetInput = string | number | boolean;

const MS_PER_DAY = 86_400_000;
/** Sheets' day zero: serial 0 is 1899-12-30 00:00 in the spreadsheet's time zone. */
const SERIAL_EPOCH_UTC = Date.UTC(1899, 11, 30);

/** Offset of `timeZone` from UTC at instant `ms`, in ms (e.g. +3_600_000 for CET in winter). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const local = Date.UTC(
    get("year"),
    get("month") - 1,
    get("day"),
    get("hour"),
    get("minute"),
    get("second"),
  );
  return local - Math.floor(ms / 1000) * 1000;
}

export function dateToSerial(date: Date, timeZone: string): number {
  const ms = date.getTime();
  return (ms + zoneOffsetMs(ms, timeZone) - SERIAL_EPOCH_UTC) / MS_PER_DAY;
}

/** `yyyy-mm-dd hh:mm:ss[.sss]` in the sheet's zone: what a person would type. */
export function formatSheetDate(date: Date, timeZone: string): string {
  const local = new Date(date.getTime() + zoneOffsetMs(date.getTime(), timeZone));
  const iso = local.toISOString(); // the local wall time, spelled as if UTC
  const ms = iso.slice(20, 23);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms === "000" ? "" : `.${ms}`}`;
}

export function toSheetInput(value: CellValue, timeZone: string): SheetInput {
  if (value === null) return "";
  if (value instanceof Date) return formatSheetDate(value, timeZone);
  if (typeof value === "string") return value === "" ? "" : `'${value}`;
  return value;
}

/** The instant a serial number means in the sheet's time zone (what Apps Script's getValues gives). */
export function serialToDate(serial: number, timeZone: string): Date {
  const wall = Math.round(serial * MS_PER_DAY) + SERIAL_EPOCH_UTC;
  // The zone's offset depends on the instant; two steps settle it, also next to a DST change.
  let ms = wall - zoneOffsetMs(wall, timeZone);
  ms = wall - zoneOffsetMs(ms, timeZone);
  return new Date(ms);
}
