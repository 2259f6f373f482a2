import assert from "node:assert/strict";
import type { RowChange } from "../../src/core/batch.js";
import { planIngest, storedVersion, type RowState, type RowWrite } from "../../src/core/ingest.js";
import { compareVersions } from "../../src/core/lww.js";
import { hashRow } from "../../src/core/values.js";

const now = 1_763_700_000_000;
const retention = 30 * 24 * 3600 * 1000;
const opts = { now, tombstoneRetentionMs: retention };
const up = (id: string, modifiedAt: number, name: string): RowChange => ({
  op: "upsert",
  id,
  modifiedAt,
  values: { name },
  fields: null,
});
const del = (id: string, modifiedAt: number): RowChange => ({ op: "delete", id, modifiedAt });

/** Applies a plan to an in-memory store the way the adapter does to Firestore. */
function apply(store: Map<string, RowState>, conflicts: Map<string, unknown>, writes: RowWrite[]) {
  for (const w of writes) {
    const s = store.get("id" in w ? w.id : w.conflict.rowId) ?? { row: null, tombstone: null };
    switch (w.kind) {
      case "putRow":
        s.row = { values: w.values, modifiedAt: w.modifiedAt, hash: w.hash, origin: "sheet" };
        break;
      case "deleteRow":
        s.row = null;
        break;
      case "putTombstone":
        s.tombstone = w.tombstone;
        break;
      case "removeTombstone":
        s.tombstone = null;
        break;
      case "recordConflict":
        if (!conflicts.has(w.conflict.key)) conflicts.set(w.conflict.key, w.conflict);
        continue;
    }
    store.set("id" in w ? w.id : "", s);
  }
}

function deliver(
  changes: RowChange[],
  store = new Map<string, RowState>(),
  conflicts = new Map<string, unknown>(),
) {
  for (const c of changes) apply(store, conflicts, planIngest([c], store, opts).writes);
  return { store, conflicts };
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]),
  );
}

describe("last write wins", () => {
  it("orders by time, then delete over update, then content hash", () => {
    const a = { modifiedAt: 1, deleted: false, hash: "b" };
    assert.equal(compareVersions(a, { ...a, modifiedAt: 2 }), -1);
    assert.equal(compareVersions({ ...a, deleted: true, hash: "" }, a), 1);
    assert.equal(compareVersions(a, { ...a, hash: "a" }), 1);
    assert.equal(compareVersions(a, { ...a }), 0);
  });

  it("applies a new row and a newer change, skips an older one and records the conflict with both versions", () => {
    const store = new Map<string, RowState>();
    let plan = planIngest([up("r", 100, "first")], store, opts);
    assert.deepEqual(plan.results, [{ id: "r", op: "upsert", outcome: "applied" }]);
    apply(store, new Map(), plan.writes);

    plan = planIngest([up("r", 50, "older")], store, opts);
    assert.deepEqual(plan.results, [{ id: "r", op: "upsert", outcome: "skipped_older" }]);
    assert.equal(plan.writes.length, 1);
    const w = plan.writes[0]!;
    assert.equal(w.kind, "recordConflict");
    if (w.kind === "recordConflict") {
      assert.deepEqual(w.conflict.kept, {
        op: "upsert",
        origin: "sheet",
        modifiedAt: 100,
        values: { name: "first" },
      });
      assert.deepEqual(w.conflict.rejected, {
        op: "upsert",
        origin: "sheet",
        modifiedAt: 50,
        values: { name: "older" },
        fields: null,
      });
    }
  });

  it("treats an exact redelivery as a duplicate that writes nothing", () => {
    const { store } = deliver([up("r", 100, "x"), del("d", 100)]);
    const plan = planIngest([up("r", 100, "x"), del("d", 100)], store, opts);
    assert.deepEqual(
      plan.results.map((r) => r.outcome),
      ["duplicate", "duplicate"],
    );
    assert.deepEqual(plan.writes, []);
  });

  it("breaks a same-millisecond tie between two different updates the same way in either order", () => {
    const a = up("r", 100, "a");
    const b = up("r", 100, "b");
    const ab = deliver([a, b]).store.get("r")!.row!.values;
    const ba = deliver([b, a]).store.get("r")!.row!.values;
    assert.deepEqual(ab, ba);
    assert.equal(ab.name, hashRow({ name: "a" }) > hashRow({ name: "b" }) ? "a" : "b");
  });

  it("ends in the same state for every delivery order of the same changes, duplicates included", () => {
    const changes = [
      up("r", 100, "v1"),
      up("r", 200, "v2"),
      del("r", 300),
      up("r", 250, "late"),
      up("r", 200, "v2"),
    ];
    const finals = permutations(changes).map((order) => {
      // Which changes get recorded as conflicts depends on arrival order; the stored row must not.
      const s = deliver(order).store.get("r")!;
      return JSON.stringify({ row: s.row, tombstone: s.tombstone });
    });
    assert.equal(new Set(finals).size, 1, "delivery order changed the outcome");
    const { store } = deliver(changes);
    assert.equal(store.get("r")!.row, null, "the delete at 300 is the latest change");
  });
});

describe("tombstones", () => {
  it("a delete removes the row and leaves a tombstone that expires after the retention", () => {
    const { store } = deliver([up("r", 100, "x")]);
    const plan = planIngest([del("r", 200)], store, opts);
    assert.deepEqual(plan.writes, [
      { kind: "deleteRow", id: "r" },
      { kind: "putTombstone", id: "r", tombstone: { deletedAt: 200, expiresAt: now + retention } },
    ]);
  });

  it("a delete of a row never seen still leaves a tombstone (its update may be in flight)", () => {
    const plan = planIngest([del("r", 200)], new Map(), opts);
    assert.deepEqual(
      plan.writes.map((w) => w.kind),
      ["putTombstone"],
    );
  });

  it("an older update after a delete stays deleted and is recorded; a newer one revives the row", () => {
    const { store } = deliver([up("r", 100, "x"), del("r", 200)]);
    const late = planIngest([up("r", 150, "late")], store, opts);
    assert.equal(late.results[0]!.outcome, "skipped_older");
    assert.deepEqual(
      late.writes.map((w) => w.kind),
      ["recordConflict"],
    );
    const revive = planIngest([up("r", 300, "back")], store, opts);
    assert.equal(revive.results[0]!.outcome, "applied");
    assert.deepEqual(
      revive.writes.map((w) => w.kind),
      ["putRow", "removeTombstone"],
    );
  });

  it("a delete at the same ms as an update wins", () => {
    const { store } = deliver([del("r", 100), up("r", 100, "x")]);
    assert.equal(store.get("r")!.row, null);
  });

  it("an expired tombstone no longer blocks (TTL deletion can lag a day)", () => {
    const state: RowState = { row: null, tombstone: { deletedAt: 200, expiresAt: now - 1 } };
    assert.equal(storedVersion(state, now), null);
    const plan = planIngest(
      [up("r", 150, "old but tombstone expired")],
      new Map([["r", state]]),
      opts,
    );
    assert.equal(plan.results[0]!.outcome, "applied");
    assert.deepEqual(
      plan.writes.map((w) => w.kind),
      ["putRow", "removeTombstone"],
    );
  });

  it("a document without _sync is versioned by its update time and content", () => {
    const state: RowState = {
      row: { values: { name: "app" }, modifiedAt: 500, hash: null, origin: "firestore" },
      tombstone: null,
    };
    assert.deepEqual(storedVersion(state, now), {
      modifiedAt: 500,
      deleted: false,
      hash: hashRow({ name: "app" }),
    });
    assert.equal(
      planIngest([up("r", 400, "sheet")], new Map([["r", state]]), opts).results[0]!.outcome,
      "skipped_older",
    );
    assert.equal(
      planIngest([up("r", 600, "sheet")], new Map([["r", state]]), opts).results[0]!.outcome,
      "applied",
    );
  });

  it("gives the same conflict key to the same older change, so recording it twice is a no-op", () => {
    const { store } = deliver([up("r", 100, "x")]);
    const k1 = planIngest([up("r", 50, "old")], store, opts).writes[0];
    const k2 = planIngest([up("r", 50, "old")], store, opts).writes[0];
    const k3 = planIngest([up("r", 50, "other")], store, opts).writes[0];
    assert.ok(
      k1?.kind === "recordConflict" &&
        k2?.kind === "recordConflict" &&
        k3?.kind === "recordConflict",
    );
    assert.equal(k1.conflict.key, k2.conflict.key);
    assert.notEqual(k1.conflict.key, k3.conflict.key);
  });

  it("the sheet reading back a Firestore edit at the same time completes that version (formulas recomputed)", () => {
    const state: RowState = {
      row: {
        values: { qty: 7, total: 4 },
        modifiedAt: 500,
        hash: hashRow({ qty: 7, total: 4 }),
        origin: "firestore",
      },
      tombstone: null,
    };
    const readBack: RowChange = {
      op: "upsert",
      id: "r",
      modifiedAt: 500,
      values: { qty: 7, total: 14 },
      fields: null,
    };
    const plan = planIngest([readBack], new Map([["r", state]]), opts);
    assert.equal(plan.results[0]!.outcome, "applied");
    assert.deepEqual(
      plan.writes.map((w) => w.kind),
      ["putRow"],
      "no conflict is recorded for a read-back",
    );
    // The same from a sheet row (not a read-back) stays a plain tie, decided by hash.
    const sheetState: RowState = { row: { ...state.row!, origin: "sheet" }, tombstone: null };
    const tie = planIngest([readBack], new Map([["r", sheetState]]), opts);
    assert.equal(
      tie.results[0]!.outcome,
      hashRow({ qty: 7, total: 14 }) > hashRow({ qty: 7, total: 4 }) ? "applied" : "skipped_older",
    );
  });

  it("records a Firestore edit still on its way to the sheet when a newer sheet change overwrites it", () => {
    const row = {
      values: { name: "console" },
      modifiedAt: 500,
      hash: hashRow({ name: "console" }),
      origin: "firestore" as const,
    };
    const plan = planIngest(
      [up("r", 600, "sheet")],
      new Map([["r", { row, tombstone: null, pendingToSheet: 500 }]]),
      opts,
    );
    assert.equal(plan.results[0]!.outcome, "applied");
    const conflict = plan.writes.find((w) => w.kind === "recordConflict");
    assert.ok(conflict && conflict.kind === "recordConflict");
    assert.deepEqual(conflict.conflict.rejected, {
      op: "upsert",
      origin: "firestore",
      modifiedAt: 500,
      values: { name: "console" },
      fields: null,
    });
    assert.equal(conflict.conflict.kept.origin, "sheet");
    // The sheet reading back that very edit is not a conflict.
    const readBack = planIngest(
      [up("r", 500, "console")],
      new Map([["r", { row, tombstone: null, pendingToSheet: 500 }]]),
      opts,
    );
    assert.ok(!readBack.writes.some((w) => w.kind === "recordConflict"));
  });

  it("an older delete of a row deleted since is a duplicate, not a conflict (the sheet echoing a Firestore delete)", () => {
    const { store } = deliver([up("r", 100, "x"), del("r", 300)]);
    const plan = planIngest([del("r", 100)], store, opts);
    assert.deepEqual(plan.results, [{ id: "r", op: "delete", outcome: "duplicate" }]);
    assert.deepEqual(plan.writes, []);
  });
});
