import assert from "node:assert/strict";
import { MAX_ROWS_PER_REQUEST } from "../../../contract/src/limits";
import { encodeBody, makeBatches, splitBatch, type ChangeItem } from "../../src/core/payload";
import { sendAll, type WebhookResponse } from "../../src/core/send";

const ENVELOPE = { spreadsheetId: "s", sheetName: "Sheet1", header: ["_id", "name", "_modified"] };
const change = (i: number, name = "x"): ChangeItem => ({
  id: `r_${i}`,
  modifiedAt: 1,
  values: { name },
});

describe("batching", () => {
  it("caps batches at 500 rows", () => {
    const changes = Array.from({ length: 1201 }, (_, i) => change(i));
    const deletes = [{ id: "r_gone", modifiedAt: 2 }];
    const batches = makeBatches(ENVELOPE, changes, deletes);
    assert.deepEqual(
      batches.map((b) => b.changes.length + b.deletes.length),
      [MAX_ROWS_PER_REQUEST, MAX_ROWS_PER_REQUEST, 202],
    );
    assert.equal(batches[0]?.deletes.length, 1);
  });

  it("caps batches by body size", () => {
    const big = "é".repeat(20_000); // 120 KB once escaped
    const changes = Array.from({ length: 20 }, (_, i) => change(i, big));
    const batches = makeBatches(ENVELOPE, changes, []);
    assert.ok(batches.length > 1);
    for (const batch of batches) assert.ok(encodeBody(ENVELOPE, batch).length <= 1_000_000);
    assert.equal(batches.flatMap((b) => b.changes).length, 20);
  });

  it("splits a batch in halves, down to single rows", () => {
    const [a, b] =
      splitBatch({ changes: [change(1), change(2)], deletes: [{ id: "r_3", modifiedAt: 1 }] }) ??
      [];
    assert.deepEqual(
      a?.deletes.map((d) => d.id),
      ["r_3"],
    );
    assert.deepEqual(
      a?.changes.map((c) => c.id),
      ["r_1"],
    );
    assert.deepEqual(
      b?.changes.map((c) => c.id),
      ["r_2"],
    );
    assert.equal(splitBatch({ changes: [change(1)], deletes: [] }), null);
  });
});

describe("sendBatches", () => {
  const ok: WebhookResponse = { status: 200, body: "{}" };
  const rowsIn = (body: string) => (JSON.parse(body) as { changes: unknown[] }).changes.length;

  it("halves a batch on 413 until it fits", () => {
    const sizes: number[] = [];
    const report = sendAll(
      ENVELOPE,
      [{ changes: [1, 2, 3, 4].map((i) => change(i)), deletes: [] }],
      (body) => {
        sizes.push(rowsIn(body));
        return rowsIn(body) > 2 ? { status: 413, body: "" } : ok;
      },
    );
    assert.deepEqual(sizes, [4, 2, 2]);
    assert.ok(report.complete);
    assert.equal(report.accepted.size, 4);
  });

  it("reports a single row that is still too large and sends the rest", () => {
    const report = sendAll(
      ENVELOPE,
      [{ changes: [change(1, "huge"), change(2)], deletes: [] }],
      (body) => (body.includes("huge") ? { status: 413, body: "" } : ok),
    );
    assert.deepEqual([...report.accepted], ["r_2"]);
    assert.ok(report.complete, "the others are done; the big row is set aside");
    assert.match(report.rejected.get("r_1") ?? "", /too large to send/);
  });

  it("stops at the first failure and accepts nothing after it", () => {
    let calls = 0;
    const report = sendAll(
      ENVELOPE,
      [
        { changes: [change(1)], deletes: [] },
        { changes: [change(2)], deletes: [] },
        { changes: [change(3)], deletes: [] },
      ],
      () => (++calls === 2 ? { status: 503, body: "unavailable" } : ok),
    );
    assert.equal(calls, 2);
    assert.deepEqual([...report.accepted], ["r_1"]);
    assert.equal(report.failedRows, 2);
    assert.match(report.errors[0] ?? "", /HTTP 503: unavailable/);
  });
});
