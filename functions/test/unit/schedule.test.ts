import assert from "node:assert/strict";
import { flushTaskId, windowOf } from "../../src/sync/schedule.js";
import { FLUSH_QUIET_MS, FLUSH_WINDOW_MS } from "../../src/sync/tuning.js";

describe("flush scheduling", () => {
  it("gives every change of one sheet in one window the same task id, and runs it after the window", () => {
    const start = 1_763_700_000_000 - (1_763_700_000_000 % FLUSH_WINDOW_MS);
    const a = windowOf(start);
    const b = windowOf(start + FLUSH_WINDOW_MS - 1);
    const c = windowOf(start + FLUSH_WINDOW_MS);
    assert.equal(a.label, b.label);
    assert.notEqual(a.label, c.label);
    assert.equal(a.runAt, start + FLUSH_WINDOW_MS + FLUSH_QUIET_MS);
    assert.ok(a.runAt > start + FLUSH_WINDOW_MS - 1, "runs after the last change of its window");
    assert.equal(flushTaskId("s:Sheet1", a.label), flushTaskId("s:Sheet1", b.label));
    assert.notEqual(flushTaskId("s:Sheet1", a.label), flushTaskId("s:Sheet2", a.label));
    assert.match(
      flushTaskId("s:Sheet1", a.label),
      /^flush-[0-9a-f]{40}$/,
      "a valid Cloud Tasks id",
    );
  });
});
