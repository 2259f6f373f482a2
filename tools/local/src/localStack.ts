/**
 * The whole local loop of `npm start`: the emulators, the Sheets emulator
 * seeded with the demo spreadsheet, the bound Apps Script (in a worker) that
 * imports it into Firestore through the real signed webhook, and the page.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerResponse } from "node:http";
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import { getFirestore } from "firebase-admin/firestore";
import { AppsScriptRuntime } from "./appsScript/runtime.js";
import { DEMO, demoSpreadsheet } from "./demo.js";
import { DEV_SECRET } from "./devSecret.js";
import { createPage, readLatestReconcile, reconcileSummary, type Page } from "./page/server.js";
import {
  localReconcileMs,
  requestReconcile,
  startReconcileSchedule,
  type ReconcileSchedule,
} from "./reconcile.js";
import { exitCodeOf, log, prepareStack, PROJECT, repoRoot, urls, type Route } from "./stack.js";

export const COLLECTION = "rows";
const BUNDLE = join(repoRoot, "apps-script", "dist", "Code.js");
// Where the build puts the entry point moves with what functions/ imports: package.json says.
const FUNCTIONS_MAIN = join(
  repoRoot,
  "functions",
  (
    JSON.parse(readFileSync(join(repoRoot, "functions", "package.json"), "utf8")) as {
      main: string;
    }
  ).main,
);

export interface LocalStack {
  /** Resolves when everything is up and the demo rows are in Firestore. */
  ready: Promise<void>;
  /** The local stand-in for Cloud Scheduler (null before ready, or when off). */
  schedule(): ReconcileSchedule | null;
  /** Resolves with the exit code once the emulators have exited. */
  exited: Promise<number>;
  /**
   * Stops everything; resolves once the emulators have exited. `interrupted`: a Ctrl-C in
   * the terminal, which firebase-tools (same process group) received too.
   */
  stop(options?: { interrupted?: boolean }): Promise<void>;
}

async function waitForWebhook(deadlineMs: number, stopped: () => boolean): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end && !stopped()) {
    try {
      if ((await fetch(urls.webhook)).status === 405) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

function starting(res: ServerResponse): void {
  res.writeHead(503, { "content-type": "text/html; charset=utf-8", "retry-after": "2" });
  res.end(
    `<!doctype html><meta http-equiv="refresh" content="2"><title>Sheet Sync · starting</title>` +
      `<p style="font:14px system-ui;margin:2em">The local stack is starting (emulators, demo data)… this page reloads by itself.</p>`,
  );
}

export async function startLocalStack(): Promise<LocalStack> {
  for (const [file, build] of [
    [BUNDLE, "npm run build -w apps-script"],
    [FUNCTIONS_MAIN, "npm run build -w functions"],
  ] as const) {
    if (!existsSync(file)) {
      throw new Error(`${file} is missing: run \`${build}\` (\`npm start\` builds it first)`);
    }
  }

  // Read before anything starts, so a bad value stops the start with its message.
  const reconcileEveryMs = localReconcileMs();
  let page: Page | null = null;
  let schedule: ReconcileSchedule | null = null;
  const route: Route = (req, res) => {
    if (page) return page.route(req, res);
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/" || path.startsWith("/api/")) {
      starting(res);
      return true;
    }
    return false;
  };
  const stack = await prepareStack([route]);
  stack.sheets.seed(DEMO.spreadsheetId, demoSpreadsheet());
  log(
    `Sheets emulator: seeded ${DEMO.spreadsheetId} (tab ${DEMO.sheetName}) with the demo inventory`,
  );

  // The Admin SDK in this process (the page) talks to whichever Firestore runs.
  process.env.FIRESTORE_EMULATOR_HOST = urls.firestore;
  // Nothing local may probe the GCE metadata server (the children get the same setting).
  process.env.METADATA_SERVER_DETECTION = "none";
  const app: App = initializeApp({ projectId: PROJECT }, "sheet-sync-page");
  const db = getFirestore(app);

  const runtime = new AppsScriptRuntime({
    sheets: stack.sheets,
    bundlePath: BUNDLE,
    spreadsheetId: DEMO.spreadsheetId,
    sheetName: DEMO.sheetName,
    webhookUrl: urls.webhook,
    secret: DEV_SECRET,
  });

  const child = stack.firebase(["emulators:start", "--only", stack.only.join(",")]);
  const exited = exitCodeOf(child);
  let stopping = false;
  const target = {
    webhookUrl: urls.webhook,
    secret: DEV_SECRET,
    spreadsheetId: DEMO.spreadsheetId,
    sheetName: DEMO.sheetName,
  };
  // The tab's key in syncSheets/syncReconciles (functions/src/store/layout.ts).
  const sheetKey = `${DEMO.spreadsheetId}:${encodeURIComponent(DEMO.sheetName)}`;

  const ready = (async () => {
    if (!(await waitForWebhook(180_000, () => stopping))) {
      throw new Error(
        stopping
          ? "stopped"
          : `the webhook did not come up at ${urls.webhook}; see the emulator output above`,
      );
    }
    const created = createPage({
      sheets: stack.sheets,
      runtime,
      db,
      spreadsheetId: DEMO.spreadsheetId,
      sheetName: DEMO.sheetName,
      collection: COLLECTION,
      project: PROJECT,
      standInEmitter: stack.standIn?.state.emitter ?? null,
      info: {
        firestore: stack.firestoreKind,
        webhook: urls.webhook,
        functions: urls.functions,
        firestoreHost: urls.firestore,
        collection: COLLECTION,
        spreadsheetId: DEMO.spreadsheetId,
      },
      reconcile: () => requestReconcile(target),
      schedule: () => schedule?.view() ?? null,
    });
    await created.start();
    runtime.on("report", (r) => created.report(r));
    runtime.on("error", (e: Error) =>
      created.activity({ dir: "error", title: `Apps Script runtime: ${e.message}` }),
    );
    await runtime.start();
    page = created;
    created.activity({
      dir: "info",
      title: `stack up: Firestore ${stack.firestoreKind === "real" ? "real emulator" : "Node stand-in"}, demo sheet seeded; running the script's Set up`,
    });
    // Set up imports every row through the signed webhook, as the menu item does in a real sheet.
    const setUp = await runtime.setUp();
    const failed = setUp.webhooks.filter((w) => w.status !== 200);
    if (failed.length) {
      log(`Set up did not import the demo rows: HTTP ${failed[0]?.status ?? "(network error)"}`);
    } else if (setUp.error) {
      log(`Set up recorded an error in the script's status: ${setUp.error}`);
    }
    if (stopping) return;
    // Cloud Scheduler runs scheduledReconcile in production; the emulators run no schedule.
    if (reconcileEveryMs > 0) {
      schedule = await startReconcileSchedule({
        functionsOrigin: urls.functions,
        project: PROJECT,
        region: "us-central1",
        name: "scheduledReconcile",
        everyMs: reconcileEveryMs,
        log,
        onRun: (view) => page?.scheduled(view),
        summary: async () => {
          const view = await readLatestReconcile(db, sheetKey);
          return view && `${view.trigger}, ${reconcileSummary(view)}`;
        },
      });
      if (stopping) schedule.stop();
      else created.scheduled(schedule.view());
    }
  })();

  async function stop(options: { interrupted?: boolean } = {}): Promise<void> {
    if (stopping) return void (await exited);
    stopping = true;
    schedule?.stop();
    page?.stop();
    await runtime.stop();
    // A second SIGINT makes firebase-tools quit at once and leave its function workers
    // running, so after a Ctrl-C it only gets one if it has not started shutting down.
    const interrupt = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
    };
    const timers = [
      setTimeout(interrupt, options.interrupted ? 10_000 : 0),
      setTimeout(() => child.kill("SIGKILL"), options.interrupted ? 40_000 : 30_000),
    ];
    await exited;
    for (const t of timers) clearTimeout(t);
    stack.stop();
    await deleteApp(app).catch(() => {});
  }

  return { ready, exited, stop, schedule: () => schedule };
}
