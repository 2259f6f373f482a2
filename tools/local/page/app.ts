/**
 * The page of `npm start`: renders the stack's state and keeps it live from
 * Server-Sent Events. Bundled by esbuild when the stack starts.
 */
import type { ActivityEntry, Doc, PageInfo, SheetView, Stats } from "../src/page/types.js";

const BOOKKEEPING = new Set(["_id", "_modified", "_rev"]);
const BLANK_ROWS = 3;

let sheet: SheetView | null = null;
let docs: Doc[] = [];
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
      // Row 1 is the header a person could edit too, but renaming columns is not a demo step.
      if (r > 0) classes.push("editable");
      // Keyed by row id, so rows that only moved (a delete, a sort) do not flash.
      const key = `${sheet.formatted[r]?.[idColumn] || `#${sheetRow}`}:${c}`;
      const before = lastSheet.get(key);
      if (before !== undefined && before !== text) classes.push("flash");
      lastSheet.set(key, text);
      td.className = classes.filter(Boolean).join(" ");
      if (r > 0) {
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
  for (const d of docs)
    for (const k of Object.keys(d.data)) if (!seen.has(k) && k !== "_sync") extra.add(k);
  return [...header, ...[...extra].sort()];
}

function renderDocs(): void {
  if (editing) return;
  const table = $<HTMLTableElement>("doc-table");
  const columns = docColumns();
  table.textContent = "";
  const head = table.createTHead().insertRow();
  for (const name of ["id", ...columns, "_sync", ""]) {
    const th = document.createElement("th");
    th.textContent = name;
    if (name === "_sync") th.className = "bookkeeping";
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
    const sync = tr.insertCell();
    sync.className = "sync bookkeeping";
    const meta = doc.data._sync as { origin?: string; modifiedAt?: number } | undefined;
    sync.textContent = meta
      ? `${meta.origin ?? "?"} · ${meta.modifiedAt ? new Date(meta.modifiedAt).toLocaleTimeString() : ""}`
      : "";
    sync.title = JSON.stringify(meta ?? null, null, 1);
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
  $("doc-count").textContent = `${docs.length} documents`;
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
    docs = JSON.parse((e as MessageEvent<string>).data) as Doc[];
    renderDocs();
  });
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
    stats: Stats;
    activity: ActivityEntry[];
  };
  sheet = state.sheet;
  docs = state.docs;
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
  const sort = (ascending: boolean) => {
    const column = Number($<HTMLSelectElement>("sort-column").value);
    if (column) void post("/api/sheet/sort", { column, ascending });
  };
  $("sort-asc").addEventListener("click", () => sort(true));
  $("sort-desc").addEventListener("click", () => sort(false));
  $("sync-now").addEventListener("click", () => void post("/api/sheet/flush", {}));
  $("add-doc").addEventListener("click", () => {
    const fields: Record<string, Json> = {};
    for (const c of docColumns()) fields[c] = null;
    void post("/api/docs/set", { fields });
  });
}

wire();
connect();
