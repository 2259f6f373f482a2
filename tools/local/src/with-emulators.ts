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
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
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
