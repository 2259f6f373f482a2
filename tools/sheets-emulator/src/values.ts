// Converting between API values and stored cells: valueInputOption on the way in,
// valueRenderOption / dateTimeRenderOption on the way out.

import {
  formatDatePattern,
  parseDateString,
  serialFromInstant,
  type NumberFormat,
} from "./dates.js";
import { CellError, type Evaluated, type Scalar } from "./formula.js";

export interface Cell {
  /** Literal value (absent for formula cells and for cleared cells that keep a format). */
  value?: Scalar;
  formula?: string;
  /** Sheets keeps a cell's number format when its value is replaced or cleared. */
  format?: NumberFormat;
}

export type ValueInputOption = "RAW" | "USER_ENTERED";
export type ValueRenderOption = "FORMATTED_VALUE" | "UNFORMATTED_VALUE" | "FORMULA";
export type DateTimeRenderOption = "SERIAL_NUMBER" | "FORMATTED_STRING";

export type Input =
  | { kind: "skip" }
  | { kind: "clear" }
  | { kind: "set"; value?: Scalar; formula?: string; format?: NumberFormat };

const NUMBER_RE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const PERCENT_RE = /^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))%$/;

/** Interprets one entry of a `values` array. Throws a message for non-scalar JSON. */
export function parseInput(
  raw: unknown,
  option: ValueInputOption,
  typed: { timeZone: string },
): Input {
  // null leaves the cell as it is; "" clears it (values.update / batchUpdate semantics).
  if (raw === null || raw === undefined) return { kind: "skip" };
  if (typeof raw === "number") {
    if (!Number.isFinite(raw)) throw new Error("number_value must be finite");
    return { kind: "set", value: raw };
  }
  if (typeof raw === "boolean") return { kind: "set", value: raw };
  if (raw instanceof Date) return fromDate(raw, typed.timeZone);
  if (typeof raw !== "string") {
    throw new Error(Array.isArray(raw) ? "list_value" : "struct_value");
  }
  if (raw === "") return { kind: "clear" };
  if (option === "RAW") return { kind: "set", value: raw };
  if (raw.startsWith("'")) return { kind: "set", value: raw.slice(1) };
  if (raw.startsWith("=") && raw.length > 1) return { kind: "set", formula: raw };
  if (NUMBER_RE.test(raw)) return { kind: "set", value: Number(raw) };
  const upper = raw.toUpperCase();
  if (upper === "TRUE" || upper === "FALSE") return { kind: "set", value: upper === "TRUE" };
  const pct = PERCENT_RE.exec(raw);
  if (pct) {
    const n = Number(pct[1]);
    const pattern = Number.isInteger(n) ? "0%" : "0.00%";
    return { kind: "set", value: n / 100, format: { type: "PERCENT", pattern } };
  }
  const date = parseDateString(raw);
  if (date) return { kind: "set", value: date.serial, format: date.format };
  return { kind: "set", value: raw };
}

function fromDate(d: Date, timeZone: string): Input {
  const serial = serialFromInstant(d.getTime(), timeZone);
  const midnight = Number.isInteger(Math.round(serial * 86_400_000) / 86_400_000);
  const hasMs = d.getTime() % 1000 !== 0;
  const format: NumberFormat = midnight
    ? { type: "DATE", pattern: "yyyy-mm-dd" }
    : { type: "DATE_TIME", pattern: `yyyy-mm-dd hh:mm:ss${hasMs ? ".000" : ""}` };
  return { kind: "set", value: serial, format };
}

/** Applies an input to a cell, returning the new cell (undefined = nothing left). */
export function applyInput(cell: Cell | undefined, input: Input): Cell | undefined {
  if (input.kind === "skip") return cell;
  const format = input.kind === "set" && input.format ? input.format : cell?.format;
  const next: Cell = {};
  if (input.kind === "set") {
    if (input.formula !== undefined) next.formula = input.formula;
    else if (input.value !== undefined) next.value = input.value;
  }
  if (format) next.format = format;
  return next.value === undefined && next.formula === undefined && !next.format ? undefined : next;
}

function exponential(n: number, digits: number): string {
  const [mantissa, exp] = n.toExponential(digits).split("e");
  const m = String(Number(mantissa));
  const e = Number(exp);
  return `${m}E${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
}

/** The "Automatic" number format: integers in full, otherwise about 10 significant digits. */
export function formatGeneral(n: number): string {
  if (!Number.isFinite(n)) return "#NUM!";
  if (n === 0) return "0";
  const abs = Math.abs(n);
  if (abs >= 1e15) return exponential(n, 5);
  if (Number.isInteger(n)) return String(n);
  if (abs < 1e-9) return exponential(n, 5);
  const rounded = Number(n.toPrecision(10));
  const text = String(rounded);
  return text.includes("e") ? exponential(rounded, 5) : text;
}

const TEMPORAL = new Set(["DATE", "TIME", "DATE_TIME"]);

export function isTemporal(format: NumberFormat | undefined): boolean {
  return format !== undefined && TEMPORAL.has(format.type);
}

function formatNumber(n: number, format: NumberFormat | undefined): string {
  if (format && isTemporal(format)) return formatDatePattern(n, format.pattern);
  if (format?.type === "PERCENT") {
    const decimals = /\.(0+)%/.exec(format.pattern)?.[1]?.length ?? 0;
    return `${(n * 100).toFixed(decimals)}%`;
  }
  return formatGeneral(n);
}

export function formatScalar(value: Scalar, format: NumberFormat | undefined): string {
  if (value instanceof CellError) return value.code;
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") return formatNumber(value, format);
  return value;
}

export interface RenderOptions {
  valueRenderOption: ValueRenderOption;
  dateTimeRenderOption: DateTimeRenderOption;
}

/** Renders a non-empty cell for a values response. */
export function renderCell(
  cell: Cell,
  effective: Evaluated,
  opts: RenderOptions,
): string | number | boolean {
  const format = cell.format ?? effective.format;
  const value = effective.value;
  if (opts.valueRenderOption === "FORMATTED_VALUE") return formatScalar(value, format);
  if (opts.valueRenderOption === "FORMULA" && cell.formula !== undefined) return cell.formula;
  if (value instanceof CellError) return value.code;
  if (
    typeof value === "number" &&
    isTemporal(format) &&
    opts.dateTimeRenderOption === "FORMATTED_STRING"
  ) {
    return formatScalar(value, format);
  }
  return value;
}
