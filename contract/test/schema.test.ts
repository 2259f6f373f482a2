import assert from "node:assert/strict";
import { fromWire, toWire, wireCellProblem, type WireCell } from "../src/cells.js";
import { MAX_DESCRIBE_IDS, MAX_ROWS_PER_BATCH } from "../src/limits.js";
import { parseDescribeBody, parseWebhookBody } from "../src/schema.js";
import { encodeDescribe } from "../src/wire.js";

const NOW = 1_763_700_000_000;
const header = ["_id", "name", "qty", "due", "_modified", "_rev"];
const parse = (body: unknown) => parseWebhookBody(body, { now: NOW, timestamp: NOW });
const body = (changes: unknown[] = [], deletes: unknown[] = [], extra = {}) => ({
  spreadsheetId: "s",
  sheetName: "Sheet1",
  header,
  changes,
  deletes,
  ...extra,
});
const ok = (id: string, values: Record<string, unknown> = { name: "x" }, extra = {}) => ({
  id,
  modifiedAt: NOW - 1000,
  values,
  ...extra,
});

describe("cell encoding on the wire", () => {
  const cases: Array<[string, WireCell]> = [
    ["text", "Widget"],
    ["text that looks like a number", "0042"],
    ["integer", 3],
    ["fraction", -2.75],
    ["true", true],
    ["false", false],
    ["empty cell", null],
    ["date-time", { $date: "2026-11-21T10:30:00.000Z" }],
  ];
  for (const [name, wire] of cases) {
    it(`round-trips ${name} through the core value and back`, () => {
      assert.equal(wireCellProblem(wire), null);
      assert.deepEqual(toWire(fromWire(wire)), wire);
    });
  }

  it("names what no cell can hold", () => {
    assert.match(wireCellProblem({ $date: "yesterday" }) ?? "", /not an ISO 8601/);
    assert.match(
      wireCellProblem({ $date: "+057373-11-21T00:00:00.000Z" }) ?? "",
      /years 1 to 9999/,
    );
    assert.match(wireCellProblem("x".repeat(50_001)) ?? "", /at most 50000/);
    assert.match(wireCellProblem(Infinity) ?? "", /finite/);
    assert.ok(wireCellProblem([1]));
    assert.ok(wireCellProblem({ other: 1 }));
  });
});

describe("webhook body validation", () => {
  it("takes a well-formed batch, with readAt defaulting to the request's timestamp", () => {
    const r = parse(
      body(
        [ok("r_1", { name: "a", qty: 2, due: { $date: "2026-01-02T00:00:00.000Z" } }, { rev: 4 })],
        [{ id: "r_2", modifiedAt: NOW }],
      ),
    );
    assert.ok(r.ok);
    assert.deepEqual(r.batch.columns, ["name", "qty", "due"]);
    assert.equal(r.batch.readAt, NOW);
    const [up, del] = r.batch.changes;
    assert.equal(up?.op, "upsert");
    assert.equal(up?.op === "upsert" && up.rev, 4);
    assert.ok(up?.op === "upsert" && up.values.due instanceof Date);
    assert.equal(up?.op === "upsert" && up.values.qty, 2);
    assert.deepEqual(del, { op: "delete", id: "r_2", modifiedAt: NOW, displaced: false });
  });

  it("says whether the sender takes the moved outcome (a script that does not know it, no)", () => {
    const without = parse(body([ok("r_1")]));
    assert.ok(without.ok && without.batch.moves === false);
    const withMoves = parse(body([ok("r_1")], [], { moves: true }));
    assert.ok(withMoves.ok && withMoves.batch.moves === true);
    assert.equal(parse(body([ok("r_1")], [], { moves: "yes" })).ok, false);
    assert.ok(withMoves.ok && withMoves.batch.chains === false);
    const withChains = parse(body([ok("r_1")], [], { moves: true, chains: true }));
    assert.ok(withChains.ok && withChains.batch.chains === true);
    // Chains are a kind of move: without `moves`, none.
    const chainsAlone = parse(body([ok("r_1")], [], { chains: true }));
    assert.ok(chainsAlone.ok && chainsAlone.batch.chains === false);
  });

  it("refuses one bad row alone, with its reason, and keeps the others (sequence 12)", () => {
    const r = parse(
      body([
        ok("r_date", { due: { $date: "+057373-11-21T00:00:00.000Z" } }),
        ok("__x__"),
        ok("r_long", { name: "y".repeat(50_001) }),
        ok("r_typo", { nmae: "z" }),
        ok("r_good"),
        ok("r_good"),
        ok("r_future", {}, { modifiedAt: NOW + 11 * 60_000 }),
      ]),
    );
    assert.ok(r.ok);
    assert.deepEqual(
      r.batch.changes.map((c) => c.id),
      ["r_good"],
    );
    const reasons = new Map(r.batch.rejected.map((x) => [x.id, x.reason ?? ""]));
    assert.match(reasons.get("r_date")!, /changes\.0\.values\.due: date .*years 1 to 9999/);
    assert.match(reasons.get("__x__")!, /reserved by Firestore/);
    assert.match(reasons.get("r_long")!, /at most 50000/);
    assert.match(reasons.get("r_typo")!, /"nmae" is not a column/);
    assert.match(reasons.get("r_future")!, /in the future/);
    assert.ok(
      r.batch.rejected.some((x) => x.id === "r_good" && /already appears/.test(x.reason ?? "")),
    );
    assert.ok(r.batch.rejected.every((x) => x.outcome === "rejected"));
  });

  it("takes each field's own time, and names one that is not a field or is later than the row's", () => {
    const fields = { fields: ["name", "qty"] };
    const r = parse(
      body([
        ok("r_good", { name: "a" }, { ...fields, fieldsAt: { qty: NOW - 5000 } }),
        ok("r_other", { name: "a" }, { ...fields, fieldsAt: { due: NOW - 5000 } }),
        ok("r_later", { name: "a" }, { ...fields, fieldsAt: { qty: NOW - 10 } }),
      ]),
    );
    assert.ok(r.ok);
    const [good] = r.batch.changes;
    assert.ok(good?.op === "upsert");
    assert.deepEqual(good.fieldsAt, { qty: NOW - 5000 });
    const reasons = new Map(r.batch.rejected.map((x) => [x.id, x.reason ?? ""]));
    assert.match(reasons.get("r_other")!, /fieldsAt: "due" is not one of fields/);
    assert.match(reasons.get("r_later")!, /fieldsAt\.qty: .* is later than modifiedAt/);
  });

  it("leaves a header text Firestore cannot use out of the columns, with a warning", () => {
    const long = "c".repeat(1501);
    const r = parse({ ...body([ok("r_1")]), header: ["_id", "name", "__secret__", long] });
    assert.ok(r.ok);
    assert.deepEqual(r.batch.columns, ["name"]);
    assert.equal(r.batch.warnings.length, 2);
    assert.match(r.batch.warnings[0]!, /reserved by Firestore/);
    assert.match(r.batch.warnings[1]!, /1500 bytes/);
    // A name every JavaScript object has would read as a value in the sync's records.
    const member = parse({ ...body([ok("r_1")]), header: ["_id", "name", "constructor"] });
    assert.ok(member.ok);
    assert.deepEqual(member.batch.columns, ["name"]);
    assert.match(member.batch.warnings[0]!, /"constructor" is not synced: names of JavaScript/);
  });

  it("refuses the whole request when the envelope is wrong", () => {
    const issues = (b: unknown) => {
      const r = parse(b);
      assert.ok(!r.ok);
      return r.issues.join("\n");
    };
    assert.match(issues({ ...body([ok("r")]), header: ["name"] }), /"_id" column is missing/);
    assert.match(issues({ ...body([ok("r")]), header: ["_id", "a", "a"] }), /"a" appears twice/);
    assert.match(issues({ ...body([ok("r")]), extra: 1 }), /extra/);
    const many = Array.from({ length: MAX_ROWS_PER_BATCH + 1 }, (_, i) => ok(`r_${i}`));
    assert.match(issues(body(many)), /more than 10000 rows/);
  });
});

describe("describe request validation", () => {
  const request = { spreadsheetId: "s", sheetName: "Sheet1", ids: ["app_1", "r_2"] };

  it("takes the ids of rows to describe, as the script encodes them", () => {
    const parsed = parseDescribeBody(JSON.parse(encodeDescribe(request)));
    assert.deepEqual(parsed, { ok: true, request });
  });

  it("names what is wrong: no ids, too many, an id that cannot be a row id, an unknown field", () => {
    const issues = (body: unknown) => {
      const parsed = parseDescribeBody(body);
      assert.equal(parsed.ok, false);
      return parsed.ok ? [] : parsed.issues;
    };
    assert.match(issues({ ...request, ids: [] })[0]!, /^ids:/);
    const many = Array.from({ length: MAX_DESCRIBE_IDS + 1 }, (_, i) => `r_${i}`);
    assert.match(issues({ ...request, ids: many })[0]!, new RegExp(`at most ${MAX_DESCRIBE_IDS}`));
    assert.match(issues({ ...request, ids: ["ok", "__x__"] })[0]!, /^ids\.1: .*reserved/);
    assert.match(issues({ ...request, extra: 1 })[0]!, /extra/);
  });
});
