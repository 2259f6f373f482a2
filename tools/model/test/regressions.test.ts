/**
 * Sequences the randomized test once found (shrunk, and the runs they came from), replayed as
 * they were: each must now end with every invariant of check.ts holding.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { startSheetsEmulator, type RunningSheetsEmulator } from "@sheet-sync/sheets-emulator";
import { check } from "../src/check.js";
import { apply, type Command } from "../src/commands.js";
import { quietLogs } from "../src/quiet.js";
import { World } from "../src/world.js";

const dir = new URL("./regressions/", import.meta.url);
const cases = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({
    file: f,
    ...(JSON.parse(readFileSync(new URL(f, dir), "utf8")) as {
      why: string;
      skew: number;
      /** Found under the "no-key" mix: items told apart by content only. */
      hiddenKey?: boolean;
      commands: Command[];
    }),
  }));

describe("model: sequences the randomized test found", function () {
  this.timeout(120_000);
  let server: RunningSheetsEmulator;
  let loud: () => void;
  before(async () => {
    server = await startSheetsEmulator({ port: 0 });
    loud = quietLogs();
  });
  after(async () => {
    loud();
    await server.close();
  });

  for (const c of cases) {
    it(`${c.file.replace(/\.json$/, "")}: ${c.why}`, async () => {
      const world = await World.create(server, {
        scriptSkewMs: c.skew,
        hiddenKey: c.hiddenKey === true,
      });
      for (const command of c.commands) await apply(world, command);
      await world.settle();
      assert.deepEqual(check(world).failures, []);
    });
  }
});
