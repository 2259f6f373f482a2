/** HMAC-SHA256(key, message) as bytes; Apps Script returns signed bytes (-128..127). */
export type HmacSha256 = (message: string, key: string) => readonly number[];

export function bytesToHex(bytes: readonly number[]): string {
  return bytes.map((b) => (b & 0xff).toString(16).padStart(2, "0")).join("");
}

/** `v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`; body must be ASCII. */
export function signBody(
  hmac: HmacSha256,
  secret: string,
  timestamp: string,
  body: string,
): string {
  return `v1=${bytesToHex(hmac(`${timestamp}.${body}`, secret))}`;
}
