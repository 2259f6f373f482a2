import assert from "node:assert/strict";
import { readChunked, StorageFullError, writeChunked } from "../../src/core/chunked";
import { PROPERTY_CHUNK_CHARS } from "../../src/core/constants";
import { FakeProperties, VALUE_LIMIT_BYTES } from "../fakes";

describe("chunked properties", () => {
  it("the fake enforces Google's 9 KB value limit", () => {
    const store = new FakeProperties();
    assert.throws(() => store.setProperty("big", "x".repeat(VALUE_LIMIT_BYTES + 1)), /too large/);
    assert.equal(store.getProperty("big"), null);
  });

  it("spreads a value over several keys and reads it back", () => {
    const store = new FakeProperties();
    const value = "abcdefghij".repeat(3_000); // 30 KB
    writeChunked(store, "state", value);
    assert.equal(
      store.getProperty("state.n"),
      String(Math.ceil(value.length / PROPERTY_CHUNK_CHARS)),
    );
    assert.ok(Number(store.getProperty("state.n")) >= 4);
    assert.equal(readChunked(store.getProperties(), "state"), value);
  });

  it("removes stale chunks when the value shrinks", () => {
    const store = new FakeProperties({ unrelated: "keep" });
    writeChunked(store, "state", "x".repeat(20_000));
    writeChunked(store, "state", "short");
    assert.deepEqual(store.getKeys().sort(), ["state.0", "state.n", "unrelated"]);
    assert.equal(readChunked(store.getProperties(), "state"), "short");
  });

  it("refuses, without writing, a value that would exceed the store budget", () => {
    const store = new FakeProperties();
    writeChunked(store, "state", "old");
    assert.throws(() => writeChunked(store, "state", "y".repeat(460_000)), StorageFullError);
    assert.equal(readChunked(store.getProperties(), "state"), "old");
  });

  it("treats missing chunks as absent rather than returning a torn value", () => {
    const store = new FakeProperties({ "state.n": "2", "state.0": "abc" });
    assert.equal(readChunked(store.getProperties(), "state"), null);
    assert.equal(readChunked({}, "state"), null);
  });
});
