import assert from "node:assert/strict";
import { Outbox } from "../../src/core/outbox";

describe("outbox", () => {
  it("coalesces edits of a row: newest time, union of fields", () => {
    const outbox = new Outbox();
    outbox.upsert("r_1", 100, ["qty"]);
    outbox.upsert("r_1", 200, ["name", "qty"]);
    const entry = outbox.get("r_1");
    assert.equal(outbox.size, 1);
    assert.equal(entry?.op, "upsert");
    assert.equal(entry?.modifiedAt, 200);
    assert.deepEqual([...(entry?.fields ?? [])].sort(), ["name", "qty"]);
  });

  it("keeps each coalesced field's own time, through storage, so an earlier column does not pose as later", () => {
    const outbox = new Outbox();
    outbox.upsert("r_1", 100, ["qty"]);
    outbox.upsert("r_1", 200, ["name"]);
    assert.deepEqual(outbox.get("r_1")?.fieldsAt, { qty: 100 });
    const stored = Outbox.parse(outbox.serialize()).get("r_1");
    assert.deepEqual(stored?.fieldsAt, { qty: 100 });
    assert.deepEqual(stored?.fields, ["qty", "name"]);
    // qty edited again, last: now name is the earlier one.
    outbox.upsert("r_1", 300, ["qty"]);
    assert.deepEqual(outbox.get("r_1")?.fieldsAt, { name: 200 });
    // A whole-row change has no per-field times.
    outbox.upsert("r_1", 400, null);
    assert.equal(outbox.get("r_1")?.fieldsAt, undefined);
  });

  it("keeps fields unknown once any coalesced edit had unknown fields", () => {
    const outbox = new Outbox();
    outbox.upsert("r_1", 100, null);
    outbox.upsert("r_1", 200, ["qty"]);
    assert.equal(outbox.get("r_1")?.fields, null);
    outbox.upsert("r_2", 100, ["qty"]);
    outbox.upsert("r_2", 200, null);
    assert.equal(outbox.get("r_2")?.fields, null);
  });

  it("lets a delete replace an upsert, and a returning row replace the delete", () => {
    const outbox = new Outbox();
    outbox.upsert("r_1", 100, ["qty"]);
    outbox.delete("r_1", 300);
    assert.deepEqual(
      { op: outbox.get("r_1")?.op, at: outbox.get("r_1")?.modifiedAt },
      { op: "delete", at: 300 },
    );
    outbox.upsert("r_1", 400, ["qty"]); // e.g. undo of the deletion
    assert.equal(outbox.get("r_1")?.op, "upsert");
    assert.equal(outbox.get("r_1")?.fields, null, "the whole row must be sent again");
  });

  it("keeps a displaced delete marked through storage, and a person's delete a person's", () => {
    const outbox = new Outbox();
    outbox.delete("r_1", 100, true);
    outbox.delete("r_2", 100);
    outbox.delete("r_2", 200, true); // the person's delete stands
    const stored = Outbox.parse(outbox.serialize());
    assert.equal(stored.get("r_1")?.displaced, true);
    assert.equal(stored.get("r_2")?.displaced, undefined);
    stored.delete("r_1", 300); // a person's delete of it after all
    assert.equal(stored.get("r_1")?.displaced, undefined);
  });

  it("acknowledges only entries unchanged since they were sent", () => {
    const outbox = new Outbox();
    outbox.upsert("r_1", 100, ["qty"]);
    outbox.upsert("r_2", 100, ["qty"]);
    const sent = new Map(outbox.ids().map((id) => [id, outbox.get(id)?.seq ?? -1]));
    outbox.upsert("r_2", 100, ["qty"]); // same ms, but edited while in flight
    outbox.acknowledge(sent, null);
    assert.deepEqual(outbox.ids(), ["r_2"]);
  });

  it("clears a resync request only if it was the one served", () => {
    const outbox = new Outbox();
    outbox.requestResync(0);
    const served = outbox.resync?.seq ?? null;
    outbox.requestResync(500);
    outbox.acknowledge(new Map(), served);
    assert.equal(outbox.resync?.at, 500);
    outbox.acknowledge(new Map(), outbox.resync?.seq ?? null);
    assert.equal(outbox.resync, null);
    assert.ok(outbox.isEmpty);
  });

  it("round-trips through its ASCII serialization", () => {
    const outbox = new Outbox();
    outbox.upsert("r_1", 100, ["Größe", "qty"]);
    outbox.delete("r_2", 200);
    outbox.requestResync(300);
    const text = outbox.serialize();
    assert.doesNotMatch(text, /[\u0080-\uffff]/);
    const back = Outbox.parse(text);
    assert.deepEqual(back.get("r_1"), outbox.get("r_1"));
    assert.deepEqual(back.get("r_2"), outbox.get("r_2"));
    assert.deepEqual(back.resync, outbox.resync);
    back.upsert("r_3", 1, null);
    assert.ok((back.get("r_3")?.seq ?? 0) > (outbox.resync?.seq ?? Infinity), "seq continues");
  });

  it("collapses upserts into a resync but keeps deletes", () => {
    const outbox = new Outbox();
    outbox.upsert("r_1", 100, ["qty"]);
    outbox.delete("r_2", 200);
    outbox.collapseUpsertsIntoResync();
    assert.deepEqual(outbox.ids(), ["r_2"]);
    assert.equal(outbox.resync?.at, 0);
  });
});
