// Date serial numbers as Sheets stores them: days since 1899-12-30 of the wall-clock time in the
// spreadsheet's time zone. A wall time maps to a serial without any zone arithmetic; the zone only
// matters when an instant (a JS Date, NOW()) has to become a wall time.

const EPOCH_MS = Date.UTC(1899, 11, 30);
const DAY_MS = 86_400_000;

export interface WallTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

export function serialFromWall(w: WallTime): number {
  const ms = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second, w.millisecond);
  return (ms - EPOCH_MS) / DAY_MS;
}

export function wallFromSerial(serial: number): WallTime {
  // Rounding to the millisecond hides binary fractions (0.4375 days is exact, 1/3 is not).
  const d = new Date(EPOCH_MS + Math.round(serial * DAY_MS));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

export function wallInZone(instantMs: number, timeZone: string): WallTime {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, fmt);
  }
  const parts: Record<string, number> = {};
  for (const p of fmt.formatToParts(new Date(instantMs))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts["year"] ?? 1970,
    month: parts["month"] ?? 1,
    day: parts["day"] ?? 1,
    hour: parts["hour"] ?? 0,
    minute: parts["minute"] ?? 0,
    second: parts["second"] ?? 0,
    millisecond: ((instantMs % 1000) + 1000) % 1000,
  };
}

export function serialFromInstant(instantMs: number, timeZone: string): number {
  return serialFromWall(wallInZone(instantMs, timeZone));
}

/** The instant a wall-clock serial in `timeZone` stands for (what Apps Script's Date holds). */
export function instantFromSerial(serial: number, timeZone: string): number {
  const wall = EPOCH_MS + Math.round(serial * DAY_MS);
  // The zone offset at the guess can differ from the one at the answer near a DST switch,
  // so correct twice.
  let guess = wall;
  for (let i = 0; i < 2; i++) {
    const seen = EPOCH_MS + Math.round(serialFromInstant(guess, timeZone) * DAY_MS);
    guess += wall - seen;
  }
  return guess;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validWall(w: WallTime): boolean {
  return (
    w.month >= 1 &&
    w.month <= 12 &&
    w.day >= 1 &&
    w.day <= daysInMonth(w.year, w.month) &&
    w.hour <= 23 &&
    w.minute <= 59 &&
    w.second <= 59
  );
}

/** A number format as Sheets stores it on a cell (`userEnteredFormat.numberFormat`). */
export interface NumberFormat {
  type: "DATE" | "TIME" | "DATE_TIME" | "PERCENT" | "NUMBER" | "TEXT";
  pattern: string;
}

const TIME = String.raw`(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?`;
const ISO_DATE = new RegExp(String.raw`^(\d{4})-(\d{1,2})-(\d{1,2})(?: ${TIME})?$`);
const SLASH_YMD = new RegExp(String.raw`^(\d{4})/(\d{1,2})/(\d{1,2})(?: ${TIME})?$`);
const US_DATE = new RegExp(String.raw`^(\d{1,2})/(\d{1,2})/(\d{4})(?: ${TIME})?$`);
const TIME_ONLY = new RegExp(String.raw`^${TIME}$`);

function timeParts(m: RegExpExecArray, at: number) {
  const ms = m[at + 3];
  return {
    hasTime: m[at] !== undefined,
    hasMs: ms !== undefined,
    hour: Number(m[at] ?? 0),
    minute: Number(m[at + 1] ?? 0),
    second: Number(m[at + 2] ?? 0),
    millisecond: ms === undefined ? 0 : Number(ms.padEnd(3, "0")),
  };
}

/**
 * Recognises the date and time strings an en_US spreadsheet turns into dates when typed
 * (USER_ENTERED). Returns the serial and the format Sheets would attach to the cell.
 */
export function parseDateString(
  text: string,
): { serial: number; format: NumberFormat } | undefined {
  let m = ISO_DATE.exec(text) ?? SLASH_YMD.exec(text);
  let order: "ymd" | "mdy" = "ymd";
  if (!m) {
    m = US_DATE.exec(text);
    order = "mdy";
  }
  if (m) {
    const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const t = timeParts(m, 4);
    const w: WallTime =
      order === "ymd" ? { year: a, month: b, day: c, ...t } : { year: c, month: a, day: b, ...t };
    if (!validWall(w)) return undefined;
    const sep = text.includes("-") ? "-" : "/";
    const datePattern = order === "ymd" ? `yyyy${sep}mm${sep}dd` : "m/d/yyyy";
    const timePattern = order === "ymd" ? "hh:mm:ss" : "h:mm:ss";
    const format: NumberFormat = t.hasTime
      ? { type: "DATE_TIME", pattern: `${datePattern} ${timePattern}${t.hasMs ? ".000" : ""}` }
      : { type: "DATE", pattern: datePattern };
    return { serial: serialFromWall(w), format };
  }
  const tm = TIME_ONLY.exec(text);
  if (tm) {
    const t = timeParts(tm, 1);
    const w: WallTime = { year: 1899, month: 12, day: 30, ...t };
    if (!validWall(w)) return undefined;
    return {
      serial: serialFromWall(w),
      format: { type: "TIME", pattern: `h:mm:ss${t.hasMs ? ".000" : ""}` },
    };
  }
  return undefined;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/**
 * Renders a serial with the small set of date patterns this emulator attaches to cells
 * (yyyy, mm/m, dd/d, hh/h, ss, .000; `m` after an hour or before seconds means minutes).
 */
export function formatDatePattern(serial: number, pattern: string): string {
  const w = wallFromSerial(serial);
  const tokens = pattern.match(/yyyy|mm|m|dd|d|hh|h|ss|\.000|[^ymdhs.]+|./g) ?? [];
  let out = "";
  let lastWasHour = false;
  tokens.forEach((tok, i) => {
    const next = tokens.slice(i + 1).find((t) => /^[ymdhs]/.test(t));
    switch (tok) {
      case "yyyy":
        out += pad(w.year, 4);
        break;
      case "mm":
      case "m": {
        const minutes = lastWasHour || next === "ss";
        const v = minutes ? w.minute : w.month;
        out += tok === "mm" ? pad(v, 2) : String(v);
        break;
      }
      case "dd":
        out += pad(w.day, 2);
        break;
      case "d":
        out += String(w.day);
        break;
      case "hh":
        out += pad(w.hour, 2);
        break;
      case "h":
        out += String(w.hour);
        break;
      case "ss":
        out += pad(w.second, 2);
        break;
      case ".000":
        out += `.${pad(w.millisecond, 3)}`;
        break;
      default:
        out += tok;
    }
    if (/^[ymdhs]/.test(tok)) lastWasHour = tok === "hh" || tok === "h";
  });
  return out;
}
