export type JsonValue = null | boolean | number | string | { $date: string };

/** The one wire encoding of a cell value as returned by `Range.getValues()`. */
export function encodeCell(value: unknown): JsonValue {
  if (value === "" || value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "boolean") return value;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : { $date: value.toISOString() };
  }
  return String(value);
}

/**
 * JSON with every non-ASCII UTF-16 code unit escaped as \uXXXX: the same value,
 * but bytes == chars, so the HMAC cannot depend on a charset and lengths are
 * byte counts.
 */
export function toAsciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0"),
  );
}
