/**
 * Runs random sequences on this checkout and on another one (an older commit's worktree), each
 * sequence on both, and counts the runs that fail on one side only. A change to the script's
 * matching is judged by what it breaks as well as by what it fixes, on streams it was not tuned
 * to (seed figures alone hid eleven such breaks on 2026-12-08):
 *   node --import tsx tools/model/src/differential.ts <other checkout's tools/model/src> <seed>
 *     [runs=30] [maxOps=300]
 * SHEET_SYNC_MODEL_MIX=no-key hides the item column from the sync, as the no-key mix does. It
 * prints one JSON line for the seed; with SHEET_SYNC_MODEL_DIFF_OUT=<file>, each run that fails
 * on either side is appended there (JSON lines: skew, commands, both sides' failures) to replay
 * or shrink.
 */
import { appendFileSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { startSheetsEmulator } from "@sheet-sync/sheets-emulator";
import { check } from "./check.js";
import { apply, commandArb, type Command } from "./commands.js";
import { quietLogs } from "./quiet.js";
import { World } from "./world.js";

const [otherDir, seedText, runsText = "30", maxOpsText = "300"] = process.argv.slice(2);
if (!otherDir || !seedText) {
  process.stderr.write("usage: differential.ts <other tools/model/src> <seed> [runs] [maxOps]\n");
  process.exit(2);
}
const other = resolve(otherDir);
const otherWorld = (await import(join(other, "world.ts"))) as typeof import("./world.js");
const otherCheck = (await import(join(other, "check.ts"))) as typeof import("./check.js");
const otherCommands = (await import(join(other, "commands.ts"))) as typeof import("./commands.js");
const hiddenKey = process.env.SHEET_SYNC_MODEL_MIX === "no-key";
const out = process.env.SHEET_SYNC_MODEL_DIFF_OUT;

const loud = quietLogs();
const server = await startSheetsEmulator({ port: 0 });

/** The failures of one sequence on this checkout, or (`theirs`) on the other. */
async function failures(theirs: boolean, skew: number, commands: Command[]): Promise<string[]> {
  try {
    const W = theirs ? otherWorld.World : World;
    const world = await W.create(server, { scriptSkewMs: skew, hiddenKey });
    for (const c of commands) await (theirs ? otherCommands.apply : apply)(world as never, c);
    await world.settle();
    return (theirs ? otherCheck.check : check)(world as never).failures;
  } catch (e) {
    return [`crash: ${String(e)}`];
  }
}

const counts = { runs: 0, ops: 0, both: 0, onlyHere: 0, onlyThere: 0 };
try {
  const samples = fc.sample(
    fc.tuple(
      fc.integer({ min: -3000, max: 3000 }),
      fc.noBias(fc.array(commandArb, { minLength: 1, maxLength: Number(maxOpsText), size: "max" })),
    ),
    { seed: Number(seedText), numRuns: Number(runsText) },
  );
  for (const [i, [skew, commands]] of samples.entries()) {
    const here = await failures(false, skew, commands);
    const there = await failures(true, skew, commands);
    counts.runs++;
    counts.ops += commands.length;
    if (here.length && there.length) counts.both++;
    else if (here.length) counts.onlyHere++;
    else if (there.length) counts.onlyThere++;
    if (out && (here.length || there.length)) {
      const line = { seed: seedText, run: i, skew, commands, here, there };
      appendFileSync(out, `${JSON.stringify(line)}\n`);
    }
  }
} finally {
  loud();
  process.stdout.write(`${JSON.stringify({ seed: seedText, other, ...counts })}\n`);
  await server.close();
}
process.exit(0);
