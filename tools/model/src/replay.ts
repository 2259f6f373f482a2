/**
 * Replays one command sequence with the system's logs on, to see why it fails:
 *   node --import tsx tools/model/src/replay.ts '<skew>' '<commands as JSON>'
 * (the two parts of a counterexample fast-check printed).
 */
import { startSheetsEmulator } from "@sheet-sync/sheets-emulator";
import { check } from "./check.js";
import { apply, type Command } from "./commands.js";
import { World } from "./world.js";

const [skew, json] = process.argv.slice(2);
const commands = JSON.parse(json ?? "[]") as Command[];
const server = await startSheetsEmulator({ port: 0 });
try {
  const world = await World.create(server, {
    scriptSkewMs: Number(skew ?? 0),
    hiddenKey: process.env.SHEET_SYNC_MODEL_MIX === "no-key",
  });
  for (const c of commands) {
    if (process.env.SHEET_SYNC_MODEL_BEFORE)
      console.log(
        "  before:",
        JSON.stringify(world.sheetTable().rows.map((r) => [r._id, r[world.keyColumn], r._rev])),
      );
    await apply(world, c);
    console.log(`> ${JSON.stringify(c)}  blocked: ${JSON.stringify(world.sched.blocked())}`);
    if (process.env.SHEET_SYNC_MODEL_ROW)
      console.log(
        "  state:",
        JSON.stringify(world.db.states.get(process.env.SHEET_SYNC_MODEL_ROW)),
        JSON.stringify(world.db.docs.get(process.env.SHEET_SYNC_MODEL_ROW)?.fields),
      );
    if (process.env.SHEET_SYNC_MODEL_TRUTH)
      console.log(
        "  sheet:",
        JSON.stringify(
          world
            .sheetTable()
            .rows.map((r) => [r._id, r[world.keyColumn], r.name, r.qty, r.price, r.due]),
        ),
      );
  }
  await world.settle();
  const result = check(world);
  console.log(JSON.stringify(result, null, 1));
  console.log("sheet:", JSON.stringify(world.sheetTable().rows, null, 0));
  console.log("docs:", JSON.stringify([...world.db.docs.entries()], null, 0));
  console.log("states:", JSON.stringify([...world.db.states.entries()], null, 0));
  if (process.env.SHEET_SYNC_MODEL_TRUTH) {
    // Each event with its index, and each script read as the index it came before.
    console.log(
      "truth:",
      JSON.stringify(
        world.truth
          .map((e, i) => ({ i, ...e }))
          .filter(
            (e) =>
              process.env.SHEET_SYNC_MODEL_TRUTH === "*" ||
              e.key === process.env.SHEET_SYNC_MODEL_TRUTH,
          ),
      ),
    );
    console.log("script reads:", JSON.stringify(world.scriptReads));
  }
  console.log("conflicts:", JSON.stringify([...world.db.conflicts.values()], null, 0));
  console.log(
    "reconciles:",
    JSON.stringify(
      world.db.reports.map((r) => r.ids),
      null,
      0,
    ),
  );
  process.exitCode = result.failures.length ? 1 : 0;
} finally {
  await server.close();
}
