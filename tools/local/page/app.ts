/**
 * The page of `npm start`: renders the stack's state and keeps it live from
 * Server-Sent Events. Bundled by esbuild when the stack starts.
 */
import type {
  ActivityEntry,
  ConflictView,
  Doc,
  GoneRow,
  PageInfo,
  ReconcileView,
  ScheduleView,
  SheetView,
  Stats,
} from "../src/page/types.js";

const BOOKKEEPING = new Set(["_id", "_modified", "_rev"]);
const BLANK_ROWS = 3;

let sheet: SheetView | null = null;
let docs: Doc[] = [];
let gone: GoneRow[] = [];
let schedule: ScheduleView | null = null;
let selectedRow: number | null = null;
let editing = false;
/** Last rendered text per cell / doc field, to flash what changed. */
const lastSheet = new Map<string, string>();
const lastDocs = new Map<string, string>();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function columnLetters(index: number): string {
  let n = index + 1;
  let out = "";
  while (n > 0) {
    out = String.fromCharCode(65 + ((n - 1) % 26)) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

async function post(path: string, body: unknown): Promise<void> {
  const res = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const text = await res.text();
    addActivity({ id: 0, at: Date.now(), dir: "error", title: `${path}: ${res.status} ${text}` });
  }
}

/** Puts an input in a cell; Enter or leaving commits, Escape cancels. */
function editCell(td: HTMLTableCellElement, initial: string, commit: (text: string) => void): void {
  if (td.querySelector("input")) return;
  editing = true;
  const input = document.createElement("input");
  input.value = initial;
  input.dataset.testid = "cell-input";
  td.textContent = "";
  td.appendChild(input);
  input.focus();
  input.select();
  let done = false;
  const finish = (save: boolean) => {
    if (done) return;
    done = true;
    editing = false;
    if (save && input.value !== initial) commit(input.value);
    renderSheet();
    renderDocs();
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") finish(true);
    if (e.key === "Escape") finish(false);
  });
  input.addEventListener("blur", () => finish(true));
}

function kindClass(text: string): string {
  if (/^-?[\d,]*\.?\d+(E[+-]\d+)?%?$/.test(text)) return "num";
  if (text === "TRUE" || text === "FALSE") return "bool";
  return "";
}

function renderSheet(): void {
  if (!sheet || editing) return;
  const table = $<HTMLTableElement>("sheet-grid");
  const header = sheet.formatted[0] ?? [];
  const width = Math.max(header.length, ...sheet.formatted.map((r) => r.length), 1);
  const rows = sheet.formatted.length + BLANK_ROWS;
  const hidden = new Set(header.flatMap((h, c) => (BOOKKEEPING.has(h) ? [c] : [])));
  const idColumn = header.indexOf("_id");
  table.textContent = "";

  const head = table.createTHead().insertRow();
  head.appendChild(document.createElement("th"));
  for (let c = 0; c < width; c++) {
    const th = document.createElement("th");
    th.textContent = columnLetters(c);
    if (hidden.has(c)) th.className = "bookkeeping";
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (let r = 0; r < rows; r++) {
    const tr = body.insertRow();
    const sheetRow = r + 1;
    tr.dataset.testid = `sheet-row-${sheetRow}`;
    if (r === 0) tr.className = "header";
    if (sheetRow === selectedRow) tr.classList.add("selected");
    const num = document.createElement("th");
    num.className = "rownum";
    num.textContent = String(sheetRow);
    num.dataset.testid = `row-num-${sheetRow}`;
    if (r > 0) {
      num.addEventListener("click", () => {
        selectedRow = selectedRow === sheetRow ? null : sheetRow;
        $<HTMLButtonElement>("delete-row").disabled = selectedRow === null;
        renderSheet();
      });
    }
    tr.appendChild(num);
    for (let c = 0; c < width; c++) {
      const td = tr.insertCell();
      const text = sheet.formatted[r]?.[c] ?? "";
      const formula = sheet.formulas[r]?.[c] ?? null;
      td.textContent = text;
      td.title = formula ?? text;
      td.dataset.testid = `cell-${sheetRow}-${c + 1}`;
      const classes = [kindClass(text)];
      if (formula) classes.push("formula");
      if (hidden.has(c)) classes.push("bookkeeping");
      // Row 1 is the header: a person may name a new column or rename one (not the hidden ones).
      const editable = r > 0 || !hidden.has(c);
      if (editable) classes.push("editable");
      // Keyed by row id, so rows that only moved (a delete, a sort) do not flash.
      const key = `${sheet.formatted[r]?.[idColumn] || `#${sheetRow}`}:${c}`;
      const before = lastSheet.get(key);
      if (before !== undefined && before !== text) classes.push("flash");
      lastSheet.set(key, text);
      td.className = classes.filter(Boolean).join(" ");
      if (editable) {
        td.addEventListener("click", () =>
          editCell(td, formula ?? text, (value) =>
            post("/api/sheet/edit", { row: sheetRow, column: c + 1, text: value }),
          ),
        );
      }
    }
  }
  const select = $<HTMLSelectElement>("sort-column");
  const current = select.value;
  select.textContent = "";
  header.forEach((h, c) => {
    if (BOOKKEEPING.has(h) || !h) return;
    const option = new Option(h, String(c + 1));
    select.add(option);
  });
  if (current) select.value = current;
  $("sheet-title").textContent = `${sheet.title} · ${sheet.sheetName} · ${sheet.timeZone}`;
  const undo = $<HTMLButtonElement>("undo-delete");
  undo.disabled = sheet.undo === null;
  undo.title = sheet.undo
    ? `Edit → Undo: put row ${sheet.undo.row} back (${sheet.undo.ids.join(", ") || "no id"})`
    : "Edit → Undo of the last row delete (nothing deleted yet)";
}

type Json = unknown;

/** Wall-clock "YYYY-MM-DD HH:MM:SS" of an instant in the sheet's time zone. */
function wallTime(ms: number): string {
  return new Date(ms).toLocaleString("sv-SE", { timeZone: sheet?.timeZone || "UTC" });
}

/** The instant of a wall-clock time in the sheet's zone (two corrections cover DST). */
function instantOfWall(text: string): number {
  const wall = Date.parse(`${text.replace(" ", "T")}Z`);
  let guess = wall;
  for (let i = 0; i < 2; i++) guess += wall - Date.parse(`${wallTime(guess).replace(" ", "T")}Z`);
  return guess;
}

/** How a field shows: numbers like the sheet's automatic format, timestamps in its zone. */
function showValue(v: Json): { text: string; type: string } {
  if (v === null || v === undefined) return { text: "", type: "null" };
  if (typeof v === "object" && v && "$date" in v) {
    const text = wallTime(Date.parse(String((v as { $date: string }).$date)));
    return { text: text.replace(/ 00:00:00$/, ""), type: "timestamp" };
  }
  if (typeof v === "number") return { text: String(Number(v.toPrecision(12))), type: "number" };
  if (typeof v === "object") return { text: JSON.stringify(v), type: "map" };
  return { text: String(v), type: typeof v };
}

/** What a typed field value means: number, boolean, empty → null, a date → timestamp. */
function parseField(text: string): Json {
  const t = text.trim();
  if (t === "") return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (t === "true" || t === "false") return t === "true";
  const date = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2})?))?$/.exec(t);
  if (date) {
    const ms = instantOfWall(`${date[1]} ${(date[2] ?? "00:00:00").padEnd(8, ":00")}`);
    if (!Number.isNaN(ms)) return { $date: new Date(ms).toISOString() };
  }
  return text;
}

function docColumns(): string[] {
  const header = (sheet?.formatted[0] ?? []).filter((h) => h && !BOOKKEEPING.has(h));
  const seen = new Set(header);
  const extra = new Set<string>();
  for (const d of docs) for (const k of Object.keys(d.data)) if (!seen.has(k)) extra.add(k);
  return [...header, ...[...extra].sort()];
}

function renderDocs(): void {
  if (editing) return;
  const table = $<HTMLTableElement>("doc-table");
  const columns = docColumns();
  table.textContent = "";
  const head = table.createTHead().insertRow();
  for (const name of ["id", "sync", ...columns, ""]) {
    const th = document.createElement("th");
    th.textContent = name;
    if (name === "sync") th.title = "The row's state in syncRows and syncOutbox";
    head.appendChild(th);
  }
  const body = table.createTBody();
  // Same order as the sheet's rows; documents the sheet does not have yet go last.
  const header = sheet?.formatted[0] ?? [];
  const idColumn = header.indexOf("_id");
  const position = new Map((sheet?.formatted ?? []).map((r, i) => [r[idColumn] ?? "", i]));
  const rank = (d: Doc) => position.get(d.id) ?? Number.MAX_SAFE_INTEGER;
  const sorted = [...docs].sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id));
  for (const doc of sorted) {
    const tr = body.insertRow();
    tr.dataset.testid = `doc-${doc.id}`;
    const idCell = tr.insertCell();
    idCell.className = "id";
    idCell.textContent = doc.id;
    syncCell(tr, doc.id, doc.sync);
    for (const field of columns) {
      const td = tr.insertCell();
      const { text, type } = showValue(doc.data[field]);
      td.textContent = text;
      td.title = `${field}: ${type}`;
      td.dataset.testid = `doc-${doc.id}-${field}`;
      const key = `${doc.id}:${field}`;
      const classes = ["editable", type === "number" ? "num" : type === "boolean" ? "bool" : ""];
      const before = lastDocs.get(key);
      if (before !== undefined && before !== text) classes.push("flash");
      lastDocs.set(key, text);
      td.className = classes.filter(Boolean).join(" ");
      td.addEventListener("click", () =>
        editCell(td, text, (value) =>
          post("/api/docs/set", { id: doc.id, fields: { [field]: parseField(value) } }),
        ),
      );
    }
    const actions = tr.insertCell();
    actions.className = "actions";
    const del = document.createElement("button");
    del.className = "del";
    del.textContent = "✕";
    del.title = "Delete this document";
    del.dataset.testid = `doc-delete-${doc.id}`;
    del.addEventListener("click", () => void post("/api/docs/delete", { id: doc.id }));
    actions.appendChild(del);
  }
  // Rows the sync remembers as deleted: their documents are gone, their state is not (yet).
  for (const row of gone) {
    const tr = body.insertRow();
    tr.className = "gone";
    tr.dataset.testid = `gone-${row.id}`;
    const idCell = tr.insertCell();
    idCell.className = "id";
    idCell.textContent = row.id;
    syncCell(tr, row.id, row.sync);
    const rest = tr.insertCell();
    rest.colSpan = Math.max(columns.length, 1) + 1;
    rest.textContent = "no document";
  }
  $("doc-count").textContent = `${docs.length} documents`;
}

function syncCell(tr: HTMLTableRowElement, id: string, sync: Doc["sync"]): void {
  const td = tr.insertCell();
  td.className = `sync sync-${sync.kind}`;
  td.textContent = sync.label;
  td.title = sync.raw;
  td.dataset.testid = `sync-${id}`;
  td.dataset.kind = sync.kind;
}

function renderReconcile(r: ReconcileView | null): void {
  const box = $("reconcile-report");
  if (!r) return;
  box.textContent = "";
  box.dataset.at = String(r.at);
  box.dataset.trigger = r.trigger;
  const when = document.createElement("p");
  when.dataset.testid = "reconcile-when";
  const trigger = document.createElement("b");
  trigger.textContent = r.trigger;
  const rows = document.createElement("span");
  rows.textContent = `${r.rows} rows compared`;
  rows.dataset.testid = "reconcile-rows";
  rows.dataset.rows = String(r.rows);
  when.append(`${new Date(r.at).toLocaleTimeString()} · `, trigger, " · ", rows);
  box.appendChild(when);
  const table = document.createElement("table");
  table.className = "findings";
  for (const [finding, n] of Object.entries(r.counts).sort(([a], [b]) => a.localeCompare(b))) {
    const tr = table.insertRow();
    tr.dataset.testid = `finding-${finding}`;
    tr.dataset.count = String(n);
    tr.className = finding === "in-sync" ? "ok" : "fixed";
    tr.insertCell().textContent = finding;
    const count = tr.insertCell();
    count.className = "num";
    count.textContent = String(n);
    const ids = tr.insertCell();
    ids.className = "ids";
    const list = r.ids[finding] ?? [];
    ids.textContent = list.join(", ") + (list.length < n && finding !== "in-sync" ? " …" : "");
    ids.title = list.join("\n");
  }
  if (r.duplicateIds.length) {
    const tr = table.insertRow();
    tr.className = "fixed";
    tr.insertCell().textContent = "duplicate ids";
    tr.insertCell().textContent = String(r.duplicateIds.length);
    tr.insertCell().textContent = r.duplicateIds.join(", ");
  }
  box.appendChild(table);
  const cost = document.createElement("p");
  cost.className = "dim";
  cost.dataset.testid = "reconcile-cost";
  const { reads, writes } = r.sheetsRequests;
  cost.textContent = `Sheets API: ${reads} reads, ${writes} writes · ${r.durationMs} ms${r.conflicts ? ` · ${r.conflicts} conflicts` : ""}`;
  box.appendChild(cost);
}

function renderSchedule(): void {
  const el = $("schedule");
  if (!schedule) {
    el.textContent = "schedule: starts once Set up has run";
    return;
  }
  const every = schedule.everyMs;
  const period = every % 60_000 === 0 ? `${every / 60_000} min` : `${Math.round(every / 1000)} s`;
  const deployed = schedule.deployed ? `deployed: ${schedule.deployed}` : "deployed: onSchedule";
  let next: string;
  if (every === 0) next = "scheduled reconcile off locally (SHEET_SYNC_LOCAL_RECONCILE_MS=0)";
  else if (schedule.nextAt === null) next = "scheduled reconcile running…";
  else {
    const s = Math.max(0, Math.round((schedule.nextAt - Date.now()) / 1000));
    next = `next scheduled reconcile in ${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")} (${new Date(schedule.nextAt).toLocaleTimeString()})`;
  }
  el.textContent = `${next} · every ${period} locally, ${deployed}`;
  el.title = `scheduledReconcile, invoked by tools/local through the Functions emulator (${schedule.via}); the emulators run no Cloud Scheduler.${schedule.last ? `\nlast: ${schedule.last.text}` : ""}`;
}

function renderConflicts(list: ConflictView[]): void {
  const table = $<HTMLTableElement>("conflicts");
  table.textContent = "";
  $("conflict-count").textContent = list.length ? String(list.length) : "none";
  if (!list.length) return;
  const head = table.createTHead().insertRow();
  for (const name of ["when", "row", "field", "rule", "kept", "rejected"]) {
    const th = document.createElement("th");
    th.textContent = name;
    head.appendChild(th);
  }
  const body = table.createTBody();
  const side = (s: ConflictView["kept"]) => `${s.side} ${s.op}`;
  for (const c of list) {
    const tr = body.insertRow();
    tr.dataset.testid = `conflict-${c.rowId}`;
    tr.insertCell().textContent = new Date(c.detectedAt).toLocaleTimeString();
    tr.insertCell().textContent = c.rowId;
    tr.insertCell().textContent = c.field ?? "(whole row)";
    tr.insertCell().textContent = c.rule;
    const kept = tr.insertCell();
    kept.textContent = side(c.kept);
    kept.title = c.kept.values ?? "(deleted)";
    const rejected = tr.insertCell();
    rejected.textContent = side(c.rejected);
    rejected.title = c.rejected.values ?? "(deleted)";
  }
}

function renderStats(stats: Stats): void {
  $("stat-reads").textContent = String(stats.reads);
  $("stat-writes").textContent = String(stats.writes);
  $("stat-rejected").textContent = String(stats.rejected);
  $("stat-rejected").parentElement!.title = Object.entries(stats.errorsByStatus)
    .map(([s, n]) => `${n} × HTTP ${s}`)
    .join(", ");
}

function addActivity(entry: ActivityEntry): void {
  const list = $("activity");
  const li = document.createElement("li");
  li.dataset.testid = "activity-entry";
  li.dataset.dir = entry.dir;
  const time = document.createElement("time");
  time.textContent = new Date(entry.at).toLocaleTimeString();
  const content = document.createElement(entry.detail ? "details" : "div");
  const summary = document.createElement(entry.detail ? "summary" : "span");
  const dir = document.createElement("span");
  dir.className = `dir ${entry.dir}`;
  dir.textContent = entry.dir
    .replace("to-firestore", "sheet → Firestore")
    .replace("to-sheet", "Firestore → sheet");
  summary.append(dir, ` ${entry.title}`);
  content.appendChild(summary);
  if (entry.detail) {
    const pre = document.createElement("pre");
    pre.textContent = entry.detail;
    content.appendChild(pre);
  }
  li.append(time, content);
  list.prepend(li);
  while (list.children.length > 300) list.lastElementChild?.remove();
}

function renderInfo(info: PageInfo): void {
  const badge = $("firestore-kind");
  badge.textContent =
    info.firestore === "real"
      ? `Firestore: real emulator ${info.firestoreHost}`
      : `Firestore: Node stand-in ${info.firestoreHost} (triggers delivered by tools/local)`;
  $("collection-name").textContent = `${info.collection}/ · ${info.firestoreHost}`;
}

function connect(): void {
  const status = $("connection");
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => {
    status.textContent = "live";
    status.className = "badge ok";
    // Anything missed while disconnected comes with a fresh state.
    void load();
  });
  events.addEventListener("error", () => {
    status.textContent = "reconnecting…";
    status.className = "badge bad";
  });
  events.addEventListener("sheet", (e) => {
    sheet = JSON.parse((e as MessageEvent<string>).data) as SheetView;
    renderSheet();
    renderDocs();
  });
  events.addEventListener("docs", (e) => {
    ({ docs, gone } = JSON.parse((e as MessageEvent<string>).data) as {
      docs: Doc[];
      gone: GoneRow[];
    });
    renderDocs();
  });
  events.addEventListener("reconcile", (e) =>
    renderReconcile(JSON.parse((e as MessageEvent<string>).data) as ReconcileView),
  );
  events.addEventListener("schedule", (e) => {
    schedule = JSON.parse((e as MessageEvent<string>).data) as ScheduleView;
    renderSchedule();
  });
  events.addEventListener("conflicts", (e) =>
    renderConflicts(JSON.parse((e as MessageEvent<string>).data) as ConflictView[]),
  );
  events.addEventListener("stats", (e) =>
    renderStats(JSON.parse((e as MessageEvent<string>).data) as Stats),
  );
  events.addEventListener("activity", (e) =>
    addActivity(JSON.parse((e as MessageEvent<string>).data) as ActivityEntry),
  );
}

async function load(): Promise<void> {
  const state = (await (await fetch("/api/state")).json()) as {
    info: PageInfo;
    sheet: SheetView;
    docs: Doc[];
    gone: GoneRow[];
    stats: Stats;
    activity: ActivityEntry[];
    conflicts: ConflictView[];
    reconcile: ReconcileView | null;
    schedule: ScheduleView | null;
  };
  sheet = state.sheet;
  docs = state.docs;
  gone = state.gone;
  schedule = state.schedule;
  renderReconcile(state.reconcile);
  renderSchedule();
  renderConflicts(state.conflicts);
  renderInfo(state.info);
  renderSheet();
  renderDocs();
  renderStats(state.stats);
  $("activity").textContent = "";
  for (const a of state.activity) addActivity(a);
}

function wire(): void {
  const panes = document.querySelector("main")!;
  const toggle = $<HTMLInputElement>("show-hidden");
  const applyToggle = () => panes.classList.toggle("hide-bookkeeping", !toggle.checked);
  toggle.addEventListener("change", applyToggle);
  applyToggle();
  $("add-row").addEventListener("click", () => {
    const after = selectedRow ?? sheet?.formatted.length ?? 1;
    void post("/api/sheet/insert", { row: after + 1 });
  });
  $("delete-row").addEventListener("click", () => {
    if (selectedRow === null) return;
    const row = selectedRow;
    selectedRow = null;
    $<HTMLButtonElement>("delete-row").disabled = true;
    void post("/api/sheet/delete", { row });
  });
  $("undo-delete").addEventListener("click", () => void post("/api/sheet/undo-delete", {}));
  const sort = (ascending: boolean) => {
    const column = Number($<HTMLSelectElement>("sort-column").value);
    const scope = $<HTMLSelectElement>("sort-scope").value;
    if (column) void post("/api/sheet/sort", { column, ascending, scope });
  };
  $("sort-asc").addEventListener("click", () => sort(true));
  $("sort-desc").addEventListener("click", () => sort(false));
  $("run-timer").addEventListener("click", () => void post("/api/sheet/flush", {}));
  $("sync-now").addEventListener("click", () => void post("/api/sheet/sync-now", {}));
  const reconcile = $<HTMLButtonElement>("reconcile");
  reconcile.addEventListener("click", () => {
    reconcile.disabled = true;
    reconcile.textContent = "Reconciling…";
    void post("/api/reconcile", {}).finally(() => {
      reconcile.disabled = false;
      reconcile.textContent = "Reconcile";
    });
  });
  // The countdown to the next scheduled reconcile.
  setInterval(renderSchedule, 1000);
  $("add-doc").addEventListener("click", () => {
    const fields: Record<string, Json> = {};
    for (const c of docColumns()) fields[c] = null;
    void post("/api/docs/set", { fields });
  });
}

wire();
connect();
