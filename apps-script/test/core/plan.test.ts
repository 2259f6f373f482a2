import assert from "node:assert/strict";
import { analyzeHeader } from "../../src/core/header";
import { Outbox } from "../../src/core/outbox";
import { planFlush } from "../../src/core/plan";

const header = analyzeHeader(["_id", "name", "qty", "_modified"]);
const NOW = 1_763_700_000_000;

// The copy was pasted above its original: the first row carrying r1 is the copy.
const pastedAbove = [
  ["r1", "Copy", 9, NOW - 100],
  ["r1", "Widget", 3, NOW - 100],
  ["r2", "Gadget", 4, NOW - 200],
];

describe("planFlush", () => {
  it("holds back an id that is on two rows (a pasted copy) until a scan says which row it is", () => {
    const outbox = new Outbox();
    outbox.upsert("r1", NOW - 5, ["qty"]);
    outbox.upsert("r2", NOW - 5, ["qty"]);
    const plan = planFlush(header, pastedAbove, outbox, NOW);
    assert.deepEqual(
      plan.changes.map((c) => c.id),
      ["r2"],
    );
    assert.ok(!plan.sent.has("r1"), "r1 stays in the outbox");
    assert.ok(outbox.get("r1"));
  });

  it("drops a delete whose row is back in the sheet (re-appended after its reply was lost) (seed 2210)", () => {
    const outbox = new Outbox();
    outbox.delete("r2", NOW - 50);
    outbox.delete("r9", NOW - 50);
    const plan = planFlush(header, pastedAbove.slice(1), outbox, NOW);
    assert.deepEqual(
      plan.deletes.map((d) => d.id),
      ["r9"],
    );
    assert.equal(outbox.get("r2"), undefined);
    assert.ok(plan.outboxChanged);
  });

  it("sends each coalesced field's own time where earlier than the row's", () => {
    const outbox = new Outbox();
    outbox.upsert("r2", NOW - 300, ["qty"]);
    outbox.upsert("r2", NOW - 200, ["name"]);
    const plan = planFlush(header, pastedAbove.slice(1), outbox, NOW);
    const change = plan.changes.find((c) => c.id === "r2");
    assert.deepEqual(change?.fields, ["qty", "name"]);
    assert.deepEqual(change?.fieldsAt, { qty: NOW - 300 });
    assert.equal(change?.modifiedAt, NOW - 200);
  });

  it("serves a resend without them, and keeps them in the outbox with their own time", () => {
    const outbox = new Outbox();
    outbox.requestResync(0);
    const plan = planFlush(header, pastedAbove, outbox, NOW);
    assert.deepEqual(
      plan.changes.map((c) => [c.id, c.modifiedAt]),
      [["r2", NOW - 200]],
    );
    assert.equal(outbox.get("r1")?.modifiedAt, NOW - 100);
    assert.ok(plan.outboxChanged);
  });
});
