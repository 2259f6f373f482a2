import { createHmac, randomUUID } from "node:crypto";

export const Charset = { UTF_8: "UTF_8", US_ASCII: "US_ASCII" } as const;

type Input = string | number[];

const toBuffer = (input: Input, charset: string): Buffer =>
  typeof input === "string"
    ? Buffer.from(input, charset === Charset.US_ASCII ? "latin1" : "utf8")
    : Buffer.from(input.map((b) => b & 0xff));

/** Google returns Java bytes: signed, -128..127. */
const toSignedBytes = (buffer: Buffer): number[] => [...buffer].map((b) => (b > 127 ? b - 256 : b));

export class FakeUtilities {
  readonly Charset = Charset;

  /** @param uuids optional source of UUIDs (for deterministic ids in tests). */
  constructor(private readonly uuids: () => string = randomUUID) {}

  computeHmacSha256Signature(value: Input, key: Input, charset: string = Charset.UTF_8): number[] {
    return toSignedBytes(
      createHmac("sha256", toBuffer(key, charset)).update(toBuffer(value, charset)).digest(),
    );
  }

  getUuid(): string {
    return this.uuids();
  }
}
