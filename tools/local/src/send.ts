/**
 * Signs and sends one webhook batch, as the Apps Script does:
 *   npm run webhook:sample                 a small sample batch
 *   npm run webhook:send -- batch.json     a batch from a file
 * SHEET_SYNC_WEBHOOK_URL and SHEET_SYNC_SECRET override the local defaults.
 */
import { readFileSync } from "node:fs";
import { DEV_SECRET } from "./devSecret.js";
import { signedHeaders } from "./reconcile.js";
import { urls } from "./stack.js";

function sampleBatch() {
  const now = Date.now();
  return {
    spreadsheetId: "demo-spreadsheet",
    sheetName: "Sheet1",
    header: ["_id", "name", "qty", "due", "done", "_modified", "_rev"],
    changes: [
      {
        id: "r_sample1",
        modifiedAt: now,
        values: {
          name: "Widget",
          qty: 3,
          due: { $date: new Date(now).toISOString() },
          done: false,
        },
      },
      {
        id: "r_sample2",
        modifiedAt: now,
        values: { name: "Gadget", qty: 12, due: null, done: true },
        fields: ["qty"],
      },
    ],
    deletes: [],
  };
}

async function main() {
  const file = process.argv[2];
  const body = file ? readFileSync(file, "utf8") : JSON.stringify(sampleBatch());
  const url = process.env.SHEET_SYNC_WEBHOOK_URL ?? urls.webhook;
  const secret = process.env.SHEET_SYNC_SECRET ?? DEV_SECRET;
  const res = await fetch(url, { method: "POST", headers: signedHeaders(secret, body), body });
  console.log(`${res.status} ${res.statusText}`);
  console.log(await res.text());
  if (!res.ok) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
