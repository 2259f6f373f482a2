/**
 * The page of `npm start` at http://127.0.0.1:4100/: the sheet as a grid, the
 * Firestore documents, the sync activity and the Sheets API request counts,
 * live over Server-Sent Events. Grid edits go through the Apps Script runtime
 * (as a person's edits in the sheet); document edits go to Firestore through
 * the Admin SDK, so the trigger → task → Sheets API path runs for real.
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
import type { ActivityEntry, Doc, PageInfo, SheetView } from "./types.js";

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
}

export interface Page {
  route: Route;
  /** Loads the documents, starts listening and builds the page script. */
  start(): Promise<void>;
  /** Adds a line to the activity feed. */
  activity(entry: Omit<ActivityEntry, "id" | "at"> & { at?: number }): void;
  report(report: RunReport): void;
  stop(): void;
}

const CONFLICTS = "syncConflicts";
const MAX_ACTIVITY = 300;
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

export function createPage(options: PageOptions): Page {
  const { sheets, runtime, db, spreadsheetId, sheetName, collection } = options;
  const clients = new Set<ServerResponse>();
  const feed: ActivityEntry[] = [];
  let docs: Doc[] = [];
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
    return {
      title: snap?.title ?? "",
      sheetName,
      timeZone: snap?.timeZone ?? "",
      formatted: (tab?.formatted ?? []).map((r) => r.map((v) => String(v))),
      formulas: tab?.formulas ?? [],
    };
  }

  function activity(entry: Omit<ActivityEntry, "id" | "at"> & { at?: number }): void {
    const full: ActivityEntry = { ...entry, id: nextActivity++, at: entry.at ?? Date.now() };
    feed.push(full);
    if (feed.length > MAX_ACTIVITY) feed.shift();
    broadcast("activity", full);
  }

  function report(r: RunReport): void {
    for (const call of r.webhooks) {
      const what = [
        call.changes ? `${call.changes} change${call.changes === 1 ? "" : "s"}` : "",
        call.deletes ? `${call.deletes} delete${call.deletes === 1 ? "" : "s"}` : "",
      ]
        .filter(Boolean)
        .join(" + ");
      const outcome =
        call.status === 200
          ? Object.entries(call.outcomes ?? {})
              .map(([k, n]) => `${n} ${k}`)
              .join(", ")
          : call.status === null
            ? `network error: kept in the outbox, retried by the time-driven trigger`
            : `HTTP ${call.status}: kept in the outbox, retried by the time-driven trigger`;
      activity({
        at: call.at,
        dir: call.status === 200 ? "to-firestore" : "retry",
        title: `${r.trigger} → webhook: ${what || "nothing"} → ${outcome}`,
        ...(call.rows?.length
          ? { detail: call.rows.map((x) => `${x.op} ${x.id}: ${x.outcome}`).join("\n") }
          : call.error
            ? { detail: call.error }
            : {}),
      });
    }
    if (r.error) activity({ dir: "error", title: `${r.trigger}: ${r.error}` });
    if (r.skippedWrites)
      activity({
        dir: "info",
        title: `${r.trigger}: ${r.skippedWrites} script write(s) skipped, their row changed meanwhile`,
      });
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

  function setDocs(snap: QuerySnapshot): void {
    docs = snap.docs.map((d) => ({ id: d.id, data: toJson(d.data()) as Record<string, unknown> }));
    broadcast("docs", docs);
  }

  function conflictsSeen(snap: QuerySnapshot, announce: boolean): void {
    for (const d of snap.docs) {
      if (knownConflicts.has(d.id)) continue;
      knownConflicts.add(d.id);
      if (!announce) continue;
      const c = d.data() as DocumentData;
      activity({
        dir: "conflict",
        title: `conflict on ${c.collection}/${c.rowId}: kept the ${c.kept?.origin} ${c.kept?.op}, rejected the ${c.rejected?.origin} ${c.rejected?.op} (${c.rule})`,
        detail: JSON.stringify(toJson({ kept: c.kept, rejected: c.rejected }), null, 1),
      });
    }
  }

  const prefix = `projects/${options.project}/databases/(default)/documents/`;
  const onDocument = (a: { document?: { getPath(): string } }) => {
    const path = a.document?.getPath() ?? "";
    if (path.startsWith(`${prefix}${collection}/`))
      soon("docs", 60, async () => setDocs(await db.collection(collection).get()));
    else if (path.startsWith(`${prefix}${CONFLICTS}/`))
      soon("conflicts", 100, async () => conflictsSeen(await db.collection(CONFLICTS).get(), true));
  };
  const EVENTS = ["create-document", "update-document", "delete-document"];

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? "GET";
    if (method === "GET" && path === "/api/state") {
      return json(res, 200, {
        info: options.info,
        sheet: sheetView(),
        docs,
        stats: sheets.stats(),
        activity: feed,
      });
    }
    if (method !== "POST") return json(res, 405, { error: "POST only" });
    const body = (await readBody(req)) as Record<string, unknown>;
    switch (path) {
      case "/api/sheet/edit": {
        const row = int(body.row, "row", 2);
        const column = int(body.column, "column");
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
      case "/api/sheet/sort": {
        const run = runtime.sort(int(body.column, "column"), body.ascending !== false);
        onSheetChange();
        await run;
        return json(res, 200, { ok: true });
      }
      case "/api/sheet/flush": {
        await runtime.flushOutbox();
        return json(res, 200, { ok: true });
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
      conflictsSeen(await db.collection(CONFLICTS).get(), false);
      setDocs(await db.collection(collection).get());
      if (options.standInEmitter) {
        for (const ev of EVENTS) options.standInEmitter.on(ev, onDocument);
      } else {
        // The real emulator pushes snapshots; the stand-in's listeners are too slow to use.
        unsubscribes.push(db.collection(collection).onSnapshot(setDocs));
        unsubscribes.push(db.collection(CONFLICTS).onSnapshot((s) => conflictsSeen(s, true)));
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
