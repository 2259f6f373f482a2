/**
 * Shrinks a failing sequence by deleting chunks while it still fails (delta debugging),
 * faster than fast-check's shrinking on long sequences:
 *   node --import tsx tools/model/src/shrink.ts <file with [skew, commands] as JSON>
 */
import { readFileSync } from "node:fs";
import { startSheetsEmulator } from "@sheet-sync/sheets-emulator";
import { check } from "./check.js";
import { apply, type Command } from "./commands.js";
import { quietLogs } from "./quiet.js";
import { World } from "./world.js";

quietLogs();
const [skew, start] = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as [number, Command[]];
const server = await startSheetsEmulator({ port: 0 });

async function failures(commands: Command[]): Promise<string[]> {
  const world = await World.create(server, { scriptSkewMs: skew });
  for (const c of commands) await apply(world, c);
  await world.settle();
  return check(world).failures;
}

let best = start;
let found = await failures(best);
if (!found.length) {
  process.stdout.write("does not fail\n");
  process.exit(0);
}
for (let chunk = Math.ceil(best.length / 2); chunk >= 1; chunk = Math.floor(chunk / 2)) {
  for (let i = 0; i < best.length;) {
    const candidate = [...best.slice(0, i), ...best.slice(i + chunk)];
    const f = await failures(candidate);
    if (f.length) {
      best = candidate;
      found = f;
      process.stderr.write(`${best.length} commands\n`);
    } else i += chunk;
  }
}
process.stdout.write(`${JSON.stringify([skew, best])}\n`);
process.stdout.write(`${found.join("\n")}\n`);
await server.close();
process.exit(0);
