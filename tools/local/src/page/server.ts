/**
 * The page of `npm start` at http://127.0.0.1:4100/: the sheet as a grid, the
 * Firestore documents with each row's sync state (`syncRows`, `syncOutbox`),
 * the sync activity, conflicts, the last reconcile and the Sheets API request
 * counts, live over Server-Sent Events. Grid edits go through the Apps Script
 * runtime (as a person's edits in the sheet); document edits go to Firestore
 * through the Admin SDK, so the trigger → task → Sheets API path runs for real.
 */
import type { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import {
  FieldPath,
  Timestamp,
  type DocumentData,
  type Firestore,
  type QuerySnapshot,
} from "firebase-admin/firestore";
import type { RequestEvent, SheetsEmulator } from "@sheet-sync/sheets-emulator";
import type { AppsScriptRuntime, RunReport } from "../appsScript/runtime.js";
import type { Route } from "../stack.js";
import type {
  ActivityEntry,
  ConflictSideView,
  ConflictView,
  Doc,
  GoneRow,
  PageInfo,
  ReconcileView,
  ScheduleView,
  SheetView,
  SyncView,
} from "./types.js";

export interface PageOptions {
  sheets: SheetsEmulator;
  runtime: AppsScriptRuntime;
  db: Firestore;
  spreadsheetId: string;
  sheetName: string;
  collection: string;
  info: PageInfo;
  /** The stand-in's emitter; null with the real emulator (then onSnapshot listens). */
  standInEmitter: Pick<EventEmitter, "on" | "off"> | null;
  project: string;
  /** Sends the signed reconcile request and resolves with its report (the Reconcile button). */
  reconcile: () => Promise<unknown>;
  /** The local stand-in for Cloud Scheduler; null until it runs. */
  schedule: () => ScheduleView | null;
}

export interface Page {
  route: Route;
  /** Loads the documents, starts listening and builds the page script. */
  start(): Promise<void>;
  /** Adds a line to the activity feed. */
  activity(entry: Omit<ActivityEntry, "id" | "at"> & { at?: number }): void;
  report(report: RunReport): void;
  /** The schedule ran or was re-armed: show when it runs next and what it found. */
  scheduled(view: ScheduleView): void;
  stop(): void;
}

// The sync's collections (functions/src/store/layout.ts).
const STATES = "syncRows";
const OUTBOX = "syncOutbox";
const CONFLICTS = "syncConflicts";
const SHEETS = "syncSheets";
const RECONCILES = "syncReconciles";
const WATCHED = [STATES, OUTBOX, CONFLICTS, SHEETS] as const;
type Watched = (typeof WATCHED)[number];

const MAX_ACTIVITY = 300;
const MAX_CONFLICTS = 100;
/** Deleted rows the sync still remembers, shown under the documents. */
const MAX_GONE = 10;
const pageDir = fileURLToPath(new URL("../../page/", import.meta.url));

/** Firestore values as JSON the page can show: timestamps as {"$date": iso}. */
function toJson(v: unknown): unknown {
  if (v instanceof Timestamp) return { $date: v.toDate().toISOString() };
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === "object") {
    if (v.constructor !== Object) return String(v);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  }
  return v;
}

function fromJson(v: unknown): unknown {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.$date === "string") return Timestamp.fromDate(new Date(o.$date));
  }
  return v;
}

async function readBody(req: IncomingMessage, limit = 1 << 20): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error("body too large"), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    throw Object.assign(new Error("body is not JSON"), { status: 400 });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(text);
}

const int = (v: unknown, name: string, min = 1): number => {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min)
    throw Object.assign(new Error(`${name} must be an integer ≥ ${min}`), { status: 400 });
  return v;
};

const millis = (v: unknown): number | null =>
  v instanceof Timestamp ? v.toMillis() : typeof v === "number" ? v : null;

/**
 * A row's sync state in a few words. Read from its `syncRows` document (the
 * sync's memory of the row) and its `syncOutbox` entry (the sheet still needs
 * a change): the raw documents go in the tooltip.
 */
export function syncView(
  state: DocumentData | undefined,
  outbox: DocumentData | undefined,
): SyncView {
  const raw = JSON.stringify(toJson({ state: state ?? null, outbox: outbox ?? null }), null, 1);
  const toSheet = outbox?.op === "delete" ? "delete → sheet" : "→ sheet";
  if (!state) {
    return outbox
      ? { kind: "to-sheet", label: toSheet, raw }
      : { kind: "unknown", label: "not synced yet", raw };
  }
  const deleted = state.deleted as { at?: number; by?: string } | null | undefined;
  if (deleted) {
    const where = deleted.by === "sheet" ? "the sheet" : "Firestore";
    return {
      kind: "deleted",
      label: `deleted in ${where}${outbox ? `, ${toSheet}` : ""}`,
      raw,
    };
  }
  if (state.parked === true) return { kind: "waiting", label: "waiting for the sheet", raw };
  const edits = Object.keys((state.docEdits ?? {}) as Record<string, unknown>);
  const inFlight = state.inFlight as { cells?: Record<string, unknown> } | null | undefined;
  if (inFlight) {
    const cells = Object.keys(inFlight.cells ?? {});
    return { kind: "to-sheet", label: `→ sheet (writing ${cells.join(", ")})`, raw };
  }
  if (edits.length || outbox) {
    return {
      kind: "to-sheet",
      label: edits.length ? `→ sheet: ${edits.join(", ")}` : toSheet,
      raw,
    };
  }
  if (state.inSheet !== true) return { kind: "waiting", label: "not in the sheet", raw };
  return { kind: "in-sync", label: "in sync", raw };
}

function conflictSide(v: unknown): ConflictSideView {
  const o = (v ?? {}) as { side?: unknown; op?: unknown; at?: unknown; values?: unknown };
  return {
    side: String(o.side ?? "?"),
    op: String(o.op ?? "?"),
    at: millis(o.at),
    values: o.values ? JSON.stringify(toJson(o.values)) : null,
  };
}

function conflictView(id: string, c: DocumentData): ConflictView {
  return {
    id,
    rowId: String(c.rowId ?? ""),
    field: typeof c.field === "string" ? c.field : null,
    rule: String(c.rule ?? ""),
    kept: conflictSide(c.kept),
    rejected: conflictSide(c.rejected),
    detectedAt: millis(c.detectedAt) ?? 0,
  };
}

/** A report as the endpoint answers it or syncReconciles stores it (`at` a Timestamp there). */
export function reconcileView(r: unknown): ReconcileView | null {
  if (!r || typeof r !== "object") return null;
  const o = r as Record<string, unknown>;
  const at = millis(o.at);
  if (at === null) return null;
  const requests = (o.sheetsRequests ?? {}) as { reads?: number; writes?: number };
  return {
    at,
    trigger: String(o.trigger ?? "?"),
    rows: Number(o.rows ?? 0),
    counts: (o.counts ?? {}) as Record<string, number>,
    conflicts: Number(o.conflicts ?? 0),
    sheetsRequests: { reads: requests.reads ?? 0, writes: requests.writes ?? 0 },
    durationMs: Number(o.durationMs ?? 0),
    ids: (o.ids ?? {}) as Record<string, string[]>,
    duplicateIds: (o.duplicateIds ?? []) as string[],
  };
}

/** "30 rows: 29 in-sync, 1 firestore-to-sheet · Sheets API 4 reads, 1 write · 240 ms" */
export function reconcileSummary(r: ReconcileView): string {
  const counts = Object.entries(r.counts)
    .map(([finding, n]) => `${n} ${finding}`)
    .join(", ");
  const { reads, writes } = r.sheetsRequests;
  return (
    `${r.rows} rows${counts ? `: ${counts}` : ""}` +
    `${r.conflicts ? ` · ${r.conflicts} conflict${r.conflicts === 1 ? "" : "s"}` : ""}` +
    ` · Sheets API ${reads} read${reads === 1 ? "" : "s"}, ${writes} write${writes === 1 ? "" : "s"}` +
    ` · ${r.durationMs} ms`
  );
}

/**
 * The newest stored report. syncSheets' `lastReconcile` names it; the report itself, with the
 * ids of every finding, is read from syncReconciles.
 */
export async function readLatestReconcile(
  db: Firestore,
  sheetKey: string,
  summary?: unknown,
): Promise<ReconcileView | null> {
  const last = summary ?? (await db.collection(SHEETS).doc(sheetKey).get()).get("lastReconcile");
  const at = reconcileView(last)?.at;
  if (at === undefined) return null;
  const stored = await db.collection(RECONCILES).doc(`${sheetKey}:${at}`).get();
  return reconcileView(stored.exists ? stored.data() : last);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

export function createPage(options: PageOptions): Page {
  const { sheets, runtime, db, spreadsheetId, sheetName, collection } = options;
  const sheetKey = `${spreadsheetId}:${encodeURIComponent(sheetName)}`;
  const clients = new Set<ServerResponse>();
  const feed: ActivityEntry[] = [];
  let rows = new Map<string, Record<string, unknown>>();
  let states = new Map<string, DocumentData>();
  let outbox = new Map<string, DocumentData>();
  let conflicts: ConflictView[] = [];
  let reconcile: ReconcileView | null = null;
  let nextActivity = 1;
  let script = "";
  const knownConflicts = new Set<string>();
  const timers = new Map<string, NodeJS.Timeout>();
  const unsubscribes: (() => void)[] = [];
  let stopped = false;

  function broadcast(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(frame);
  }

  /** Coalesces bursts (a flush writes many cells, a commit many documents) into one update. */
  function soon(key: string, ms: number, fn: () => void | Promise<void>): void {
    if (timers.has(key) || stopped) return;
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        void Promise.resolve(fn()).catch((e: unknown) =>
          activity({ dir: "error", title: `page: ${(e as Error).message}` }),
        );
      }, ms),
    );
  }

  function sheetView(): SheetView {
    const snap = sheets.snapshot(spreadsheetId);
    const tab = snap?.sheets.find((s) => s.title === sheetName);
    const deleted = runtime.lastDeleted();
    return {
      title: snap?.title ?? "",
      sheetName,
      timeZone: snap?.timeZone ?? "",
      formatted: (tab?.formatted ?? []).map((r) => r.map((v) => String(v))),
      formulas: tab?.formulas ?? [],
      undo: deleted && { row: deleted.row, count: deleted.rows.length, ids: deleted.ids },
    };
  }

  function activity(entry: Omit<ActivityEntry, "id" | "at"> & { at?: number }): void {
    const full: ActivityEntry = { ...entry, id: nextActivity++, at: entry.at ?? Date.now() };
    feed.push(full);
    if (feed.length > MAX_ACTIVITY) feed.shift();
    broadcast("activity", full);
  }

  function docsView(): { docs: Doc[]; gone: GoneRow[] } {
    const docs = [...rows].map(([id, data]) => ({
      id,
      data,
      sync: syncView(states.get(id), outbox.get(id)),
    }));
    const gone = [...states]
      .filter(([id, s]) => !rows.has(id) && s.deleted)
      .sort(([, a], [, b]) => (millis(b.deleted?.at) ?? 0) - (millis(a.deleted?.at) ?? 0))
      .slice(0, MAX_GONE)
      .map(([id, s]) => ({ id, sync: syncView(s, outbox.get(id)) }));
    return { docs, gone };
  }
  const sendDocs = () => soon("docs-out", 20, () => broadcast("docs", docsView()));

  function setReconcile(r: ReconcileView | null): void {
    if (!r || (reconcile && reconcile.at > r.at)) return;
    reconcile = r;
    broadcast("reconcile", r);
  }

  /** The newest stored report: syncSheets' summary names it; its ids are in syncReconciles. */
  async function loadLatestReconcile(summary?: unknown): Promise<void> {
    const last = summary ?? (await db.collection(SHEETS).doc(sheetKey).get()).get("lastReconcile");
    const at = reconcileView(last)?.at;
    if (at === undefined || (reconcile && reconcile.at >= at)) return;
    const stored = await db.collection(RECONCILES).doc(`${sheetKey}:${at}`).get();
    setReconcile(reconcileView(stored.exists ? stored.data() : last));
  }

  function report(r: RunReport): void {
    for (const call of r.webhooks) {
      if (call.kind === "reconcile") {
        const view = call.status === 200 ? reconcileView(call.report) : null;
        activity({
          at: call.at,
          dir: view ? "reconcile" : "retry",
          title: view
            ? `${r.trigger} → reconcile: ${reconcileSummary(view)}`
            : `${r.trigger} → reconcile failed: ${call.status === null ? "network error" : `HTTP ${call.status}`}`,
          ...(call.error ? { detail: call.error } : {}),
        });
        setReconcile(view);
        continue;
      }
      const what = [
        call.changes ? plural(call.changes, "change") : "",
        call.deletes ? plural(call.deletes, "delete") : "",
      ]
        .filter(Boolean)
        .join(" + ");
      const outcome =
        call.status === 200
          ? Object.entries(call.outcomes ?? {})
              .map(([k, n]) => `${n} ${k}`)
              .join(", ") +
            (call.conflicts ? ` (${plural(call.conflicts, "field")} lost a conflict)` : "")
          : call.status === null
            ? `network error: kept in the outbox, retried by the time-driven trigger`
            : `HTTP ${call.status}: kept in the outbox, retried by the time-driven trigger`;
      // A request without rows is the idle minute run's read report (every ten minutes).
      const title = what
        ? `${r.trigger} → webhook: ${what} → ${outcome}`
        : `${r.trigger} → webhook: read report (idle, nothing to send) → ${call.status === 200 ? "taken" : outcome}`;
      activity({
        at: call.at,
        dir: call.status === 200 ? "to-firestore" : "retry",
        title,
        ...(call.rows?.length
          ? {
              detail: call.rows
                .map((x) => `${x.op} ${x.id}: ${x.outcome}${x.reason ? ` (${x.reason})` : ""}`)
                .join("\n"),
            }
          : call.error
            ? { detail: call.error }
            : {}),
      });
      // The script sets a refused row aside (a note on the row, listed in Status); the others apply.
      if (call.rejected?.length) {
        activity({
          at: call.at,
          dir: "error",
          title: `webhook refused ${plural(call.rejected.length, "row")}, set aside by the script: ${call.rejected
            .map((x) => `${x.id}: ${x.reason ?? "no reason given"}`)
            .join("; ")}`,
          detail: call.rejected.map((x) => `${x.op} ${x.id}: ${x.reason ?? ""}`).join("\n"),
        });
      }
      for (const w of call.warnings ?? []) {
        activity({ at: call.at, dir: "error", title: `webhook warning: ${w}` });
      }
    }
    if (r.error) activity({ dir: "error", title: `${r.trigger}: ${r.error}` });
    if (r.skippedWrites)
      activity({
        dir: "info",
        title: `${r.trigger}: ${r.skippedWrites} script write(s) skipped, their row changed meanwhile`,
      });
  }

  function scheduled(view: ScheduleView): void {
    broadcast("schedule", view);
    if (view.last) {
      activity({
        at: view.last.at,
        dir: view.last.ok ? "reconcile" : "error",
        title: `scheduled reconcile: ${view.last.text}`,
      });
    }
    soon("reconcile", 50, () => loadLatestReconcile());
  }

  function onRequest(e: RequestEvent): void {
    const retry = e.status === 429 || e.status >= 500;
    activity({
      at: e.at,
      dir: retry ? "retry" : e.status >= 300 ? "error" : "to-sheet",
      title: `Sheets API ${e.method} → ${e.status}${retry ? " (the flush task will retry)" : ""} · ${e.durationMs} ms`,
      ...(e.message ? { detail: e.message } : {}),
    });
    soon("stats", 100, () => broadcast("stats", sheets.stats()));
    if (
      e.status < 300 &&
      !e.method.startsWith("values.get") &&
      e.method !== "values.batchGet" &&
      e.method !== "spreadsheets.get"
    )
      soon("sheet", 30, () => broadcast("sheet", sheetView()));
  }
  const onSheetChange = () => soon("sheet", 30, () => broadcast("sheet", sheetView()));

  function setRows(snap: QuerySnapshot): void {
    rows = new Map(snap.docs.map((d) => [d.id, toJson(d.data()) as Record<string, unknown>]));
    sendDocs();
  }

  /** This collection's documents of a `{collection}:{rowId}`-keyed sync collection, by row id. */
  function byRowId(snap: QuerySnapshot): Map<string, DocumentData> {
    const out = new Map<string, DocumentData>();
    for (const d of snap.docs) {
      const data = d.data();
      const rowId = typeof data.rowId === "string" ? data.rowId : d.id.split(":").pop()!;
      if (data.collection === undefined || data.collection === collection) out.set(rowId, data);
    }
    return out;
  }

  function conflictsSeen(snap: QuerySnapshot, announce: boolean): void {
    const all: ConflictView[] = [];
    for (const d of snap.docs) {
      const data = d.data();
      if (data.collection !== undefined && data.collection !== collection) continue;
      const c = conflictView(d.id, data);
      all.push(c);
      if (knownConflicts.has(d.id)) continue;
      knownConflicts.add(d.id);
      if (!announce) continue;
      activity({
        dir: "conflict",
        title: `conflict on ${collection}/${c.rowId}, ${c.field === null ? "the whole row" : `field ${c.field}`}: kept the ${c.kept.side} ${c.kept.op}, rejected the ${c.rejected.side} ${c.rejected.op} (${c.rule})`,
        detail: JSON.stringify({ kept: c.kept, rejected: c.rejected }, null, 1),
      });
    }
    conflicts = all.sort((a, b) => b.detectedAt - a.detectedAt).slice(0, MAX_CONFLICTS);
    if (announce) broadcast("conflicts", conflicts);
  }

  const onSnapshotOf: Record<Watched, (snap: QuerySnapshot, live: boolean) => void> = {
    [STATES]: (snap) => {
      states = byRowId(snap);
      sendDocs();
    },
    [OUTBOX]: (snap) => {
      outbox = byRowId(snap);
      sendDocs();
    },
    [CONFLICTS]: (snap, live) => conflictsSeen(snap, live),
    [SHEETS]: (snap) => {
      const info = snap.docs.find((d) => d.id === sheetKey);
      if (info) soon("reconcile", 50, () => loadLatestReconcile(info.get("lastReconcile")));
    },
  };

  const prefix = `projects/${options.project}/databases/(default)/documents/`;
  const onDocument = (a: { document?: { getPath(): string } }) => {
    const path = a.document?.getPath() ?? "";
    if (!path.startsWith(prefix)) return;
    const name = path.slice(prefix.length).split("/")[0]!;
    if (name === collection) {
      soon("rows", 60, async () => setRows(await db.collection(collection).get()));
    } else if ((WATCHED as readonly string[]).includes(name)) {
      const watched = name as Watched;
      soon(watched, 80, async () =>
        onSnapshotOf[watched](await db.collection(watched).get(), true),
      );
    }
  };
  const EVENTS = ["create-document", "update-document", "delete-document"];

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? "GET";
    if (method === "GET" && path === "/api/state") {
      return json(res, 200, {
        info: options.info,
        sheet: sheetView(),
        ...docsView(),
        stats: sheets.stats(),
        activity: feed,
        conflicts,
        reconcile,
        schedule: options.schedule(),
      });
    }
    if (method !== "POST") return json(res, 405, { error: "POST only" });
    const body = (await readBody(req)) as Record<string, unknown>;
    switch (path) {
      case "/api/sheet/edit": {
        const row = int(body.row, "row", 1);
        const column = int(body.column, "column");
        // The hidden bookkeeping headers are the sync's: typed over, the flush stops.
        const header = sheetView().formatted[0]?.[column - 1] ?? "";
        if (row === 1 && ["_id", "_modified", "_rev"].includes(header)) {
          throw Object.assign(new Error(`${header} is the sync's own column: its header stays`), {
            status: 400,
          });
        }
        if (typeof body.text !== "string")
          throw Object.assign(new Error("text must be a string"), { status: 400 });
        const run = runtime.edit(row, column, [[body.text]]);
        onSheetChange();
        await run;
        return json(res, 200, { ok: true });
      }
      case "/api/sheet/insert": {
        const run = runtime.insertRows(int(body.row, "row", 2));
        onSheetChange();
        await run;
        return json(res, 200, { ok: true });
      }
      case "/api/sheet/delete": {
        const run = runtime.deleteRows(int(body.row, "row", 2));
        onSheetChange();
        await run;
        return json(res, 200, { ok: true });
      }
      case "/api/sheet/undo-delete": {
        const run = runtime.undoDelete();
        onSheetChange();
        activity({ dir: "page", title: "page → sheet: Edit → Undo brought the deleted row back" });
        await run;
        return json(res, 200, { ok: true });
      }
      case "/api/sheet/sort": {
        const column = int(body.column, "column");
        const ascending = body.ascending !== false;
        // "visible": Data → Sort range over the visible columns; the hidden ids stay put.
        const run =
          body.scope === "visible"
            ? runtime.sortVisibleColumns(column, ascending)
            : runtime.sort(column, ascending);
        onSheetChange();
        await run;
        return json(res, 200, { ok: true });
      }
      case "/api/sheet/flush": {
        await runtime.flushOutbox();
        return json(res, 200, { ok: true });
      }
      case "/api/sheet/sync-now": {
        await runtime.syncNow();
        return json(res, 200, { ok: true });
      }
      case "/api/reconcile": {
        activity({ dir: "page", title: "page → functions: signed POST …/sheetWebhook/reconcile" });
        let view: ReconcileView | null;
        try {
          view = reconcileView(await options.reconcile());
        } catch (e) {
          activity({ dir: "error", title: `reconcile: ${(e as Error).message}` });
          throw Object.assign(e as Error, { status: 502 });
        }
        if (!view)
          throw Object.assign(new Error("the reconcile answered no report"), { status: 502 });
        activity({
          dir: "reconcile",
          title: `reconcile (${view.trigger}): ${reconcileSummary(view)}`,
        });
        setReconcile(view);
        return json(res, 200, view);
      }
      case "/api/docs/set": {
        const id =
          typeof body.id === "string" && body.id ? body.id : db.collection(collection).doc().id;
        const fields = (body.fields ?? {}) as Record<string, unknown>;
        if (typeof fields !== "object" || Array.isArray(fields))
          throw Object.assign(new Error("fields must be an object"), { status: 400 });
        const entries = Object.entries(fields);
        // mergeFields with FieldPaths: names like "Unit price" or "a.b" are plain field names,
        // and fields the page did not touch stay as they are.
        await db
          .collection(collection)
          .doc(id)
          .set(Object.fromEntries(entries.map(([k, v]) => [k, fromJson(v)])), {
            mergeFields: entries.map(([k]) => new FieldPath(k)),
          });
        activity({
          dir: "page",
          title: `page → Firestore: ${collection}/${id} ${entries.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ") || "created"}`,
        });
        return json(res, 200, { id });
      }
      case "/api/docs/delete": {
        if (typeof body.id !== "string" || !body.id)
          throw Object.assign(new Error("id is required"), { status: 400 });
        await db.collection(collection).doc(body.id).delete();
        activity({ dir: "page", title: `page → Firestore: deleted ${collection}/${body.id}` });
        return json(res, 200, { ok: true });
      }
      default:
        return json(res, 404, { error: `no endpoint ${path}` });
    }
  }

  const route: Route = (req, res) => {
    const path = new URL(req.url ?? "/", "http://page.local").pathname;
    if (path === "/" || path === "/index.html") {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end(readFileSync(`${pageDir}index.html`, "utf8"));
      return true;
    }
    if (path === "/app.css") {
      res.writeHead(200, {
        "content-type": "text/css; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end(readFileSync(`${pageDir}app.css`, "utf8"));
      return true;
    }
    if (path === "/app.js") {
      res.writeHead(200, {
        "content-type": "text/javascript; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end(script);
      return true;
    }
    if (path === "/api/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      res.write(": connected\n\n");
      clients.add(res);
      req.on("close", () => clients.delete(res));
      return true;
    }
    if (path.startsWith("/api/")) {
      handleApi(req, res, path).catch((e: Error & { status?: number }) => {
        if (!res.headersSent) json(res, e.status ?? 500, { error: e.message });
      });
      return true;
    }
    return false;
  };

  return {
    route,
    activity,
    report,
    scheduled,
    async start() {
      const built = await build({
        entryPoints: [`${pageDir}app.ts`],
        bundle: true,
        write: false,
        format: "iife",
        target: "es2020",
        logLevel: "silent",
      });
      script = built.outputFiles[0]!.text;
      sheets.on("request", onRequest);
      sheets.on("sheetChange", onSheetChange);
      for (const name of WATCHED) onSnapshotOf[name](await db.collection(name).get(), false);
      setRows(await db.collection(collection).get());
      await loadLatestReconcile();
      if (options.standInEmitter) {
        for (const ev of EVENTS) options.standInEmitter.on(ev, onDocument);
      } else {
        // The real emulator pushes snapshots; the stand-in's listeners are too slow to use.
        unsubscribes.push(db.collection(collection).onSnapshot(setRows));
        for (const name of WATCHED) {
          unsubscribes.push(db.collection(name).onSnapshot((s) => onSnapshotOf[name](s, true)));
        }
      }
    },
    stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      sheets.off("request", onRequest);
      sheets.off("sheetChange", onSheetChange);
      if (options.standInEmitter)
        for (const ev of EVENTS) options.standInEmitter.off(ev, onDocument);
      for (const u of unsubscribes) u();
      for (const c of clients) c.end();
      clients.clear();
    },
  };
}
