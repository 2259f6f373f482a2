/**
 * Webhook signatures: `X-Sheet-Sync-Signature: v1=<hex HMAC-SHA256(secret,
 * timestamp + "." + raw body)>` with `X-Sheet-Sync-Timestamp` in ms. The
 * timestamp is inside the signed text, so an old request cannot be replayed
 * with a fresh timestamp. Several comma-separated signatures may be sent
 * (secret rotation); any one that matches is enough.
 */
export const SIGNATURE_HEADER = "x-sheet-sync-signature";
export const TIMESTAMP_HEADER = "x-sheet-sync-timestamp";
export const SIGNATURE_VERSION = "v1";

/** HMAC-SHA256(key, message) as bytes; Apps Script returns signed bytes (-128..127). */
export type HmacSha256 = (message: string, key: string) => readonly number[];

/** The signed text. The body must be ASCII (see toAsciiJson) so bytes equal characters. */
export function signedMessage(timestamp: string, body: string): string {
  return `${timestamp}.${body}`;
}

export function bytesToHex(bytes: readonly number[]): string {
  return bytes.map((b) => (b & 0xff).toString(16).padStart(2, "0")).join("");
}

export function signBody(
  hmac: HmacSha256,
  secret: string,
  timestamp: string,
  body: string,
): string {
  return `${SIGNATURE_VERSION}=${bytesToHex(hmac(signedMessage(timestamp, body), secret))}`;
}
