import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { toAsciiJson } from "../../src/core/encode";
import { bytesToHex, signBody } from "../../src/core/signature";
import { FakeUtilities } from "../fakes";

describe("signature", () => {
  const utilities = new FakeUtilities();
  const hmac = (message: string, key: string) =>
    utilities.computeHmacSha256Signature(message, key, utilities.Charset.UTF_8);

  it("matches Node's HMAC-SHA256 for a body with non-ASCII text", () => {
    const secret = "sëcret-🔑";
    const timestamp = "1763700000000";
    const body = toAsciiJson({ changes: [{ id: "r_1", values: { name: "Crème brûlée 🍮" } }] });
    const expected = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
    assert.equal(signBody(hmac, secret, timestamp, body), `v1=${expected}`);
  });

  it("renders Apps Script's signed bytes as unsigned hex", () => {
    const bytes = utilities.computeHmacSha256Signature("x", "k");
    assert.ok(
      bytes.some((b) => b < 0),
      "the fake must return signed bytes like Google",
    );
    assert.equal(bytesToHex([-128, -1, 0, 15, 127]), "80ff000f7f");
  });
});
