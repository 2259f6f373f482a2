/**
 * PropertiesService with Google's quotas: 9 KB per value and 500 KB per store
 * (keys + values, UTF-8). Writes that would break a limit throw and change
 * nothing, with Google's messages.
 */
export const VALUE_LIMIT_BYTES = 9 * 1024;
export const STORE_LIMIT_BYTES = 500 * 1024;

const bytes = (text: string): number => Buffer.byteLength(text, "utf8");

export class FakeProperties {
  private readonly values = new Map<string, string>();

  constructor(initial: Record<string, string> = {}) {
    this.setProperties(initial);
  }

  getProperty(key: string): string | null {
    return this.values.get(key) ?? null;
  }
  getProperties(): Record<string, string> {
    return Object.fromEntries(this.values);
  }
  getKeys(): string[] {
    return [...this.values.keys()];
  }
  setProperty(key: string, value: string): this {
    return this.setProperties({ [key]: value });
  }
  setProperties(properties: Record<string, string>, deleteAllOthers = false): this {
    const next = new Map(deleteAllOthers ? [] : this.values);
    for (const [key, value] of Object.entries(properties)) {
      const text = String(value);
      if (bytes(text) > VALUE_LIMIT_BYTES) throw new Error("Argument too large: value");
      next.set(key, text);
    }
    let total = 0;
    for (const [key, value] of next) total += bytes(key) + bytes(value);
    if (total > STORE_LIMIT_BYTES) {
      throw new Error(
        "You have exceeded the property storage quota. Please remove some properties and try again.",
      );
    }
    this.values.clear();
    for (const [key, value] of next) this.values.set(key, value);
    return this;
  }
  deleteProperty(key: string): this {
    this.values.delete(key);
    return this;
  }
  deleteAllProperties(): this {
    this.values.clear();
    return this;
  }

  /** Test helper: bytes used, as the quota counts them. */
  usedBytes(): number {
    let total = 0;
    for (const [key, value] of this.values) total += bytes(key) + bytes(value);
    return total;
  }
}

export class FakePropertiesService {
  constructor(
    readonly script = new FakeProperties(),
    readonly document = new FakeProperties(),
    readonly user = new FakeProperties(),
  ) {}
  getScriptProperties(): FakeProperties {
    return this.script;
  }
  getDocumentProperties(): FakeProperties {
    return this.document;
  }
  getUserProperties(): FakeProperties {
    return this.user;
  }
}
