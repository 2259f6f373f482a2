/**
 * `npm start`: the local stack until Ctrl-C, with the webhook ready to take
 * signed batches (`npm run webhook:sample` sends one).
 */
import { DEV_SECRET } from "./devSecret.js";
import { exitCodeOf, log, prepareStack, urls } from "./stack.js";

async function waitForWebhook(deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      if ((await fetch(urls.webhook)).status === 405) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

async function main(): Promise<number> {
  const stack = await prepareStack();
  const child = stack.firebase(["emulators:start", "--only", stack.only.join(",")]);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    log("stopping…");
    child.kill("SIGINT");
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  void waitForWebhook(120_000).then((ready) => {
    if (stopping) return;
    if (!ready)
      return log(`the webhook did not come up at ${urls.webhook}; see the emulator output above`);
    log("ready:");
    log(`  webhook   POST ${urls.webhook}`);
    log(`  secret    ${DEV_SECRET} (functions/.secret.local)`);
    log(`  Firestore ${urls.firestore} (FIRESTORE_EMULATOR_HOST)`);
    log("  try it:   npm run webhook:sample   (in another terminal)");
  });

  const code = await exitCodeOf(child);
  stack.stop();
  return stopping ? 0 : code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[sheet-sync] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
