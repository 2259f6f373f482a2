/**
 * Runs a command against the local emulator suite and exits with its code:
 *   node --import tsx tools/local/src/with-emulators.ts -- <command...>
 * Everything it starts is stopped when the command ends or on Ctrl-C.
 */
import { exitCodeOf, prepareStack, shellJoin } from "./stack.js";

async function main(): Promise<number> {
  const dash = process.argv.indexOf("--");
  const command = dash >= 0 ? process.argv.slice(dash + 1) : [];
  if (!command.length) throw new Error("usage: with-emulators -- <command...>");

  const stack = await prepareStack();
  const child = stack.firebase([
    "emulators:exec",
    "--only",
    stack.only.join(","),
    shellJoin(command),
  ]);
  // Ctrl-C in a terminal reaches firebase-tools too, and a second SIGINT makes it quit at
  // once, leaving its function workers behind: give it time to stop before sending our own.
  const stopChild = (delayMs: number) => {
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
    }, delayMs);
    timer.unref();
  };
  process.on("SIGINT", () => stopChild(10_000));
  process.on("SIGTERM", () => stopChild(0));
  const code = await exitCodeOf(child);
  stack.stop();
  if (stack.externalRequests() > 0) {
    console.error(
      `[sheet-sync] the functions reached for a non-local address ${stack.externalRequests()} time(s) ("External network resource requested" above); nothing local may`,
    );
    return code || 1;
  }
  return code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`[sheet-sync] ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  },
);
