/** Finds a sequence that hangs: runs sampled sequences one by one, printing each before it runs. */
import fc from "fast-check";
import { startSheetsEmulator } from "@sheet-sync/sheets-emulator";
import { apply, commandArb } from "./commands.js";
import { World } from "./world.js";

const server = await startSheetsEmulator({ port: 0 });
const samples = fc.sample(
  fc.noBias(fc.array(commandArb, { minLength: 1, maxLength: 100, size: "max" })),
  { seed: Number(process.argv[2] ?? 1), numRuns: 20 },
);
for (const [n, commands] of samples.entries()) {
  process.stderr.write(`sample ${n}: ${commands.length} commands\n`);
  const world = await World.create(server, {});
  for (const [i, c] of commands.entries()) {
    const t = setTimeout(() => {
      process.stderr.write(`HANG at ${i}: ${JSON.stringify(commands.slice(0, i + 1))}\n`);
      process.exit(2);
    }, 20_000);
    await apply(world, c);
    clearTimeout(t);
  }
  const t = setTimeout(() => {
    process.stderr.write(`HANG in quiesce: ${JSON.stringify(commands)}\n`);
    process.exit(2);
  }, 60_000);
  await world.quiesce();
  clearTimeout(t);
}
await server.close();
