import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { SIGNATURE_TOLERANCE_MS } from "../../../contract/src/limits.js";
import { sign, verifySignature } from "../../src/ingest/webhook.js";

describe("webhook signature", () => {
  const secret = "dev-secret";
  const now = 1_763_700_000_000;
  const body = Buffer.from('{"a":"caf\\u00e9"}');
  const ts = String(now);

  it("is v1= and the hex HMAC-SHA256 of timestamp.body", () => {
    const expected = createHmac("sha256", secret).update(`${ts}.${body.toString()}`).digest("hex");
    assert.equal(sign(secret, ts, body), `v1=${expected}`);
  });

  it("accepts a good signature, also among several (key rotation)", () => {
    const good = sign(secret, ts, body);
    assert.deepEqual(verifySignature({ secret, timestamp: ts, signature: good, body, now }), {
      ok: true,
    });
    const rotated = `${sign("old", ts, body)}, ${good}`;
    assert.deepEqual(verifySignature({ secret, timestamp: ts, signature: rotated, body, now }), {
      ok: true,
    });
  });

  const reasons: Array<[string, Partial<Parameters<typeof verifySignature>[0]>, string]> = [
    ["no timestamp", { timestamp: undefined }, "missing_timestamp"],
    ["no signature", { signature: undefined }, "missing_signature"],
    ["a timestamp that is not ms", { timestamp: "12:00" }, "bad_timestamp"],
    [
      "a timestamp 5 minutes and 1 ms old",
      { timestamp: String(now - SIGNATURE_TOLERANCE_MS - 1) },
      "stale_timestamp",
    ],
    [
      "a timestamp from the future",
      { timestamp: String(now + SIGNATURE_TOLERANCE_MS + 1) },
      "stale_timestamp",
    ],
    ["another secret", { secret: "nope" }, "bad_signature"],
    ["a changed body", { body: Buffer.from('{"a":"cafe"}') }, "bad_signature"],
    ["uppercase hex", { signature: sign(secret, ts, body).toUpperCase() }, "bad_signature"],
  ];
  for (const [name, change, reason] of reasons) {
    it(`rejects ${name}`, () => {
      const base = { secret, timestamp: ts, signature: sign(secret, ts, body), body, now };
      const args = { ...base, ...change };
      // A changed timestamp keeps the signature of the original, except where the test is about staleness.
      if (reason === "stale_timestamp") args.signature = sign(secret, args.timestamp!, body);
      assert.deepEqual(verifySignature(args), { ok: false, reason });
    });
  }

  it("accepts the edges of the ±5 minute window", () => {
    for (const at of [now - SIGNATURE_TOLERANCE_MS, now + SIGNATURE_TOLERANCE_MS]) {
      const t = String(at);
      assert.deepEqual(
        verifySignature({ secret, timestamp: t, signature: sign(secret, t, body), body, now }),
        { ok: true },
      );
    }
  });
});
