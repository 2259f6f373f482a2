import { PROPERTY_CHUNK_CHARS, PROPERTY_STORE_BUDGET_BYTES } from "./constants";

/** The subset of GoogleAppsScript.Properties.Properties used here. */
export interface PropertyStore {
  getProperties(): Record<string, string>;
  setProperties(properties: Record<string, string>): unknown;
  deleteProperty(key: string): unknown;
}

export class StorageFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StorageFullError";
  }
}

const countKey = (name: string): string => `${name}.n`;
const chunkKey = (name: string, i: number): string => `${name}.${i}`;

function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes a set of properties occupies, counting keys too (conservative). */
export function propertiesBytes(properties: Record<string, string>): number {
  let total = 0;
  for (const [key, value] of Object.entries(properties)) total += utf8Bytes(key) + utf8Bytes(value);
  return total;
}

/** Reads a value written by writeChunked; null when absent or incomplete. */
export function readChunked(all: Record<string, string>, name: string): string | null {
  const count = Number(all[countKey(name)]);
  if (!Number.isInteger(count) || count < 0) return null;
  let text = "";
  for (let i = 0; i < count; i++) {
    const chunk = all[chunkKey(name, i)];
    if (chunk === undefined) return null;
    text += chunk;
  }
  return text;
}

/**
 * Stores `value` (which must be ASCII, so chars are bytes) over as many
 * `name.<i>` keys as needed plus `name.n`. Throws StorageFullError, without
 * writing, when the store would exceed its budget.
 */
export function writeChunked(
  store: PropertyStore,
  name: string,
  value: string,
  all: Record<string, string> = store.getProperties(),
): void {
  if (/[\u0080-\uffff]/.test(value)) throw new Error(`${name}: chunked values must be ASCII`);
  const oldCount = Number(all[countKey(name)]) || 0;
  const next: Record<string, string> = {};
  const count = Math.ceil(value.length / PROPERTY_CHUNK_CHARS);
  for (let i = 0; i < count; i++) {
    next[chunkKey(name, i)] = value.slice(i * PROPERTY_CHUNK_CHARS, (i + 1) * PROPERTY_CHUNK_CHARS);
  }
  next[countKey(name)] = String(count);

  const others: Record<string, string> = {};
  for (const [key, v] of Object.entries(all)) {
    if (key !== countKey(name) && !isChunkKey(key, name)) others[key] = v;
  }
  const needed = propertiesBytes(others) + propertiesBytes(next);
  if (needed > PROPERTY_STORE_BUDGET_BYTES) {
    throw new StorageFullError(
      `${name} needs ${needed} bytes of properties; the budget is ${PROPERTY_STORE_BUDGET_BYTES}`,
    );
  }
  try {
    // One call: the new chunks and their count replace the old ones together.
    store.setProperties(next);
  } catch (error) {
    if (/quota|too large/i.test(String(error))) throw new StorageFullError(String(error));
    throw error;
  }
  for (let i = count; i < oldCount; i++) store.deleteProperty(chunkKey(name, i));
}

function isChunkKey(key: string, name: string): boolean {
  return key.startsWith(`${name}.`) && /^\d+$/.test(key.slice(name.length + 1));
}
