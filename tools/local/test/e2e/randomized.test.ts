/**
 * Issue 7's model-based randomized test, smaller, on the real local stack:
 * the Functions and Cloud Tasks emulators, Firestore (the real emulator or
 * the stand-in), the Sheets emulator seeded with the demo sheet, the built
 * Apps Script bundle with its triggers, and the page's API for a person's
 * edits: `startLocalStack()`, as `npm start` runs it. Nothing is mocked and
 * nothing leaves 127.0.0.1.
 *
 * Each run draws operations from a seeded generator (operations.ts) with
 * short random waits between them, so they interleave with flushes, trigger
 * events and the script's timer: a person edits a cell, adds a row at the
 * bottom, deletes a row, inserts a blank row, sorts whole rows (the hidden
 * columns move with them); an app sets a field, creates or deletes a
 * document; the Sheets API answers one request with a 429, 500 or 503. Then
 * the test waits for the system to go quiet, requests one reconcile, waits
 * again and checks (check.ts). The runs share one stack: each starts from
 * the settled, checked end of the one before.
 *
 * SHEET_SYNC_STACK_SEED (default 1, so CI repeats itself; "random" for a new
 * one), SHEET_SYNC_STACK_RUNS (2), SHEET_SYNC_STACK_OPS (30 per run) and
 * SHEET_SYNC_STACK_MAX_WAIT_MS (700) change it; SHEET_SYNC_STACK_VERBOSE=1
 * prints each operation as it runs. A failure prints the seed and
 * every operation as it ran; run the seed again to replay it (the stack's
 * timing can vary between runs, so the same seed may draw a slightly
 * different sequence after the first operation that depends on timing).
 *
 * Not mixed in: the sort of the visible columns only (issue 7 lists where
 * the sync is not yet proven with it), undo, pastes and the faults the stack
 * cannot inject cheaply (see MIX in operations.ts).
 *
 * A sort, a row deletion or a blank row inserted waits until the flush has
 * nothing to write (SHEET_SYNC_STACK_STRUCTURE=race lets them land while a
 * flush runs). Finding, on the committed code: a whole-row sort that lands
 * between the flush's read of the rows and its write by row number shifts
 * the write onto the rows that moved there, README's known limit "a row
 * moved in that moment can shift a write by a row". Here that window is the
 * whole flush (100–500 ms: two reads, the transaction that records the write
 * in flight, the write), not milliseconds, and the outcome is an app's write
 * lost with no conflict on record: SHEET_SYNC_STACK_STRUCTURE=race
 * SHEET_SYNC_STACK_SEED=4 SHEET_SYNC_STACK_RUNS=1 SHEET_SYNC_STACK_OPS=40
 * had two sorts (operations 9 and 10) land in one flush in each of three
 * tries (at ef0b323, c34cc13 and a build in between), which lost one to three
 * of the app's writes of operations 1, 4 and 7 (`active`, `item`, `qty`);
 * the reconcile then copied the sheet's old values over the documents
 * (`sheet-to-firestore`). The default run keeps away from that documented
 * window so that CI does not fail on it by chance.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { DEMO } from "../../src/demo.js";
import { DEV_SECRET } from "../../src/devSecret.js";
import { startLocalStack, type LocalStack } from "../../src/localStack.js";
import { requestReconcile } from "../../src/reconcile.js";
import { PROJECT, urls } from "../../src/stack.js";
import { waitFor, within } from "../helpers.js";
import { check, show, type Final } from "./randomized/check.js";
import { random, runner, type Truth } from "./randomized/operations.js";
import { conflicts, documents, settle, sheetRowsTyped } from "./randomized/stackClient.js";

const env = process.env;
const SEED =
  env.SHEET_SYNC_STACK_SEED === "random"
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(env.SHEET_SYNC_STACK_SEED ?? 1);
const RUNS = Number(env.SHEET_SYNC_STACK_RUNS ?? 2);
const OPS = Number(env.SHEET_SYNC_STACK_OPS ?? 30);
const MAX_WAIT_MS = Number(env.SHEET_SYNC_STACK_MAX_WAIT_MS ?? 700);
const VERBOSE = env.SHEET_SYNC_STACK_VERBOSE === "1";
const STRUCTURE = env.SHEET_SYNC_STACK_STRUCTURE === "race" ? "race" : "after-flush";
const SETTLE_MS = 180_000;
const PORTS = [5001, 8080, 9499, Number(new URL(urls.local).port)];
for (const [name, v] of Object.entries({ SEED, RUNS, OPS, MAX_WAIT_MS })) {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a whole number, not ${v}`);
}

const portFree = (port: number) =>
  new Promise<boolean>((res) => {
    const s = createServer();
    s.once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });
const allPortsFree = async () =>
  (await Promise.all(PORTS.map(portFree))).every(Boolean) ? true : undefined;

describe(`randomized, on the local stack (seed ${SEED}, ${RUNS} runs × ${OPS} operations)`, function () {
  this.timeout(RUNS * (OPS * 10_000 + 2 * SETTLE_MS + 120_000));
  let stack: LocalStack | null = null;
  let app: App;
  let db: Firestore;
  const savedReconcileMs = env.SHEET_SYNC_LOCAL_RECONCILE_MS;
  const truth: Truth[] = [];
  const reported = new Set<string>();

  /** What the test did to each failing row and the conflicts on record for it. */
  const evidence = (ids: string[], final: Final) =>
    ids.flatMap((id) => [
      `  row ${id}:`,
      ...truth
        .filter((t) => t.id === id)
        .map(
          (t) =>
            `    ${t.op} ${t.side} ${t.kind}${t.kind === "write" ? ` ${t.field} = ${show(t.value)}` : ""}`,
        ),
      ...final.conflicts
        .filter((c) => c.rowId === id)
        .map(
          (c) =>
            `    conflict ${c.field ?? "(row)"} ${c.rule}: kept ${c.kept.side} ${c.kept.op} ` +
            `${JSON.stringify(c.kept.values)}, rejected ${c.rejected.side} ${c.rejected.op} ${JSON.stringify(c.rejected.values)}`,
        ),
    ]);

  before(async function () {
    this.timeout(300_000);
    console.log(`[stack test] seed ${SEED} (SHEET_SYNC_STACK_SEED=${SEED} replays it)`);
    // Another stack (npm start, the integration tests) may hold the ports for a while.
    await waitFor("the stack's ports to be free", allPortsFree, 120_000);
    // The reconcile runs once, when the test asks: no local schedule in between.
    env.SHEET_SYNC_LOCAL_RECONCILE_MS = "0";
    stack = await startLocalStack();
    await within(240_000, stack.ready, "the local stack");
    app = initializeApp({ projectId: PROJECT }, "randomized-stack-test");
    db = getFirestore(app);
    await waitFor("the demo rows in Firestore", async () =>
      (await db.collection("rows").get()).size === 30 ? true : undefined,
    );
  });

  after(async function () {
    this.timeout(90_000);
    if (app) await deleteApp(app);
    await stack?.stop();
    if (savedReconcileMs === undefined) delete env.SHEET_SYNC_LOCAL_RECONCILE_MS;
    else env.SHEET_SYNC_LOCAL_RECONCILE_MS = savedReconcileMs;
    if (stack) await waitFor("every port of the stack to be released", allPortsFree, 30_000);
  });

  for (let run = 1; run <= RUNS; run++) {
    it(`run ${run}: after ${OPS} random operations, one reconcile makes both sides equal and keeps every last write`, async () => {
      const rand = random(SEED * 1000 + run);
      const r = runner(db, rand, { run, maxWaitMs: MAX_WAIT_MS, structure: STRUCTURE });
      const started = Date.now();
      const report = (failures: string[], extra = "", evidence: string[] = []) =>
        [
          `seed ${SEED}, run ${run}: ${failures.length} failure(s)${extra}`,
          ...failures.map((f) => `  - ${f}`),
          ...evidence,
          `replay: SHEET_SYNC_STACK_SEED=${SEED} SHEET_SYNC_STACK_RUNS=${RUNS} SHEET_SYNC_STACK_OPS=${OPS}`,
          `operations (this run; earlier runs' are in their reports):`,
          ...r.ran.map((o) => `  ${JSON.stringify(o)}`),
        ].join("\n");
      try {
        try {
          for (let op = 1; op <= OPS; op++) {
            const o = await r.step(op);
            if (VERBOSE) console.log(`[stack test] ${JSON.stringify(o)}`);
          }
        } finally {
          // Later runs check this run's writes too, also when it stopped early.
          truth.push(...r.truth);
        }
        await settle(db, SETTLE_MS);
        const reconcile = (await requestReconcile({
          webhookUrl: urls.webhook,
          secret: DEV_SECRET,
          spreadsheetId: DEMO.spreadsheetId,
          sheetName: DEMO.sheetName,
        })) as { counts?: Record<string, number> };
        await settle(db, SETTLE_MS);
        const typed = await sheetRowsTyped();
        const final: Final = {
          columns: typed.columns,
          sheet: typed.rows,
          docs: await documents(db),
          conflicts: await conflicts(db),
        };
        const result = check(truth, final);
        // A failure an earlier run reported stays in the state; this run answers for new ones.
        const failures = result.failures.filter((f) => !reported.has(f));
        const carried = result.failures.length - failures.length;
        for (const f of failures) reported.add(f);
        const kinds = r.ran.reduce<Record<string, number>>(
          (m, o) => ({ ...m, [o.what]: (m[o.what] ?? 0) + 1 }),
          {},
        );
        console.log(
          `[stack test] run ${run}: ${Math.round((Date.now() - started) / 1000)} s, ` +
            `${JSON.stringify(kinds)}; reconcile found ${JSON.stringify(reconcile.counts ?? {})}; ` +
            `${final.docs.size} rows, ${final.conflicts.length} conflicts on record`,
        );
        assert.deepEqual(
          failures,
          [],
          report(
            failures,
            carried ? ` (and ${carried} reported by an earlier run)` : "",
            evidence(result.ids, final),
          ),
        );
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        throw new Error(report([(e as Error).message], " (the run stopped)"), { cause: e });
      }
    });
  }
});
