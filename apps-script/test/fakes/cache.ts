/**
 * CacheService as Google documents it: keys up to 250 characters, values up to 100 KB, an
 * expiration of at most 21,600 s (6 hours; 600 s when none is given), and at most 1,000 items
 * per cache, the oldest going first. A cache is best effort: `evictAll` stands for Google
 * dropping entries early.
 */
export const CACHE_KEY_LIMIT_CHARS = 250;
export const CACHE_VALUE_LIMIT_BYTES = 100 * 1024;
export const CACHE_MAX_EXPIRATION_SECONDS = 21_600;
export const CACHE_ITEM_CAP = 1_000;

export class FakeCache {
  private readonly entries = new Map<string, { value: string; until: number }>();

  constructor(private readonly clock: () => number = Date.now) {}

  get(key: string): string | null {
    this.checkKey(key);
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.until <= this.clock()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }
  getAll(keys: string[]): Record<string, string> {
    const found: Record<string, string> = {};
    for (const key of keys) {
      const value = this.get(key);
      if (value !== null) found[key] = value;
    }
    return found;
  }
  put(key: string, value: string, expirationInSeconds = 600): void {
    this.putAll({ [key]: value }, expirationInSeconds);
  }
  putAll(values: Record<string, string>, expirationInSeconds = 600): void {
    const seconds = Math.min(Math.max(1, expirationInSeconds), CACHE_MAX_EXPIRATION_SECONDS);
    for (const [key, value] of Object.entries(values)) {
      this.checkKey(key);
      if (Buffer.byteLength(String(value), "utf8") > CACHE_VALUE_LIMIT_BYTES) {
        throw new Error("Argument too large: value");
      }
    }
    for (const [key, value] of Object.entries(values)) {
      this.entries.delete(key);
      this.entries.set(key, { value: String(value), until: this.clock() + seconds * 1000 });
      while (this.entries.size > CACHE_ITEM_CAP)
        this.entries.delete(this.entries.keys().next().value!);
    }
  }
  remove(key: string): void {
    this.entries.delete(key);
  }
  removeAll(keys: string[]): void {
    for (const key of keys) this.entries.delete(key);
  }

  /** Test helper: Google dropping every entry before it expires (a cache is best effort). */
  evictAll(): void {
    this.entries.clear();
  }

  private checkKey(key: string): void {
    if (key.length > CACHE_KEY_LIMIT_CHARS) throw new Error("Argument too large: key");
  }
}

export class FakeCacheService {
  readonly document: FakeCache;
  readonly script: FakeCache;
  readonly user: FakeCache;

  constructor(clock: () => number = Date.now) {
    this.document = new FakeCache(clock);
    this.script = new FakeCache(clock);
    this.user = new FakeCache(clock);
  }

  getDocumentCache(): FakeCache {
    return this.document;
  }
  getScriptCache(): FakeCache {
    return this.script;
  }
  getUserCache(): FakeCache {
    return this.user;
  }
}
