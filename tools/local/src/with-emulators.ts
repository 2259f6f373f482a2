/**
 * Runs a command against the local emulator suite and exits with its code:
 *   node --import tsx tools/local/src/with-emulators.ts -- <command...>
 * Functions and Cloud Tasks always come from firebase-tools; Firestore is the
 * real emulator where it can run, else the Node stand-in (it says which).
 * Everything it starts is stopped when the command ends or on Ctrl-C.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chooseFirestore, startStandIn } from "./firestore.js";
import { assertPortsFree } from "./ports.js";
import { ensureDevSecret } from "./devSecret.js";

const repoRoot = resolve(fileURLToPath(import.meta.url), "../../../..");
const firebaseJson = JSON.parse(readFileSync(join(repoRoot, "firebase.json"), "utf8"));
const emu = firebaseJson.emulators;
const project = "demo-sheet-sync";

function log(msg: string) {
  console.log(`[sheet-sync] ${msg}`);
}

async function main(): Promise<number> {
  const dash = process.argv.indexOf("--");
  const command = dash >= 0 ? process.argv.slice(dash + 1) : [];
  if (!command.length) throw new Error("usage: with-emulators -- <command...>");

  const wrote = ensureDevSecret(repoRoot);
  if (wrote) log(`wrote ${wrote} with the dev secret (SHEET_SYNC_SECRET=dev-secret)`);

  const choice = chooseFirestore();
  const only = ["functions", "tasks"];
  // No update check and no GCE metadata probe: nothing local should reach for the network.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_UPDATE_NOTIFIER: "1",
    METADATA_SERVER_DETECTION: "none",
  };
  await assertPortsFree([
    {
      name: "Functions emulator",
      port: emu.functions.port,
      setting: "firebase.json emulators.functions.port",
    },
    {
      name: "Cloud Tasks emulator",
      port: emu.tasks.port,
      setting: "firebase.json emulators.tasks.port",
    },
    {
      name: "Firestore emulator",
      port: emu.firestore.port,
      setting: "firebase.json emulators.firestore.port",
    },
  ]);

  let standIn: Awaited<ReturnType<typeof startStandIn>> | null = null;
  if (choice.kind === "real") {
    only.push("firestore");
    log(`Firestore: the real emulator (${choice.why})`);
  } else {
    standIn = await startStandIn(emu.firestore.host, emu.firestore.port);
    env.FIRESTORE_EMULATOR_HOST = `${emu.firestore.host}:${emu.firestore.port}`;
    env.SHEET_SYNC_FIRESTORE_KIND = "standin";
    log(
      `Firestore: the Node stand-in @firestore-emulator/server on ${env.FIRESTORE_EMULATOR_HOST} (${choice.why})`,
    );
  }
  env.SHEET_SYNC_FIRESTORE_KIND ??= choice.kind;

  const firebaseBin = join(repoRoot, "node_modules", ".bin", "firebase");
  const shellCommand = command
    .map((a) => (/^[\w./:=@-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(" ");
  const child = spawn(
    firebaseBin,
    ["emulators:exec", "--only", only.join(","), "--project", project, shellCommand],
    { cwd: repoRoot, env, stdio: "inherit" },
  );
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  const code = await new Promise<number>((res) =>
    child.on("exit", (c, s) => res(c ?? (s ? 130 : 1))),
  );
  standIn?.stop();
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[sheet-sync] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
