/**
 * The randomized stack test's view of the running stack, all on 127.0.0.1:
 * a person's edits through the page's API (the Sheets emulator takes the
 * edit, the built script's trigger runs on it), the sheet as the emulator's
 * admin API shows it (no quota spent), the sheet as the functions read it
 * (the Sheets API, typed cells), Firestore through the Admin SDK, and a wait
 * for the whole system to go quiet.
 */
import type { Firestore } from "firebase-admin/firestore";
import { sheetsApi } from "../../../../../functions/src/sheets/client.js";
import { SheetsGateway } from "../../../../../functions/src/sheets/gateway.js";
import { readLayout } from "../../../../../functions/src/core/flushPlan.js";
import type { CellValue } from "../../../../../functions/src/core/values.js";
import { CONFLICTS, OUTBOX, STATES, toCell } from "../../../../../functions/src/store/layout.js";
import type { ActivityEntry, SheetView } from "../../../src/page/types.js";
import { DEMO } from "../../../src/demo.js";
import { COLLECTION } from "../../../src/localStack.js";
import { urls } from "../../../src/stack.js";
import { waitFor } from "../../helpers.js";

const LOCAL = urls.local;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${LOCAL}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** What a person does in the sheet (the page's grid buttons); each resolves once the script's run is over. */
export const person = {
  edit: (row: number, column: number, text: string) =>
    call("POST", "/api/sheet/edit", { row, column, text }),
  insertRow: (row: number) => call("POST", "/api/sheet/insert", { row }),
  deleteRow: (row: number) => call("POST", "/api/sheet/delete", { row }),
  /** Whole rows, hidden `_id`/`_modified`/`_rev` included (a range sort of every column). */
  sort: (column: number, ascending: boolean) =>
    call("POST", "/api/sheet/sort", { column, ascending, scope: "rows" }),
};

interface PageState {
  sheet: SheetView;
  activity: ActivityEntry[];
}
export const pageState = () => call<PageState>("GET", "/api/state");

/** The script's time-driven trigger, now; true when it sent nothing (its outbox was empty). */
export async function timerRunSentNothing(): Promise<boolean> {
  const before = Math.max(0, ...(await pageState()).activity.map((a) => a.id));
  await call("POST", "/api/sheet/flush", {});
  return !(await pageState()).activity.some(
    (a) => a.id > before && a.title.startsWith("time-driven"),
  );
}

/** Sheets API faults the emulator injects (its admin API; nothing else can fail on request here). */
export const sheetsFaults = {
  inject: (fault: { status: number; count: number; methods: string[] }) =>
    call("POST", "/__emulator/faults", [fault]),
  clear: () => call("DELETE", "/__emulator/faults"),
};

/** The synced tab's raw cells (row 1 = header), as the emulator holds them: no API quota spent. */
export async function sheetGrid(): Promise<{ header: string[]; rows: unknown[][] }> {
  const snap = await call<{ sheets: { title: string; values: unknown[][] }[] }>(
    "GET",
    `/__emulator/spreadsheets/${DEMO.spreadsheetId}`,
  );
  const values = snap.sheets.find((s) => s.title === DEMO.sheetName)?.values ?? [];
  return { header: (values[0] ?? []).map(String), rows: values.slice(1) };
}

export interface SheetRow {
  rowNumber: number;
  id: string;
  cells: Record<string, CellValue>;
}

/** Every row of the tab as the functions read it: the Sheets API, typed cells (dates as dates). */
export async function sheetRowsTyped(): Promise<{ columns: string[]; rows: SheetRow[] }> {
  const gateway = new SheetsGateway(sheetsApi(`${LOCAL}/`), DEMO.spreadsheetId, DEMO.sheetName);
  const { timeZone } = await gateway.tab();
  const { header, rows } = await gateway.readValues();
  const layout = readLayout(header);
  const numbers = rows.map((_, i) => i + 2);
  const typed = numbers.length ? await gateway.readRows(numbers, layout, timeZone) : new Map();
  return {
    columns: layout.columns,
    rows: numbers.map((n) => {
      const r = typed.get(n)!;
      return {
        rowNumber: n,
        id: r.id,
        cells: Object.fromEntries(layout.columns.map((c) => [c, r.cells[c]?.value ?? null])),
      };
    }),
  };
}

/** The collection's documents, fields as cell values. */
export async function documents(db: Firestore): Promise<Map<string, Record<string, CellValue>>> {
  const snap = await db.collection(COLLECTION).get();
  return new Map(
    snap.docs.map((d) => [
      d.id,
      Object.fromEntries(Object.entries(d.data()).map(([k, v]) => [k, toCell(v)])),
    ]),
  );
}

export interface StoredConflict {
  rowId: string;
  field: string | null;
  rule: string;
  kept: { side: string; op: string; values: Record<string, CellValue> | null };
  rejected: { side: string; op: string; values: Record<string, CellValue> | null };
}

export async function conflicts(db: Firestore): Promise<StoredConflict[]> {
  const side = (s: { side?: string; op?: string; values?: Record<string, unknown> | null }) => ({
    side: String(s?.side ?? "?"),
    op: String(s?.op ?? "?"),
    values: s?.values
      ? Object.fromEntries(Object.entries(s.values).map(([k, v]) => [k, toCell(v)]))
      : null,
  });
  const snap = await db.collection(CONFLICTS).where("collection", "==", COLLECTION).get();
  return snap.docs.map((d) => {
    const c = d.data();
    return {
      rowId: String(c.rowId),
      field: typeof c.field === "string" ? c.field : null,
      rule: String(c.rule),
      kept: side(c.kept),
      rejected: side(c.rejected),
    };
  });
}

/** What still moves: outbox entries and cell writes on their way to the sheet. */
async function pendingSync(db: Firestore): Promise<string[]> {
  const [outbox, states] = await Promise.all([
    db.collection(OUTBOX).where("collection", "==", COLLECTION).get(),
    db.collection(STATES).where("collection", "==", COLLECTION).get(),
  ]);
  return [
    ...outbox.docs.map((d) => `outbox ${d.id}`),
    ...states.docs.filter((d) => d.get("inFlight")).map((d) => `in flight ${d.id}`),
  ];
}

/** Every Firestore event delivered and handled (the stand-in's delivery says so; the real emulator has no such endpoint). */
async function triggersIdle(timeoutMs: number): Promise<void> {
  const res = await fetch(`${LOCAL}/__stack/triggers/idle?timeoutMs=${timeoutMs}`, {
    signal: AbortSignal.timeout(timeoutMs + 5_000),
  });
  await res.text();
  if (res.status !== 200 && res.status !== 404) {
    throw new Error(`trigger delivery not idle after ${timeoutMs} ms (HTTP ${res.status})`);
  }
}

/**
 * Waits until the flush has nothing to write: every Firestore event handled, no outbox entry,
 * no write in flight. A flush then starts only after an event the test causes next.
 */
export async function flushQuiet(db: Firestore, deadlineMs: number): Promise<void> {
  await waitFor(
    "the sheet's outbox to drain",
    async () => {
      await triggersIdle(Math.min(30_000, deadlineMs));
      return (await pendingSync(db)).length ? undefined : true;
    },
    deadlineMs,
  );
}

/**
 * Waits until nothing moves: every Firestore event handled, no outbox entry and no write in
 * flight, and a run of the script's time-driven trigger finds nothing to send (it also
 * notices what the flush's writes recalculated, such as a formula). Faults still pending are
 * dropped first, so the reconcile and the check's reads are not hit by them.
 */
export async function settle(db: Firestore, deadlineMs: number): Promise<void> {
  await sheetsFaults.clear();
  const end = Date.now() + deadlineMs;
  const left = () => Math.max(1_000, end - Date.now());
  let lastPending: string[] = [];
  await waitFor(
    "the sync to go quiet (events handled, outbox empty, the script with nothing to send)",
    async () => {
      await triggersIdle(Math.min(30_000, left()));
      lastPending = await pendingSync(db);
      if (lastPending.length) return undefined;
      if (!(await timerRunSentNothing())) return undefined;
      await triggersIdle(Math.min(30_000, left()));
      lastPending = await pendingSync(db);
      return lastPending.length ? undefined : true;
    },
    deadlineMs,
  ).catch((e: Error) => {
    throw new Error(
      `${e.message}; still pending: ${lastPending.join(", ") || "nothing in Firestore"}`,
    );
  });
}
