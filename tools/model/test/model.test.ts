/**
 * The model-based randomized test: random sequences of what people, apps,
 * triggers, tasks and faults do, interleaved at every I/O step; after the
 * system settles and one reconcile, the invariants of check.ts must hold.
 * fast-check shrinks a failure to its shortest sequence and prints the seed.
 *
 * Quick profile (npm test): SHEET_SYNC_MODEL_RUNS runs × SHEET_SYNC_MODEL_OPS operations.
 * Soak (npm run test:soak): 100 runs of 1,000 operations each, or as set in the environment
 * (SHEET_SYNC_MODEL_MIN_OPS lets run lengths vary).
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import fc from "fast-check";
import { startSheetsEmulator, type RunningSheetsEmulator } from "@sheet-sync/sheets-emulator";
import { check } from "../src/check.js";
import { quietLogs } from "../src/quiet.js";
import { apply, commandArb, type Command } from "../src/commands.js";
import { World } from "../src/world.js";

const soak = process.env.SHEET_SYNC_MODEL_PROFILE === "soak";
const RUNS = Number(process.env.SHEET_SYNC_MODEL_RUNS ?? (soak ? 100 : 12));
const OPS = Number(process.env.SHEET_SYNC_MODEL_OPS ?? (soak ? 1000 : 250));
/** The soak's runs are all of OPS operations (issue 7 asks for runs of 1,000); the quick profile's vary. */
const MIN_OPS = Number(process.env.SHEET_SYNC_MODEL_MIN_OPS ?? (soak ? OPS : 1));
if (!(Number.isSafeInteger(MIN_OPS) && MIN_OPS >= 1 && MIN_OPS <= OPS)) {
  throw new Error(
    `SHEET_SYNC_MODEL_MIN_OPS must be a whole number from 1 to ${OPS}, not "${MIN_OPS}"`,
  );
}
/**
 * "full" (the soak's default) includes sorts of the visible columns only, where the script infers
 * which item is which from content; "sorted-rows" (npm test's default) leaves them out. "no-key"
 * is "full" on a sheet whose items have no code the sync can see: the first column is a name
 * that repeats and is edited (the checker follows each item in a column the sync does not read).
 */
const MIX = process.env.SHEET_SYNC_MODEL_MIX ?? (soak ? "full" : "sorted-rows");
if (!["full", "sorted-rows", "no-key"].includes(MIX)) {
  throw new Error(`SHEET_SYNC_MODEL_MIX must be full, sorted-rows or no-key, not "${MIX}"`);
}
const commandMix =
  MIX === "sorted-rows" ? commandArb.filter((c) => c.k !== "sortVisible") : commandArb;
const hiddenKey = MIX === "no-key";
/**
 * `npm test` replays seed 1, so CI is repeatable: a failure there is a change's doing. Any other
 * seed with SHEET_SYNC_MODEL_SEED=<n>, a new one each run with SHEET_SYNC_MODEL_SEED=random
 * (the soak's default).
 */
const seedSetting = process.env.SHEET_SYNC_MODEL_SEED ?? (soak ? "random" : "1");
const SEED = seedSetting === "random" ? undefined : Number(seedSetting);
if (SEED !== undefined && !Number.isSafeInteger(SEED)) {
  throw new Error(`SHEET_SYNC_MODEL_SEED must be a whole number or "random", not "${seedSetting}"`);
}

const length = MIN_OPS === OPS ? `${OPS}` : `${MIN_OPS}–${OPS}`;
describe(`model: ${RUNS} runs × ${length} operations (${MIX}, seed ${seedSetting}), faults and interleavings included`, function () {
  this.timeout(0);
  let server: RunningSheetsEmulator;
  const totals = { runs: 0, ops: 0, conflicts: 0, rekeyed: 0, rows: 0 };

  before(async () => {
    server = await startSheetsEmulator({ port: 0 });
  });
  after(async () => {
    await server.close();
    console.log(
      `      ${totals.runs} runs, ${totals.ops} operations, ${totals.rows} rows at the end, ` +
        `${totals.conflicts} conflicts recorded, ${totals.rekeyed} items re-keyed`,
    );
  });

  it("ends with the sheet and Firestore equal, nothing lost, resurrected, duplicated or swapped", async () => {
    let firstFailure = false;
    const property = fc.asyncProperty(
      fc.integer({ min: -3000, max: 3000 }),
      fc.noBias(fc.array(commandMix, { minLength: MIN_OPS, maxLength: OPS, size: "max" })),
      async (skew: number, commands: Command[]) => {
        // A run that does not end is a bug of its own: say which sequence, and stop.
        const watchdog = setTimeout(() => {
          process.stderr.write(`model run did not end: ${skew} ${JSON.stringify(commands)}\n`);
          process.exit(3);
        }, 60_000);
        if (process.env.SHEET_SYNC_MODEL_TRACE) {
          writeFileSync(
            process.env.SHEET_SYNC_MODEL_TRACE,
            `${skew} ${JSON.stringify(commands)}\n`,
          );
        }
        const world = await World.create(server, { scriptSkewMs: skew, hiddenKey });
        for (const c of commands) await apply(world, c);
        await world.settle();
        clearTimeout(watchdog);
        const result = check(world);
        totals.runs++;
        totals.ops += commands.length;
        totals.conflicts += result.conflicts;
        totals.rekeyed += result.rekeyed.length;
        totals.rows += result.rows;
        if (result.failures.length && !firstFailure) {
          // Shrinking can take minutes: say at once what failed, unshrunk.
          firstFailure = true;
          process.stderr.write(
            `first failure, before shrinking: ${JSON.stringify([skew, commands])}\n  ${result.failures.join("\n  ")}\n` +
              "  (shrink it: save [skew, commands] to a file, then node --import tsx src/shrink.ts <file>)\n",
          );
        }
        assert.deepEqual(result.failures, []);
      },
    );
    // The functions' structured logs (one per webhook) would drown the report.
    const loud = quietLogs();
    try {
      await fc.assert(property, {
        numRuns: RUNS,
        seed: SEED,
        // SHEET_SYNC_MODEL_SHRINK=0: report the first failure as it is, without shrinking it. Runs
        // of a fixed length cannot get shorter: src/shrink.ts shrinks those (the message says how).
        endOnFailure:
          process.env.SHEET_SYNC_MODEL_SHRINK === "0" ||
          (MIN_OPS > 1 && process.env.SHEET_SYNC_MODEL_SHRINK !== "1"),
        verbose: 0,
      });
    } finally {
      loud();
    }
  });
});
