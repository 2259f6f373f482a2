import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The documented local value of SHEET_SYNC_SECRET; never used in a deployed project. */
export const DEV_SECRET = "dev-secret";

/** functions/.secret.local is git-ignored, so a fresh clone has none: write the dev value. */
export function ensureDevSecret(repoRoot: string): string | null {
  const file = join(repoRoot, "functions", ".secret.local");
  if (existsSync(file)) return null;
  writeFileSync(file, `SHEET_SYNC_SECRET=${DEV_SECRET}\n`);
  return file;
}
