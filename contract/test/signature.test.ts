import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { toAsciiJson } from "../src/cells.js";
import { bytesToHex, signBody } from "../src/signature.js";

// Apps Script's Utilities.computeHmacSha256Signature returns signed bytes (-128..127).
const appsScriptHmac = (message: string, key: string): number[] =>
  [
    ...createHmac("sha256", Buffer.from(key, "utf8")).update(Buffer.from(message, "utf8")).digest(),
  ].map((b) => (b > 127 ? b - 256 : b));

describe("signature", () => {
  it("matches Node's HMAC-SHA256 for a body with non-ASCII text", () => {
    const secret = "sëcret-🔑";
    const timestamp = "1763700000000";
    const body = toAsciiJson({ changes: [{ id: "r_1", values: { name: "Crème brûlée 🍮" } }] });
    const expected = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
    assert.equal(signBody(appsScriptHmac, secret, timestamp, body), `v1=${expected}`);
  });

  it("renders signed bytes as unsigned hex", () => {
    assert.ok(
      appsScriptHmac("x", "k").some((b) => b < 0),
      "the test HMAC must return signed bytes like Google",
    );
    assert.equal(bytesToHex([-128, -1, 0, 15, 127]), "80ff000f7f");
  });
});
