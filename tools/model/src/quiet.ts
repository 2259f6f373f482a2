/**
 * Silences the functions' structured logs while a model runs (thousands of
 * webhooks would drown the report). firebase-functions' logger keeps its own
 * copy of the console methods, so patching `console` alone does not do it.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const common = require(
  join(dirname(require.resolve("firebase-functions/logger")), "common.js"),
) as {
  UNPATCHED_CONSOLE: Record<string, (...args: unknown[]) => void>;
};
const methods = ["debug", "info", "log", "warn", "error"] as const;

/** Runs with the logs off until the returned function is called. */
export function quietLogs(): () => void {
  if (process.env.SHEET_SYNC_MODEL_LOGS) return () => undefined;
  const saved = methods.map((m) => [m, common.UNPATCHED_CONSOLE[m], console[m]] as const);
  for (const m of methods) {
    common.UNPATCHED_CONSOLE[m] = () => undefined;
    console[m] = () => undefined;
  }
  return () => {
    for (const [m, unpatched, patched] of saved) {
      common.UNPATCHED_CONSOLE[m] = unpatched!;
      console[m] = patched;
    }
  };
}
