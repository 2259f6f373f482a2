/**
 * The local stack, shared by `npm start` and the test harness: the dev
 * secret, the Firestore choice (real emulator or the Node stand-in), port
 * checks, and the firebase-tools command line for the rest.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createSheetsEmulator, type SheetsEmulator } from "@sheet-sync/sheets-emulator";
import { createTriggerDelivery, type TriggerDelivery } from "./triggers/index.js";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chooseFirestore, startStandIn } from "./firestore.js";
import { assertPortsFree } from "./ports.js";
import { DEV_SECRET, ensureDevSecret } from "./devSecret.js";

export const repoRoot = resolve(fileURLToPath(import.meta.url), "../../../..");
export const PROJECT = "demo-sheet-sync";

interface HostPort {
  host: string;
  port: number;
}
const emulators = JSON.parse(readFileSync(join(repoRoot, "firebase.json"), "utf8"))
  .emulators as Record<"functions" | "firestore" | "tasks", HostPort>;

/** The Sheets API root the functions use locally: functions/.env.demo-sheet-sync is the one place it is set. */
function sheetsRootUrl(): URL {
  const env = readFileSync(join(repoRoot, "functions", `.env.${PROJECT}`), "utf8");
  const m = /^SHEETS_API_ROOT_URL=(.+)$/m.exec(env);
  if (!m) throw new Error(`SHEETS_API_ROOT_URL is missing from functions/.env.${PROJECT}`);
  return new URL(m[1]!.trim());
}
const sheetsUrl = sheetsRootUrl();

export const urls = {
  webhook: `http://${emulators.functions.host}:${emulators.functions.port}/${PROJECT}/us-central1/sheetWebhook`,
  functions: `http://${emulators.functions.host}:${emulators.functions.port}`,
  firestore: `${emulators.firestore.host}:${emulators.firestore.port}`,
  /** The Sheets API emulator, the trigger-delivery control API and (npm start) the page. */
  local: sheetsUrl.origin,
};

/** Extra routes on the local server (the page of `npm start`). */
export type Route = (req: IncomingMessage, res: ServerResponse) => boolean;

export function log(msg: string) {
  console.log(`[sheet-sync] ${msg}`);
}

export interface Stack {
  /** Emulators for firebase-tools' --only. */
  only: string[];
  sheets: SheetsEmulator;
  /** Delivers Firestore events to the functions when the stand-in runs; null with the real emulator. */
  triggers: TriggerDelivery | null;
  firestoreKind: "real" | "standin";
  /** How often the Functions emulator reported code reaching for a non-local address. */
  externalRequests(): number;
  /** The Node stand-in when it runs (its state.emitter tells which documents changed). */
  standIn: Awaited<ReturnType<typeof startStandIn>> | null;
  env: NodeJS.ProcessEnv;
  /** Spawns `firebase <args>` with the stack's environment; the caller waits for it. */
  firebase(args: string[]): ChildProcess;
  stop(): void;
}

export async function prepareStack(routes: Route[] = []): Promise<Stack> {
  const wrote = ensureDevSecret(repoRoot);
  if (wrote) log(`wrote ${wrote} with the local dev secret (SHEET_SYNC_SECRET=${DEV_SECRET})`);

  const choice = chooseFirestore();
  await assertPortsFree([
    {
      name: "Functions emulator",
      port: emulators.functions.port,
      setting: "firebase.json emulators.functions.port",
    },
    {
      name: "Cloud Tasks emulator",
      port: emulators.tasks.port,
      setting: "firebase.json emulators.tasks.port",
    },
    {
      name: "Firestore emulator",
      port: emulators.firestore.port,
      setting: "firebase.json emulators.firestore.port",
    },
    {
      name: "Sheets API emulator and page",
      port: Number(sheetsUrl.port),
      setting: `SHEETS_API_ROOT_URL in functions/.env.${PROJECT}`,
    },
  ]);

  // No update check and no GCE metadata probe: nothing local should reach for the network.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_UPDATE_NOTIFIER: "1",
    METADATA_SERVER_DETECTION: "none",
    SHEET_SYNC_FIRESTORE_KIND: choice.kind,
  };
  const only = ["functions", "tasks"];
  let standIn: Awaited<ReturnType<typeof startStandIn>> | null = null;
  if (choice.kind === "real") {
    only.push("firestore");
    log(`Firestore: the real Cloud Firestore emulator (${choice.why})`);
  } else {
    standIn = await startStandIn(emulators.firestore.host, emulators.firestore.port);
    env.FIRESTORE_EMULATOR_HOST = urls.firestore;
    log(
      `Firestore: the Node stand-in @firestore-emulator/server on ${urls.firestore} (${choice.why})`,
    );
  }

  const sheets = createSheetsEmulator();
  const triggers = standIn
    ? createTriggerDelivery({
        functionsOrigin: urls.functions,
        project: PROJECT,
        emitter: standIn.state.emitter,
        state: standIn.state,
        // The Functions emulator starts a worker per concurrent call; on 2 cores 4 is the sweet spot.
        concurrency: 4,
        log: (m) => log(`triggers: ${m}`),
      })
    : null;
  const handlers: Route[] = [(req, res) => sheets.handle(req, res), ...routes];
  if (triggers) handlers.push((req, res) => triggers.handleHttp(req, res));
  const server: Server = createServer((req, res) => {
    for (const h of handlers) if (h(req, res)) return;
    res
      .writeHead(404, { "content-type": "application/json" })
      .end(JSON.stringify({ error: "not found" }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(sheetsUrl.port), sheetsUrl.hostname, () => resolve());
  });
  log(`Sheets API emulator on ${urls.local}/ (SHEETS_API_ROOT_URL)`);
  if (triggers) {
    triggers.start();
    log(
      "Firestore triggers: delivered to the Functions emulator by tools/local (the stand-in has no trigger support)",
    );
  }

  const children: ChildProcess[] = [];
  let externalRequests = 0;
  return {
    externalRequests: () => externalRequests,
    only,
    sheets,
    triggers,
    firestoreKind: choice.kind,
    standIn,
    env,
    firebase(args) {
      const bin = join(repoRoot, "node_modules", ".bin", "firebase");
      const child = spawn(bin, [...args, "--project", PROJECT], {
        cwd: repoRoot,
        env,
        stdio: ["inherit", "pipe", "pipe"],
      });
      // Pass the output through, and remember if the emulator saw code reach outside the machine.
      for (const [from, to] of [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ] as const) {
        from?.on("data", (chunk: Buffer) => {
          to.write(chunk);
          if (chunk.toString().includes("External network resource requested")) externalRequests++;
        });
      }
      children.push(child);
      return child;
    },
    stop() {
      for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
      triggers?.stop();
      server.closeAllConnections();
      server.close();
      standIn?.stop();
    },
  };
}

export function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((res) => child.on("exit", (code, signal) => res(code ?? (signal ? 130 : 1))));
}

/** Shell-quotes argv for the one command string emulators:exec takes. */
export function shellJoin(argv: string[]): string {
  return argv.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
