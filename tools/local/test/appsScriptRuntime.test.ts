/**
 * The Apps Script runtime of `npm start`, against a scripted webhook on a
 * free port: the built bundle runs in the worker on the Sheets emulator's
 * cells, its writes land in the sheet without API requests, and an edit made
 * while the webhook fails is sent by the time-driven trigger later; a sort of
 * the visible columns, Undo of a delete, and rows the webhook refuses.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  createSheetsEmulator,
  type SheetChangeEvent,
  type SheetsEmulator,
} from "@sheet-sync/sheets-emulator";
import { AppsScriptRuntime } from "../src/appsScript/runtime.js";
import { repoRoot } from "../src/stack.js";

const BUNDLE = join(repoRoot, "apps-script", "dist", "Code.js");
const SS = "runtime-test";
const SECRET = "test-secret";

interface Received {
  body: {
    header: string[];
    changes: { id: string; values: Record<string, unknown>; fields?: string[] }[];
    deletes: { id: string }[];
  };
  signatureOk: boolean;
}

describe("AppsScriptRuntime (bundle in a worker)", function () {
  this.timeout(60_000);
  let server: Server;
  let url: string;
  let sheets: SheetsEmulator;
  let runtime: AppsScriptRuntime;
  const received: Received[] = [];
  const reconciles: { body: string; signatureOk: boolean }[] = [];
  /** Statuses to answer with before answering 200. */
  const failures: number[] = [];

  before(async function () {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: npm run build -w apps-script`);
    server = createServer((req: IncomingMessage, res) => {
      let raw = "";
      req.on("data", (c: Buffer) => (raw += c.toString("utf8")));
      req.on("end", () => {
        const ts = String(req.headers["x-sheet-sync-timestamp"]);
        const expected = `v1=${createHmac("sha256", SECRET).update(`${ts}.${raw}`).digest("hex")}`;
        const signatureOk = req.headers["x-sheet-sync-signature"] === expected;
        if (req.url?.endsWith("/reconcile")) {
          reconciles.push({ body: raw, signatureOk });
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ at: 1, trigger: "request", rows: 1, counts: { "in-sync": 1 } }));
          return;
        }
        const body = JSON.parse(raw) as Received["body"];
        received.push({ body, signatureOk });
        const status = failures.shift() ?? 200;
        // A row named "REFUSE" is refused alone, as the functions refuse a row they cannot store.
        const results = [
          ...body.changes.map((c) =>
            c.values.name === "REFUSE"
              ? { id: c.id, op: "upsert", outcome: "rejected", reason: "name: refused" }
              : { id: c.id, op: "upsert", outcome: "applied" },
          ),
          ...body.deletes.map((d) => ({ id: d.id, op: "delete", outcome: "applied" })),
        ];
        const warnings = body.header.includes("a.b") ? ['"a.b" cannot be a field name'] : [];
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(status === 200 ? { results, warnings } : { error: "unavailable" }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });

  beforeEach(async () => {
    received.length = 0;
    reconciles.length = 0;
    failures.length = 0;
    sheets = createSheetsEmulator();
    sheets.seed(SS, {
      timeZone: "Europe/Berlin",
      sheets: [
        {
          title: "Sheet1",
          rows: [
            ["_id", "name", "qty", "price", "total", "due", "_modified"],
            ["r_000000000001", "Widget", 3, 2.5, "=C2*D2", "2026-11-20", 1_763_000_000_000],
          ],
        },
      ],
    });
    runtime = new AppsScriptRuntime({
      sheets,
      bundlePath: BUNDLE,
      spreadsheetId: SS,
      sheetName: "Sheet1",
      webhookUrl: url,
      secret: SECRET,
      timerMs: 3_600_000,
    });
    await runtime.start();
  });

  afterEach(() => runtime.stop());
  after(() => new Promise<void>((r) => server.close(() => r())));

  it("Set up sends every row with evaluated formulas and dates, signed", async () => {
    const report = await runtime.setUp();
    assert.equal(report.trigger, "Set up");
    assert.equal(report.webhooks[0]?.status, 200);
    const [first] = received;
    assert.ok(first?.signatureOk, "bad signature");
    assert.deepEqual(first.body.changes[0]?.values, {
      name: "Widget",
      qty: 3,
      price: 2.5,
      total: 7.5,
      // Midnight in Berlin, as Apps Script's Date for the cell.
      due: { $date: "2026-11-19T23:00:00.000Z" },
    });
    assert.equal(sheets.stats().total, 0);
  });

  it("a typed row gets its _id and _modified from the script, written without API requests", async () => {
    await runtime.setUp();
    received.length = 0;
    const report = await runtime.edit(3, 2, [["Gadget", "4"]]);
    assert.equal(report.trigger, "onEdit");
    assert.deepEqual(
      report.webhooks.map((w) => [w.status, w.outcomes]),
      [[200, { applied: 1 }]],
    );
    const row = sheets.snapshot(SS)!.sheets[0]!.values[2]!;
    assert.match(String(row[0]), /^r_[0-9a-f]{12}$/);
    assert.equal(row[1], "Gadget");
    assert.equal(row[2], 4, "typed text was not taken as a number");
    assert.equal(typeof row[6], "number");
    const change = received[0]!.body.changes[0]!;
    assert.equal(change.id, row[0]);
    assert.equal(change.values.name, "Gadget");
    assert.equal(change.values.qty, 4);
    assert.equal(sheets.stats().total, 0, "a person's typing counted as an API request");
  });

  it("an edit made while the webhook fails is sent by the time-driven trigger", async () => {
    await runtime.setUp();
    received.length = 0;
    failures.push(503);
    const failed = await runtime.edit(2, 3, [["9"]]);
    assert.deepEqual(
      failed.webhooks.map((w) => w.status),
      [503],
    );
    const retried = await runtime.flushOutbox();
    assert.equal(retried.trigger, "time-driven");
    // The edit, then (idle now) the run's read report: a request without rows.
    assert.deepEqual(
      retried.webhooks.map((w) => [w.status, w.changes]),
      [
        [200, 1],
        [200, 0],
      ],
    );
    assert.equal(received[1]!.body.changes[0]!.values.qty, 9);
    assert.equal(received[1]!.body.changes[0]!.values.total, 22.5);
    assert.deepEqual([received[2]!.body.changes, received[2]!.body.deletes], [[], []]);
  });

  it("deleting and sorting rows runs onChange: a delete is sent, a sort sends nothing", async () => {
    await runtime.edit(3, 2, [["Gadget"]]);
    await runtime.setUp();
    received.length = 0;
    await runtime.sort(2, true);
    assert.equal(received.length, 0, "a sort was sent as a change");
    const names = sheets.snapshot(SS)!.sheets[0]!.values.map((r) => r[1]);
    assert.deepEqual(names, ["name", "Gadget", "Widget"]);
    const report = await runtime.deleteRows(3);
    assert.deepEqual(
      received[0]?.body.deletes.map((d) => d.id),
      ["r_000000000001"],
    );
    assert.equal(report.webhooks[0]?.status, 200);
  });

  /** [name, _id] of each data row, top to bottom. */
  const namesAndIds = () =>
    sheets
      .scriptValues(SS, "Sheet1")
      .slice(1)
      .map((r): [unknown, unknown] => [r[1], r[0]]);

  it("a sort of the visible columns moves each _id after its content and sends nothing", async () => {
    await runtime.edit(3, 2, [["Gadget"]]);
    await runtime.setUp();
    const idOf = new Map(namesAndIds());
    received.length = 0;
    const changes: SheetChangeEvent[] = [];
    sheets.on("sheetChange", (e: SheetChangeEvent) => changes.push(e));
    const report = await runtime.sortVisibleColumns(2, true);
    assert.equal(report.trigger, "onChange");
    // Sort range B2:F3 left the hidden A (_id) and G (_modified) where they were; the script
    // then moved them after their content.
    const [sort, ...writes] = changes;
    assert.deepEqual(
      [sort?.source, sort?.kind, sort?.column, sort?.columns],
      ["user", "sort", 1, 5],
    );
    assert.ok(writes.length > 0 && writes.every((e) => e.source === "script"));
    assert.deepEqual([...new Set(writes.map((e) => e.column))].sort(), [0, 6]);
    assert.equal(received.length, 0, "a sort was sent as a change");
    assert.deepEqual(namesAndIds(), [
      ["Gadget", idOf.get("Gadget")],
      ["Widget", idOf.get("Widget")],
    ]);
  });

  it("Undo delete puts the deleted row back where it was, and the script sends it again", async () => {
    await runtime.edit(3, 2, [["Gadget"]]);
    await runtime.setUp();
    const before = namesAndIds();
    received.length = 0;
    await runtime.deleteRows(2);
    assert.deepEqual(runtime.lastDeleted()?.ids, ["r_000000000001"]);
    assert.deepEqual(
      received[0]?.body.deletes.map((d) => d.id),
      ["r_000000000001"],
    );
    const report = await runtime.undoDelete();
    assert.equal(runtime.lastDeleted(), null);
    assert.deepEqual(namesAndIds(), before);
    assert.deepEqual(
      report.webhooks.map((w) => [w.kind, w.status, w.outcomes]),
      [["batch", 200, { applied: 1 }]],
    );
    assert.equal(received[1]?.body.changes[0]?.id, "r_000000000001");
    await assert.rejects(() => runtime.undoDelete(), /no deleted rows/);
  });

  it("records the rows the webhook refused, with their reasons, and its warnings", async () => {
    await runtime.setUp();
    await runtime.edit(1, 8, [["a.b"]]);
    const report = await runtime.edit(2, 2, [["REFUSE"]]);
    const call = report.webhooks[0]!;
    assert.deepEqual(call.outcomes, { rejected: 1 });
    assert.deepEqual(call.rejected, [
      { id: "r_000000000001", op: "upsert", outcome: "rejected", reason: "name: refused" },
    ]);
    assert.deepEqual(call.warnings, ['"a.b" cannot be a field name']);
  });

  it("Sync now sends what is pending, then the signed reconcile request", async () => {
    await runtime.setUp();
    received.length = 0;
    sheets.userSetValues(SS, "Sheet1", 1, 2, [["7"]], "script");
    const report = await runtime.syncNow();
    assert.equal(report.trigger, "Sync now");
    assert.deepEqual(
      report.webhooks.map((w) => [w.kind, w.status]),
      [
        ["batch", 200],
        ["reconcile", 200],
      ],
    );
    assert.equal(received[0]?.body.changes[0]?.values.qty, 7);
    assert.deepEqual(reconciles, [
      { body: '{"spreadsheetId":"runtime-test","sheetName":"Sheet1"}', signatureOk: true },
    ]);
    assert.deepEqual(report.webhooks[1]?.report, {
      at: 1,
      trigger: "request",
      rows: 1,
      counts: { "in-sync": 1 },
    });
  });
});
