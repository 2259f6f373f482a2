/**
 * Shrinks a failing sequence by deleting chunks while it still fails (delta debugging),
 * faster than fast-check's shrinking on long sequences. It first pins each command to what it
 * targeted (see `Pinned` in commands.ts), so deleting a command does not retarget later ones:
 *   node --import tsx tools/model/src/shrink.ts <file with [skew, commands] as JSON>
 * With SHEET_SYNC_MODEL_SHRINK_MATCH=<regex>, only failures matching it count (a divergence
 * can otherwise shrink into a different, lesser failure). With SHEET_SYNC_MODEL_SHRINK_SAVE=<file>,
 * each shorter sequence found is written there as it is found: a shrink stopped early (a long
 * one can take an hour) leaves its best, to shrink on from.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { startSheetsEmulator } from "@sheet-sync/sheets-emulator";
import { check } from "./check.js";
import { apply, type Command } from "./commands.js";
import { quietLogs } from "./quiet.js";
import { World } from "./world.js";

quietLogs();
const [skew, start] = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as [number, Command[]];
const server = await startSheetsEmulator({ port: 0 });

const match = process.env.SHEET_SYNC_MODEL_SHRINK_MATCH
  ? new RegExp(process.env.SHEET_SYNC_MODEL_SHRINK_MATCH)
  : null;

async function failures(commands: Command[], picks?: string[][]): Promise<string[]> {
  const world = await World.create(server, {
    scriptSkewMs: skew,
    hiddenKey: process.env.SHEET_SYNC_MODEL_MIX === "no-key",
  });
  for (const c of commands) await apply(world, c, picks && ((pin) => picks.push(pin)));
  await world.settle();
  const found = check(world).failures;
  return match && !found.some((f) => match.test(f)) ? [] : found;
}

const picks: string[][] = [];
let found = await failures(start, picks);
if (!found.length) {
  process.stdout.write("does not fail\n");
  process.exit(0);
}
let best = start.map((c, i) => (picks[i]?.length ? { ...c, pin: picks[i] } : c));
if (!(await failures(best)).length) {
  // Pinning changed the run (a target with the same identity as another): shrink it unpinned.
  process.stderr.write("the pinned sequence does not fail; shrinking it unpinned\n");
  best = start;
}
for (let chunk = Math.ceil(best.length / 2); chunk >= 1; chunk = Math.floor(chunk / 2)) {
  for (let i = 0; i < best.length;) {
    const candidate = [...best.slice(0, i), ...best.slice(i + chunk)];
    const f = await failures(candidate);
    if (f.length) {
      best = candidate;
      found = f;
      process.stderr.write(`${best.length} commands\n`);
      if (process.env.SHEET_SYNC_MODEL_SHRINK_SAVE) {
        writeFileSync(process.env.SHEET_SYNC_MODEL_SHRINK_SAVE, JSON.stringify([skew, best]));
      }
    } else i += chunk;
  }
}
process.stdout.write(`${JSON.stringify([skew, best])}\n`);
process.stdout.write(`${found.join("\n")}\n`);
await server.close();
process.exit(0);
