// node --import tsx tools/sheets-emulator/src/cli.ts [--port 4100] [--host 127.0.0.1] [--seed file.json]
// The seed file maps spreadsheet ids to seed bodies (dates as {"$date": iso}), or is one body
// with an "id" field.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startSheetsEmulator } from "./server.js";
import type { SeedSpreadsheet } from "./emulator.js";

function revive(_key: string, v: unknown): unknown {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o["$date"] === "string" && Object.keys(o).length === 1) return new Date(o["$date"]);
  }
  return v;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "4100" },
      host: { type: "string", default: "127.0.0.1" },
      seed: { type: "string" },
      "writes-per-minute": { type: "string" },
      "reads-per-minute": { type: "string" },
    },
  });
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  const running = await startSheetsEmulator({
    host: values.host,
    port: Number(values.port),
    ...(values["writes-per-minute"]
      ? { quotaWritesPerMinute: num(values["writes-per-minute"]) }
      : {}),
    ...(values["reads-per-minute"] ? { quotaReadsPerMinute: num(values["reads-per-minute"]) } : {}),
  });
  if (values.seed) {
    const data = JSON.parse(readFileSync(values.seed, "utf8"), revive) as
      (SeedSpreadsheet & { id?: string }) | Record<string, SeedSpreadsheet>;
    if ("sheets" in data && typeof data.id === "string") {
      running.emulator.seed(data.id, data as SeedSpreadsheet);
    } else {
      for (const [id, body] of Object.entries(data as Record<string, SeedSpreadsheet>)) {
        running.emulator.seed(id, body);
      }
    }
  }
  running.emulator.on("request", (e: { method: string; status: number; path: string }) => {
    console.log(`${e.status} ${e.method} ${e.path}`);
  });
  console.log(`Sheets API emulator listening on ${running.url} (admin: ${running.url}__emulator/)`);
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
