/**
 * `npm start`: the whole local loop until Ctrl-C: emulators, the Sheets
 * emulator with the demo spreadsheet, the bound Apps Script, and the page.
 */
import { DEV_SECRET } from "./devSecret.js";
import { startLocalStack } from "./localStack.js";
import { log, urls } from "./stack.js";

const formatPeriod = (ms: number) =>
  ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;

async function main(): Promise<number> {
  const local = await startLocalStack();
  let stopping = false;
  const stop = (interrupted: boolean) => {
    if (stopping) return;
    stopping = true;
    log("stopping…");
    void local.stop({ interrupted });
  };
  process.on("SIGINT", () => stop(true));
  process.on("SIGTERM", () => stop(false));

  local.ready.then(
    () => {
      log("ready:");
      log(`  page      ${urls.local}/   (the sheet, Firestore, sync activity)`);
      log(`  webhook   POST ${urls.webhook}`);
      log(`  secret    ${DEV_SECRET} (functions/.secret.local)`);
      log(`  Firestore ${urls.firestore} (FIRESTORE_EMULATOR_HOST)`);
      log(`  Sheets    ${urls.local}/v4/spreadsheets/demo-spreadsheet (SHEETS_API_ROOT_URL)`);
      log(`  reconcile POST ${urls.webhook}/reconcile (signed; the page's Reconcile button)`);
      const schedule = local.schedule()?.view();
      log(
        schedule
          ? `  schedule  scheduledReconcile every ${formatPeriod(schedule.everyMs)} through the Functions emulator` +
              ` (deployed: ${schedule.deployed ?? "its onSchedule"}; SHEET_SYNC_LOCAL_RECONCILE_MS), next at ${new Date(schedule.nextAt ?? 0).toLocaleTimeString()}`
          : "  schedule  off (SHEET_SYNC_LOCAL_RECONCILE_MS=0): the emulators run no Cloud Scheduler",
      );
      log("  Ctrl-C stops everything");
    },
    (err: Error) => {
      if (stopping) return;
      log(err.message);
      stop(false);
    },
  );

  const code = await local.exited;
  await local.stop();
  return stopping ? 0 : code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[sheet-sync] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
