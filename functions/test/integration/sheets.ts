/** The local Sheets API emulator and trigger delivery, as the outbound tests see them. */
import { sheets } from "@googleapis/sheets";
import { db, SHEET_NAME, SPREADSHEET_ID, waitFor } from "./stack.js";

export const LOCAL = "http://127.0.0.1:4100";
export const sheetsApi = sheets({ version: "v4", rootUrl: `${LOCAL}/`, retry: false });

/** A request to the Sheets emulator's own admin API (quota, faults, seeding, stats). */
export async function emulatorAdmin<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${LOCAL}/__emulator/${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} /__emulator/${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface Stats {
  byMethod: Record<string, number>;
  reads: number;
  writes: number;
  rejected: number;
}
interface Snapshot {
  sheets: Array<{ title: string; values: unknown[][]; formulas: (string | null)[][] }>;
}

export const seedSpreadsheet = (body: unknown) =>
  emulatorAdmin("POST", `spreadsheets/${SPREADSHEET_ID}`, body);
export const stats = () => emulatorAdmin<Stats>("GET", "stats");
export const resetStats = () => emulatorAdmin("POST", "stats/reset");
export const injectFaults = (faults: unknown[]) => emulatorAdmin("POST", "faults", faults);

/** The synced tab as rows of objects keyed by header, plus the formulas. */
export async function sheetRows() {
  const snap = await emulatorAdmin<Snapshot>("GET", `spreadsheets/${SPREADSHEET_ID}`);
  const tab = snap.sheets.find((s) => s.title === SHEET_NAME)!;
  const header = (tab.values[0] ?? []).map(String);
  return tab.values.slice(1).map((row, i) => ({
    rowNumber: i + 2,
    cells: Object.fromEntries(header.map((h, c) => [h, row[c] ?? ""])) as Record<string, unknown>,
    formulas: Object.fromEntries(
      header.map((h, c) => [h, tab.formulas[i + 1]?.[c] ?? null]),
    ) as Record<string, string | null>,
  }));
}

export async function sheetRow(id: string) {
  return (await sheetRows()).find((r) => r.cells._id === id);
}

/**
 * Waits until every Firestore event has been delivered and handled. With the
 * stand-in, tools/local knows (its idle endpoint); the real emulator delivers
 * by itself and says nothing, so there the tests wait on outcomes instead.
 */
export async function triggersSettled(timeoutMs = 120_000): Promise<void> {
  if (process.env.SHEET_SYNC_FIRESTORE_KIND !== "standin") return;
  const res = await fetch(`${LOCAL}/__stack/triggers/idle?timeoutMs=${timeoutMs}`);
  if (res.status !== 200)
    throw new Error(`triggers not idle after ${timeoutMs} ms: ${await res.text()}`);
}

/** Waits until no row of the demo sheet waits in the outbox. */
export async function outboxDrained(deadlineMs = 120_000): Promise<void> {
  const key = `${SPREADSHEET_ID}:${encodeURIComponent(SHEET_NAME)}`;
  await waitFor(
    "the outbox to drain",
    async () =>
      (await db().collection("syncOutbox").where("sheetKey", "==", key).limit(1).get()).empty
        ? true
        : undefined,
    deadlineMs,
  );
}
