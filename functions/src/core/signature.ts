/**
 * Webhook signatures: `X-Sheet-Sync-Signature: v1=<hex HMAC-SHA256(secret,
 * timestamp + "." + raw body)>` with `X-Sheet-Sync-Timestamp` in ms. The
 * timestamp is inside the signed text, so an old request cannot be replayed
 * with a fresh timestamp.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "x-sheet-sync-signature";
export const TIMESTAMP_HEADER = "x-sheet-sync-timestamp";
export const SIGNATURE_TOLERANCE_MS = 5 * 60 * 1000;

export function sign(secret: string, timestamp: string, body: Buffer | string): string {
  const mac = createHmac("sha256", secret);
  mac.update(`${timestamp}.`);
  mac.update(body);
  return `v1=${mac.digest("hex")}`;
}

export type SignatureCheck =
  | { ok: true }
  | {
      ok: false;
      reason:
        | "missing_signature"
        | "missing_timestamp"
        | "bad_timestamp"
        | "stale_timestamp"
        | "bad_signature";
    };

export function verifySignature(opts: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Buffer;
  now: number;
}): SignatureCheck {
  const { secret, timestamp, signature, body, now } = opts;
  if (!timestamp) return { ok: false, reason: "missing_timestamp" };
  if (!signature) return { ok: false, reason: "missing_signature" };
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, reason: "bad_timestamp" };
  if (Math.abs(now - Number(timestamp)) > SIGNATURE_TOLERANCE_MS) {
    return { ok: false, reason: "stale_timestamp" };
  }
  const expected = Buffer.from(sign(secret, timestamp, body));
  // A header may carry several comma-separated versions (key rotation); any may match.
  const matches = signature
    .split(",")
    .map((s) => Buffer.from(s.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
  return matches ? { ok: true } : { ok: false, reason: "bad_signature" };
}
