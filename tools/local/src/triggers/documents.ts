/**
 * Snapshots of stand-in documents in the two encodings a Firestore CloudEvent
 * can carry: REST `Document` JSON and the v1 `Document` protobuf (wrapped in
 * `google.events.cloud.firestore.v1.DocumentEventData` for the event body).
 */

/** What the trigger delivery needs from an @firestore-emulator/server document. */
export interface StandInDocumentLike {
  getPath(): string;
  metadata: { hasExist: boolean; createdAt: Date | null; updatedAt: Date | null };
  toV1Document(): { serializeBinary(): Uint8Array };
}

/** The plain value objects the stand-in's fields produce (`toV1ValueObject()`). */
interface V1ValueObject {
  null_value?: number;
  boolean_value?: boolean;
  integer_value?: number;
  double_value?: number;
  timestamp_value?: { seconds: number; nanos: number };
  string_value?: string;
  bytes_value?: Uint8Array;
  reference_value?: string;
  geo_point_value?: { latitude: number; longitude: number };
  array_value?: { values?: V1ValueObject[] };
  map_value?: { fields?: Record<string, V1ValueObject> };
}

export type RestValue =
  | { nullValue: null }
  | { booleanValue: boolean }
  | { integerValue: string }
  | { doubleValue: number | string }
  | { timestampValue: string }
  | { stringValue: string }
  | { bytesValue: string }
  | { referenceValue: string }
  | { geoPointValue: { latitude: number; longitude: number } }
  | { arrayValue: { values?: RestValue[] } }
  | { mapValue: { fields?: Record<string, RestValue> } };

/** A REST (proto3 JSON) `google.firestore.v1.Document`. */
export interface RestDocument {
  name: string;
  fields: Record<string, RestValue>;
  createTime: string;
  updateTime: string;
}

/** One existing document's state, in both encodings. */
export interface DocumentState {
  json: RestDocument;
  /** Serialized v1 `Document` protobuf. */
  proto: Uint8Array;
  /** Order-independent rendering of the fields, to tell real changes from no-op writes. */
  fieldsKey: string;
}

/** RFC 3339 with nanoseconds, as proto3 JSON writes a Timestamp. */
export function rfc3339(seconds: number, nanos: number): string {
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  return `${base}.${String(nanos).padStart(9, "0")}Z`;
}

function dateToRfc3339(date: Date): string {
  const ms = date.getTime();
  return rfc3339(Math.floor(ms / 1000), (((ms % 1000) + 1000) % 1000) * 1e6);
}

function toRestValue(v: V1ValueObject): RestValue {
  // `in` rather than truthiness: false, 0 and "" are values too.
  if ("null_value" in v) return { nullValue: null };
  if ("boolean_value" in v) return { booleanValue: v.boolean_value! };
  if ("integer_value" in v) return { integerValue: String(v.integer_value) };
  if ("double_value" in v) {
    const d = v.double_value!;
    // proto3 JSON spells the non-finite doubles as strings.
    return { doubleValue: Number.isFinite(d) ? d : String(d) };
  }
  if ("timestamp_value" in v) {
    const t = v.timestamp_value!;
    return { timestampValue: rfc3339(Number(t.seconds), Number(t.nanos)) };
  }
  if ("string_value" in v) return { stringValue: v.string_value! };
  if ("bytes_value" in v) return { bytesValue: Buffer.from(v.bytes_value!).toString("base64") };
  if ("reference_value" in v) return { referenceValue: v.reference_value! };
  if ("geo_point_value" in v) {
    const g = v.geo_point_value!;
    return { geoPointValue: { latitude: g.latitude, longitude: g.longitude } };
  }
  if ("array_value" in v) {
    const values = (v.array_value?.values ?? []).map(toRestValue);
    return { arrayValue: values.length ? { values } : {} };
  }
  if ("map_value" in v) {
    return { mapValue: { fields: toRestFields(v.map_value?.fields ?? {}) } };
  }
  throw new Error(`unsupported Firestore value from the stand-in: ${JSON.stringify(v)}`);
}

function toRestFields(fields: Record<string, V1ValueObject>): Record<string, RestValue> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, toRestValue(v)]));
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The document's current state, or null when it does not exist. */
export function captureDocument(doc: StandInDocumentLike): DocumentState | null {
  const { metadata } = doc;
  if (!metadata.hasExist || !metadata.createdAt || !metadata.updatedAt) return null;
  // `fields` is private in the stand-in's typings; its values are what toV1Document() serializes.
  const raw = (doc as unknown as { fields: Record<string, { toV1ValueObject(): V1ValueObject }> })
    .fields;
  const fields = toRestFields(
    Object.fromEntries(Object.entries(raw).map(([k, f]) => [k, f.toV1ValueObject()])),
  );
  return {
    json: {
      name: doc.getPath(),
      fields,
      createTime: dateToRfc3339(metadata.createdAt),
      updateTime: dateToRfc3339(metadata.updatedAt),
    },
    proto: doc.toV1Document().serializeBinary(),
    fieldsKey: stableStringify(fields),
  };
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/**
 * `DocumentEventData { Document value = 1; Document old_value = 2; }`: both
 * fields are length-delimited messages, so the already serialized documents
 * only need a tag and a length in front.
 */
export function encodeDocumentEventData(
  value: Uint8Array | undefined,
  oldValue: Uint8Array | undefined,
): Buffer {
  const parts: Buffer[] = [];
  if (value) parts.push(Buffer.from([0x0a, ...varint(value.length)]), Buffer.from(value));
  if (oldValue) parts.push(Buffer.from([0x12, ...varint(oldValue.length)]), Buffer.from(oldValue));
  return Buffer.concat(parts);
}
