/**
 * The whole sync in one process: a sheet (the local Sheets emulator's cell
 * model, formulas included) that a person edits, sorts, pastes into and
 * undoes; the bound script's real engine on it; the functions' real use
 * cases (webhook, trigger, flush, reconcile) on an in-memory Firestore; apps
 * writing documents; clocks that drift; and faults. Only the services that
 * cannot run here are stand-ins (Apps Script's, Firestore's storage); the
 * Sheets API calls go through the real client to the emulator.
 */
import { createHmac } from "node:crypto";
import { sheets } from "@googleapis/sheets";
import type { RawRow, RunningSheetsEmulator, SheetsEmulator } from "@sheet-sync/sheets-emulator";
import { columnNameProblem, headerName, MAX_BODY_BYTES } from "../../../contract/src/limits.js";
import { parseDescribeBody } from "../../../contract/src/schema.js";
import { MAX_FLUSH_ROUNDS, SyncEngine } from "../../../apps-script/src/engine.js";
import type { ScriptEnv, SheetPort } from "../../../apps-script/src/env.js";
import { sendBatches, type PostResult } from "../../../apps-script/src/core/send.js";
import type { ScanMode } from "../../../apps-script/src/core/scan.js";
import { FakeCache } from "../../../apps-script/test/fakes/cache.js";
import { FakeProperties } from "../../../apps-script/test/fakes/properties.js";
import { processWebhook, type WebhookDeps } from "../../../functions/src/ingest/webhook.js";
import { SheetsGateway } from "../../../functions/src/sheets/gateway.js";
import { describedRow } from "../../../functions/src/core/rowState.js";
import { handleDocEvent } from "../../../functions/src/sync/docEvents.js";
import { flushSheet } from "../../../functions/src/sync/flush.js";
import { ingestBatch } from "../../../functions/src/sync/ingest.js";
import { reconcileSheet } from "../../../functions/src/sync/reconcile.js";
import { describeRows } from "../../../functions/src/sync/describe.js";
import type { ReconcileReport } from "../../../functions/src/sync/ports.js";
import { sameValue, type CellValue, type RowValues } from "../../../functions/src/core/values.js";
import { MemoryDb, MemoryStore, type DocEvent } from "./memoryStore.js";
import { Scheduler } from "./scheduler.js";

export const SPREADSHEET = "model";
export const TAB = "Sheet1";
const SECRET = "model-secret";
export const HEADER = ["_id", "key", "name", "qty", "price", "total", "due", "_modified", "_rev"];
/**
 * The item's identity, for the checker only, in a column no part of the sync reads (Firestore
 * cannot take `__x__` as a field name): it moves with the row's cells, as a person's sort, paste,
 * delete or undo moves them. The first column the sync sees is then a name that repeats.
 */
export const HIDDEN_KEY = "__key__";
/** Columns a person or an app edits (key is the row's identity in the model; total a formula). */
export const EDITABLE = ["name", "qty", "price", "due"];

export type ScriptTrigger = (
  | {
      kind: "edit";
      row: number;
      rows: number;
      column: number;
      columns: number;
      /** A single cell's `e.value`: text, as Apps Script gives it (a date's is not compared). */
      value?: string;
      /** A single cell's `e.oldValue`: what it held before, when it held something. */
      oldValue?: string;
      /** What the execution did as it started, at the event, before the lock (see `started`). */
      prepared?: ScanMode;
    }
  | { kind: "change" }
) & { structural?: boolean };

/** `e.value` as the fake gives it: the typed value as text; a date as a serial number. */
export function eventValue(v: CellValue): string | undefined {
  if (v === null) return undefined;
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  if (v instanceof Date) return String(v.getTime() / 86_400_000 + 25_569);
  return String(v);
}

/** Pins of triggers leave `e.value` out: sequences recorded before it replay the same. */
export const triggerKey = (t: ScriptTrigger): string =>
  JSON.stringify({ ...t, value: undefined, oldValue: undefined });

/** What happened, by real time, for the checker: the ground truth. */
export type Truth =
  | {
      t: number;
      op: "write";
      side: "sheet" | "firestore";
      key: string;
      field: string;
      value: CellValue;
      /** The field's value before the write (when an undo-like write matters). */
      before?: CellValue;
    }
  | {
      t: number;
      op: "create" | "delete";
      side: "sheet" | "firestore";
      key: string;
      /** A create that restores, field for field, what the same side's last delete removed. */
      restore?: boolean;
    };

export interface WorldOptions {
  /** Script clock minus real time (ms): Apps Script's clock may drift from Google Cloud's. */
  scriptSkewMs?: number;
  timeZone?: string;
  /** Rows the sheet starts with (synced before the test begins). */
  initialRows?: number;
  /** Items have no code the sync can see (HIDDEN_KEY): only their content tells them apart. */
  hiddenKey?: boolean;
}

/** The gateway with every Sheets API call at a gate, and the read-to-write window marked. */
class GatedGateway extends SheetsGateway {
  constructor(
    api: ConstructorParameters<typeof SheetsGateway>[0],
    private readonly world: World,
  ) {
    super(api, SPREADSHEET, TAB);
  }
  override tab() {
    return this.world.sched.run("sheets get", () => super.tab());
  }
  override index(hint: number | null) {
    return this.world.sched.run("sheets locate", () => super.index(hint));
  }
  override readRows(...args: Parameters<SheetsGateway["readRows"]>) {
    const reconcile = this.world.sched.current() === "reconcile";
    return this.world.sched.run("sheets read rows", async () => {
      // From this read to the writes the flush relies on the rows staying put: the Sheets API has
      // no conditional writes. A person acting in those milliseconds is outside the model.
      if (!reconcile) this.world.sheetWindow++;
      const after = this.world.truth.length;
      const rows = await super.readRows(...args);
      // The reconcile merges the typed cells of rows that differ from their document: it takes
      // these in (a row that showed its document at the values read gave the sync nothing new).
      if (reconcile) {
        const keys = new Set<string>();
        for (const row of rows.values()) {
          const key = this.world.hiddenKey ? this.world.keyInSheet(row.id) : row.cells.key?.value;
          if (typeof key === "string") keys.add(key);
        }
        if (keys.size) this.world.sheetSeen.push({ after, keys });
      }
      return rows;
    });
  }
  override readValues() {
    return this.world.sched.run("sheets read values", () => super.readValues());
  }
  override writeCells(...args: Parameters<SheetsGateway["writeCells"]>) {
    return this.world.sched.run("sheets write cells", () => super.writeCells(...args));
  }
  override deleteRows(...args: Parameters<SheetsGateway["deleteRows"]>) {
    return this.world.sched.run("sheets delete rows", () => super.deleteRows(...args));
  }
  override appendRows(...args: Parameters<SheetsGateway["appendRows"]>) {
    return this.world.sched.run("sheets append", async () => {
      const before = new Set(this.world.sheetTable().rows.map((r) => r._id));
      await super.appendRows(...args);
      // A document's row the flush appends is that document's item.
      this.world.fillHiddenKeys(before);
    });
  }
}

export class World {
  now = Date.UTC(2026, 10, 30, 9, 0, 0);
  readonly sched = new Scheduler();
  readonly db: MemoryDb;
  readonly store: MemoryStore;
  readonly engine: SyncEngine;
  readonly truth: Truth[] = [];
  /** When the script read the sheet: a sheet change is stamped by the first read after it. */
  readonly scriptReads: Array<{ t: number; after: number }> = [];
  /**
   * Sheet content the server took in: rows a webhook that went through carried (as the script
   * read them, when the truth had `after` entries), or every row (a reconcile's read).
   */
  readonly sheetSeen: Array<{ after: number; keys: Set<string> | null }> = [];
  /** Ids whose delete's state the TTL fault expired, with the truth's length then. */
  readonly tombstonesExpired = new Map<string, number>();
  /** Documents the server read in a transaction (what it decides on), as `sheetSeen`. */
  readonly firestoreSeen: Array<{ after: number; keys: Set<string> }> = [];
  /** The script's clock's last reading (see `now` in the constructor). */
  private scriptNow = 0;
  /** id → the model key first seen under it (identity must not change). */
  readonly identity = new Map<string, string>();
  /** Ids first seen on a row no item held (content typed where the model follows no item). */
  private readonly itemless = new Set<string>();
  readonly scriptTriggers: ScriptTrigger[] = [];
  readonly tasks = new Map<string, number>();
  webhookFaults: Array<"500" | "timeout"> = [];
  /** A flush between its read of rows and its writes (person edits wait). */
  sheetWindow = 0;
  reconcileRequested = false;
  /** The script lock is held elsewhere: the next trigger run gets nothing done. */
  lockBusy = false;
  private readonly deleted: Array<{ at: number; rows: RawRow[] }> = [];
  /** Rows a person deleted (no-key mix): the item, what the sync saw of it, the delete. */
  private readonly sheetDeletes: Array<{ key: string; look: string; at: number; event: Truth }> =
    [];
  /** Lookalike items a sort moved, until the next scan says which id took which (no-key mix). */
  private readonly pendingLookalikes: Array<{ keys: Set<string>; from: number }> = [];
  private readonly appDeleted: Array<{ id: string; fields: RowValues; key?: string }> = [];
  /** Notes on cells ("row,column" → text), as the script leaves them. */
  readonly notes = new Map<string, string>();
  private nextKey = 1;
  private nextUuid = 1;
  private nextDoc = 1;
  private flushing = false;
  readonly gateway: GatedGateway;
  readonly scriptSkewMs: number;
  readonly errors: string[] = [];
  /** Items told apart only by their content (WorldOptions.hiddenKey). */
  readonly hiddenKey: boolean;
  /** The column that holds each row's item, for the model: `key`, or HIDDEN_KEY. */
  readonly keyColumn: string;
  readonly header: readonly string[];

  private constructor(
    readonly server: RunningSheetsEmulator,
    readonly options: WorldOptions,
  ) {
    this.scriptSkewMs = options.scriptSkewMs ?? 0;
    this.hiddenKey = options.hiddenKey === true;
    this.keyColumn = this.hiddenKey ? HIDDEN_KEY : "key";
    this.header = HEADER.map((h) => (h === "key" ? this.keyColumn : h));
    this.db = new MemoryDb(() => this.now);
    this.db.onTransactionRead = (ids, docs) => {
      // A document's absence is seen too (the item by the id it was first seen under).
      const keys = new Set([
        ...docs.flatMap((d) => (typeof d.key === "string" ? [d.key] : [])),
        ...ids.flatMap((id) => this.identity.get(id) ?? []),
      ]);
      if (keys.size) this.firestoreSeen.push({ after: this.truth.length, keys });
    };
    this.store = new MemoryStore(this.db, this.sched);
    const api = sheets({ version: "v4", rootUrl: this.server.url, retry: false });
    this.gateway = new GatedGateway(api, this);
    const scriptProperties = new FakeProperties({
      SHEET_SYNC_WEBHOOK_URL: "https://model.test/sheetWebhook",
      SHEET_SYNC_SECRET: SECRET,
    });
    const env: ScriptEnv = {
      // Apps Script's clock moves on while it runs: two reads of the sheet never share a
      // millisecond (one round's send lies between them), although the model's clock stands still.
      now: () => (this.scriptNow = Math.max(this.now + this.scriptSkewMs, this.scriptNow + 1)),
      uuid: () => {
        const n = (this.nextUuid++).toString(16).padStart(12, "0");
        return `${n.slice(0, 8)}-${n.slice(8, 12)}-4000-8000-000000000000`;
      },
      withLock: (fn) => (this.lockBusy ? undefined : fn()),
      scriptProperties,
      documentProperties: new FakeProperties(),
      cache: new FakeCache(() => this.now + this.scriptSkewMs),
      sheet: (name) => (name === TAB ? this.sheetPort() : null),
      spreadsheetId: () => SPREADSHEET,
      hmac: (message, key) =>
        [
          ...createHmac("sha256", Buffer.from(key, "utf8"))
            .update(Buffer.from(message, "utf8"))
            .digest(),
        ].map((b) => (b > 127 ? b - 256 : b)),
      fetch: (request) => this.describeNow(request),
    };
    this.engine = new SyncEngine(env);
  }

  static async create(server: RunningSheetsEmulator, options: WorldOptions = {}): Promise<World> {
    const world = new World(server, options);
    const emulator = server.emulator;
    emulator.reset();
    emulator.setQuota({ readsPerMinute: 1_000_000, writesPerMinute: 1_000_000 });
    const rows: unknown[][] = [[...world.header]];
    for (let i = 0; i < (options.initialRows ?? 4); i++) {
      const key = world.newKey();
      const n = i + 2;
      rows.push([
        "",
        key,
        ["Widget", "Gadget", "Gizmo", "Sprocket"][i % 4],
        i + 1,
        2,
        `=D${n}*E${n}`,
        "",
        "",
        "",
      ]);
    }
    emulator.seed(SPREADSHEET, {
      timeZone: options.timeZone ?? "Europe/Berlin",
      sheets: [{ title: TAB, rows }],
    });
    for (const row of rows.slice(1))
      world.truth.push({ t: world.now, op: "create", side: "sheet", key: String(row[1]) });
    // As after Set up: the script's first scan gives ids and sends every row.
    await world.startScript({ kind: "timer" });
    await world.quiesce();
    return world;
  }

  get emulator(): SheetsEmulator {
    return this.server.emulator;
  }

  newKey(): string {
    return `k${this.nextKey++}`;
  }

  advance(ms: number): void {
    this.now += ms;
  }

  // ---- the sheet as the script sees it ----------------------------------------------------------

  private sheetPort(): SheetPort {
    return {
      getName: () => TAB,
      readAll: () => {
        this.scriptReads.push({ t: this.now, after: this.truth.length });
        const values = this.emulator.scriptValues(SPREADSHEET, TAB);
        return { headerRow: values[0] ?? [], rows: values.slice(1) };
      },
      readRow: (row) => {
        const values = this.emulator.scriptValues(SPREADSHEET, TAB);
        return { headerRow: values[0] ?? [], cells: values[row + 1] ?? [] };
      },
      writeColumn: (column, cells) => {
        if (column < 0) return;
        for (const [row, value] of cells) {
          this.emulator.userSetValues(
            SPREADSHEET,
            TAB,
            row + 1,
            column,
            [[value === "" ? "" : typeof value === "string" ? `'${value}` : value]],
            "script",
          );
        }
      },
      getNote: (row, column) => this.notes.get(`${row},${column}`) ?? "",
      setNote: (row, column, note) =>
        void (note
          ? this.notes.set(`${row},${column}`, note)
          : this.notes.delete(`${row},${column}`)),
    };
  }

  /** The sheet's rows now: header, and each data row as name → value (Date for dates, null for empty). */
  sheetTable(): { header: string[]; rows: Array<Record<string, CellValue>> } {
    const values = this.emulator.scriptValues(SPREADSHEET, TAB);
    // (Only text names a column, for the sync and for the checker: see `headerName`.)
    const header = (values[0] ?? []).map((h) => headerName(h));
    const rows = values.slice(1).map((line) => {
      const row: Record<string, CellValue> = {};
      header.forEach((h, i) => {
        if (!h) return;
        const v = line[i];
        row[h] = v === "" || v === undefined ? null : (v as CellValue);
      });
      return row;
    });
    return { header, rows };
  }

  /** The item in the sheet row that holds `id` (HIDDEN_KEY's, or the key column's). */
  keyInSheet(id: string): string | undefined {
    const row = this.sheetTable().rows.find((r) => r._id === id);
    const key = row?.[this.keyColumn];
    return typeof key === "string" && key ? key : undefined;
  }

  /** The item an app means by a document id: the one the id was first seen with. */
  keyOfDoc(id: string): string | undefined {
    if (!this.hiddenKey) {
      const key = this.db.docs.get(id)?.fields.key;
      return typeof key === "string" ? key : undefined;
    }
    // (An id first seen on a row no item holds names no item: not whatever a sort put there since.)
    return this.identity.get(id) ?? (this.itemless.has(id) ? undefined : this.keyInSheet(id));
  }

  /**
   * Gives the rows the flush appended (ids not in the sheet `before`) their documents' items:
   * the sync never writes a column it does not sync.
   */
  fillHiddenKeys(before: ReadonlySet<unknown>): void {
    if (!this.hiddenKey) return;
    const column = this.column(HIDDEN_KEY);
    this.sheetTable().rows.forEach((row, i) => {
      const id = row._id;
      if (typeof id !== "string" || !id || before.has(id) || row[HIDDEN_KEY] !== null) return;
      const key = this.identity.get(id);
      if (key) this.emulator.userSetValues(SPREADSHEET, TAB, i + 1, column, [[key]], "script");
    });
  }

  /** Records id → key for ids seen the first time (the identity the sync must keep). */
  observeIdentity(): void {
    this.settlePendingLookalikes();
    for (const row of this.sheetTable().rows) {
      const id = row._id;
      const key = row[this.keyColumn];
      if (typeof id === "string" && id && typeof key === "string" && !this.identity.has(id)) {
        this.identity.set(id, key);
      } else if (typeof id === "string" && id && !this.identity.has(id)) this.itemless.add(id);
    }
    for (const [id, doc] of this.db.docs) {
      const key = doc.fields.key;
      if (typeof key === "string" && !this.identity.has(id)) this.identity.set(id, key);
    }
  }

  // ---- executions -------------------------------------------------------------------------------

  private webhookDeps(): WebhookDeps {
    return {
      secret: () => SECRET,
      sheet: () => ({ spreadsheetId: SPREADSHEET, sheetName: TAB }),
      ingest: (batch) => ingestBatch(this.serverDeps(), batch),
      reconcile: () => this.reconcileNow("request"),
      describe: (ids) => describeRows(this.store, ids),
      now: () => this.now,
      maxBodyBytes: MAX_BODY_BYTES,
    };
  }

  private serverDeps() {
    return {
      store: this.store,
      schedule: async (id: string, runAt: number) => {
        if (!this.tasks.has(id)) this.tasks.set(id, runAt);
      },
      now: () => this.now,
    };
  }

  private async post(request: {
    url: string;
    headers: Record<string, string>;
    body: string;
  }): Promise<PostResult> {
    const fault = this.webhookFaults.shift();
    // SHEET_SYNC_MODEL_WIRE=1: print what the script sends (replay.ts), with the truth's length.
    if (process.env.SHEET_SYNC_MODEL_WIRE) {
      process.stdout.write(`  wire @${this.truth.length}: ${request.body}\n`);
    }
    if (fault === "500") return { status: 500, body: '{"error":"internal"}' };
    const headers = new Map(
      Object.entries({ ...request.headers, "content-type": "application/json" }).map(([k, v]) => [
        k.toLowerCase(),
        v,
      ]),
    );
    const reply = await processWebhook(this.webhookDeps(), {
      method: "POST",
      path: "/",
      header: (name) => headers.get(name.toLowerCase()),
      rawBody: Buffer.from(request.body, "utf8"),
    });
    if (process.env.SHEET_SYNC_MODEL_WIRE) {
      process.stdout.write(
        `  reply @${this.truth.length}: ${reply.status} ${JSON.stringify(reply.body)}\n`,
      );
    }
    // The server applied the batch, but the answer never reached the script.
    if (fault === "timeout") return { networkError: "Timeout: the request took too long" };
    return { status: reply.status, body: JSON.stringify(reply.body) };
  }

  /**
   * The describe request, answered at once (UrlFetchApp returns before the script goes on): the
   * server's core reading the row records as they are at this instant. A pending webhook fault
   * hits it as it would any request, so the script's way without it is exercised too.
   */
  private describeNow(request: { url: string; body: string }): PostResult {
    if (process.env.SHEET_SYNC_MODEL_WIRE) {
      process.stdout.write(`  describe @${this.truth.length}: ${request.body}\n`);
    }
    if (!request.url.endsWith("/describe")) return { status: 404, body: "{}" };
    // A fault hits the next request, whichever it is: this one.
    const fault = this.webhookFaults.shift();
    if (fault === "500") return { status: 500, body: '{"error":"internal"}' };
    if (fault === "timeout") return { networkError: "Timeout: the request took too long" };
    const asked = parseDescribeBody(JSON.parse(request.body));
    if (!asked.ok) return { status: 400, body: JSON.stringify({ issues: asked.issues }) };
    const rows = asked.request.ids.flatMap(
      (id) => describedRow(id, this.db.states.get(id) ?? null) ?? [],
    );
    if (process.env.SHEET_SYNC_MODEL_WIRE) {
      process.stdout.write(`  described @${this.truth.length}: ${JSON.stringify(rows)}\n`);
    }
    return { status: 200, body: JSON.stringify({ rows }) };
  }

  private sawSent(after: number, body: string, items: ReadonlyMap<string, string>): void {
    const changes = (
      JSON.parse(body) as { changes?: Array<{ id: string; values?: Record<string, unknown> }> }
    ).changes;
    const keys = new Set<string>();
    for (const c of changes ?? []) {
      const key = this.hiddenKey ? items.get(c.id) : c.values?.key;
      if (typeof key === "string") keys.add(key);
    }
    if (keys.size) this.sheetSeen.push({ after, keys });
  }

  /** The scan mode a trigger's event gives the script. */
  private modeOf(trigger: ScriptTrigger | { kind: "timer" }): ScanMode {
    return trigger.kind === "edit"
      ? {
          kind: "edit",
          headerEdited: trigger.row === 0,
          firstRow: trigger.row - 1,
          lastRow: trigger.row + trigger.rows - 2,
          firstColumn: trigger.column,
          lastColumn: trigger.column + trigger.columns - 1,
          // (As main.ts: a single cell's event without a value is a cleared cell.)
          ...(trigger.value !== undefined
            ? { value: trigger.value }
            : trigger.rows === 1 && trigger.columns === 1
              ? { value: "" }
              : {}),
          ...(trigger.oldValue !== undefined ? { oldValue: trigger.oldValue } : {}),
        }
      : trigger.kind === "change"
        ? { kind: "change" }
        : { kind: "reconcile" };
  }

  /** One run of the bound script: a trigger's scan, then sending in rounds. */
  async runScript(trigger: ScriptTrigger | { kind: "timer" }): Promise<void> {
    const sheet = this.engine.syncedSheet();
    if (!sheet) throw new Error("no synced tab");
    const mode = this.modeOf(trigger);
    if (process.env.SHEET_SYNC_MODEL_WIRE) {
      process.stdout.write(`  script @${this.truth.length}: ${JSON.stringify(mode)}\n`);
    }
    // (An execution that started at its event did its part before the lock then.)
    if (trigger.kind === "edit" && trigger.prepared)
      this.engine.scanLocked(sheet, trigger.prepared);
    else this.engine.scanAndQueue(sheet, mode);
    if (process.env.SHEET_SYNC_MODEL_SCANNED) {
      const rows = this.sheetTable().rows.map((r) => [r._id, r[this.keyColumn], r.note ?? null]);
      process.stdout.write(`  scanned: ${JSON.stringify(rows)}\n`);
    }
    // A run that did not get the lock scanned nothing: the sheet may still show a sort's doing.
    if (!this.lockBusy) this.observeIdentity();
    await this.flushRounds(sheet);
    // The minute run, idle, reports its read every ten minutes (main.ts, flushOutbox).
    if (trigger.kind !== "timer") return;
    const report = this.engine.readReport(sheet);
    if (!report) return;
    await this.sched.run("script http", () => undefined);
    const result = await this.post(this.engine.signed(report));
    if ("status" in result && result.status < 500) this.engine.readReported();
  }

  /** The script's rounds of sending, as main.ts's `flush`. */
  private async flushRounds(sheet: SheetPort): Promise<void> {
    for (let round = 0; round < MAX_FLUSH_ROUNDS; round++) {
      const prepared = this.engine.prepareRound(sheet);
      if (!prepared) return;
      const readAt = this.truth.length;
      // The items of the rows as the script read them (a hidden key is not in what it sends).
      const items = new Map<string, string>();
      if (this.hiddenKey) {
        for (const row of this.sheetTable().rows) {
          const key = row[HIDDEN_KEY];
          if (typeof row._id === "string" && typeof key === "string") items.set(row._id, key);
        }
      }
      const steps = sendBatches(prepared.envelope, prepared.batches);
      let step = steps.next();
      while (!step.done) {
        this.engine.renewLease();
        const request = this.engine.signed(step.value);
        await this.sched.run("script http", () => undefined);
        const result = await this.post(request);
        if (!("status" in result) || result.status === 200)
          this.sawSent(readAt, request.body, items);
        step = steps.next(result);
      }
      if (!this.engine.finishRound(sheet, prepared, step.value)) return;
    }
  }

  startScript(trigger: ScriptTrigger | { kind: "timer" }) {
    return this.sched.spawn(`script ${trigger.kind}`, () => this.runScript(trigger));
  }

  startEvent(event: DocEvent) {
    return this.sched.spawn(`event ${event.rowId}`, () =>
      handleDocEvent(this.serverDeps(), event.rowId, { at: event.at, isDelete: event.isDelete }),
    );
  }

  /** A flush task, as Cloud Tasks dispatches it: one at a time; a failure leaves it for a retry. */
  async startFlush(): Promise<boolean> {
    if (this.flushing || this.tasks.size === 0) return false;
    const [id] = [...this.tasks.entries()].sort((a, b) => a[1] - b[1])[0]!;
    this.flushing = true;
    await this.sched.spawn(`flush ${id}`, async () => {
      try {
        await flushSheet(
          {
            ...this.serverDeps(),
            sheet: this.gateway,
            requestReconcile: async () => void (this.reconcileRequested = true),
          },
          id,
        );
        this.tasks.delete(id);
      } catch {
        // Transient: Cloud Tasks retries the same task later.
      } finally {
        this.flushing = false;
        this.sheetWindow = 0;
      }
    });
    return true;
  }

  async reconcileNow(trigger: "request" | "schedule" | "recovery"): Promise<ReconcileReport> {
    return reconcileSheet({ ...this.serverDeps(), sheet: this.gateway }, trigger);
  }

  // ---- quiescence ---------------------------------------------------------------------------------

  /** Everything in flight delivered, every queue empty, no fault: what the system settles to. */
  /** What every run settles to before the checker: everything delivered, one scheduled reconcile, everything again. */
  async settle(): Promise<void> {
    await this.quiesce();
    await this.sched.spawn("reconcile", () => this.reconcileNow("schedule"));
    await this.sched.drain();
    await this.quiesce();
  }

  async quiesce(maxRounds = 40): Promise<void> {
    this.webhookFaults = [];
    this.db.failNextUpdate = null;
    this.lockBusy = false;
    this.emulator.clearFaults();
    let previous = "";
    const debug = process.env.DEBUG_MODEL
      ? (m: string) => process.stderr.write(`[quiesce] ${m}\n`)
      : () => {};
    for (let round = 0; round < maxRounds; round++) {
      debug(
        `round ${round}: events ${this.db.events.length} triggers ${this.scriptTriggers.length} tasks ${this.tasks.size} outbox ${this.db.outbox.size} blocked ${JSON.stringify(this.sched.blocked())}`,
      );
      await this.sched.drain();
      this.sheetWindow = 0;
      while (this.db.events.length) {
        await this.startEvent(this.db.events.shift()!);
        await this.sched.drain();
      }
      while (this.scriptTriggers.length) {
        await this.startScript(this.scriptTriggers.shift()!);
        await this.sched.drain();
      }
      debug("timer");
      await this.startScript({ kind: "timer" });
      debug(`timer started; blocked ${JSON.stringify(this.sched.blocked())}`);
      await this.sched.drain();
      debug(`timer done; reconcile requested ${this.reconcileRequested}`);
      if (this.reconcileRequested) {
        this.reconcileRequested = false;
        await this.sched.spawn("reconcile", () => this.reconcileNow("recovery"));
        await this.sched.drain();
      }
      this.advance(20_000);
      for (let i = 0; i < 20 && (this.tasks.size || this.db.outbox.size); i++) {
        if (this.db.outbox.size && !this.tasks.size) this.tasks.set(`sweep-${this.now}`, this.now);
        debug(`flush ${i}`);
        await this.startFlush();
        debug(`flush started; blocked ${JSON.stringify(this.sched.blocked())}`);
        await this.sched.drain();
        this.advance(2_000);
      }
      debug("fingerprint");
      const fingerprint = this.fingerprint();
      debug("fingerprinted");
      // An id on two rows waits for the script to tell the copy (a few minutes at most).
      const settled = !this.db.events.length && !this.tasks.size && !this.idOnTwoRows();
      if (fingerprint === previous && settled) return;
      previous = fingerprint;
      this.advance(60_000);
    }
    throw new Error(`the system did not settle in ${maxRounds} rounds`);
  }

  private idOnTwoRows(): boolean {
    const ids = this.sheetTable()
      .rows.map((r) => r._id)
      .filter((id) => typeof id === "string" && id !== "");
    return new Set(ids).size < ids.length;
  }

  private fingerprint(): string {
    const sheet = JSON.stringify(this.emulator.scriptValues(SPREADSHEET, TAB));
    const docs = JSON.stringify([...this.db.docs.entries()].map(([id, d]) => [id, d.fields]));
    const outbox = this.engine.state.loadOutbox().serialize();
    return `${sheet}|${docs}|${outbox}|${this.db.outbox.size}`;
  }

  // ---- a person in the sheet ----------------------------------------------------------------------

  /** Data rows that hold something (0-based sheet rows, 1 = row 2). */
  contentRows(): number[] {
    const values = this.emulator.scriptValues(SPREADSHEET, TAB);
    const out: number[] = [];
    values.forEach((line, i) => {
      if (i > 0 && line.some((v) => v !== "")) out.push(i);
    });
    return out;
  }

  private column(name: string): number {
    return this.sheetTable().header.indexOf(name);
  }

  keyAt(row: number): string | null {
    const key = this.emulator.scriptValues(SPREADSHEET, TAB)[row]?.[this.column(this.keyColumn)];
    return typeof key === "string" && key ? key : null;
  }

  /**
   * Queues a trigger's run. `started`: its execution starts at the event and does what comes
   * before the lock (the edited cell's id, a paste's word) then, as Apps Script does within a
   * second or so; otherwise all of it waits for the run (the worst case Google's silence on
   * how late an execution may start allows).
   */
  private queueTrigger(t: ScriptTrigger | null, structural = false, started = false): void {
    if (t && started && t.kind === "edit") {
      const sheet = this.engine.syncedSheet();
      if (sheet) t = { ...t, prepared: this.engine.beforeLock(sheet, this.modeOf(t)) };
    }
    if (t) this.scriptTriggers.push(structural ? { ...t, structural } : t);
    if (structural) this.structuralPending = true;
  }

  /** A change that moves rows waits for the script's scan (see commands.ts). */
  structuralPending = false;

  /** Runs the script's pending triggers now, in order, each to its end. */
  async runPendingTriggers(): Promise<void> {
    const busy = this.lockBusy;
    this.lockBusy = false;
    while (this.scriptTriggers.length) {
      await this.startScript(this.scriptTriggers.shift()!);
      await this.sched.drain();
    }
    // No trigger fired (a sort may fire none): the next run of any kind scans.
    await this.startScript({ kind: "timer" });
    await this.sched.drain();
    this.structuralPending = false;
    this.lockBusy = busy;
  }

  /** A person types `value` into a cell (as typed: "2026-12-01" becomes a date). */
  personEdit(row: number, field: string, value: string | number | boolean, started = false): void {
    this.forgetUndo();
    const column = this.column(field);
    if (column < 0) return;
    const was = this.sheetTable().rows[row - 1] ?? {};
    const before = was[field] ?? null;
    this.emulator.userSetValues(SPREADSHEET, TAB, row, column, [[value]]);
    const stored = this.sheetTable().rows[row - 1]?.[field] ?? null;
    const event = { kind: "edit" as const, row, rows: 1, column, columns: 1 };
    // Typing what the cell already shows changes nothing, and wins nothing.
    // (An item this edit starts has its writes from its creation.)
    const key = sameValue(before, stored) ? null : this.keyAt(row);
    if (key) {
      this.truth.push({
        t: this.now,
        op: "write",
        side: "sheet",
        key,
        field,
        value: stored,
        before,
      });
      if (this.hiddenKey) this.retypedDeleted(row, key);
    } else if (!sameValue(before, stored)) this.itemStartedIn(row, was);
    this.queueTrigger(
      { ...event, value: eventValue(stored), oldValue: eventValue(before) },
      false,
      started,
    );
  }

  /**
   * Typing into an empty row no item holds starts an item there, as a new row below does (the
   * sync gives it an id; which document that is must not depend on where a sort moves it).
   * (Not in the keyed mix: there a row without a code is no item.)
   */
  private itemStartedIn(row: number, was: Record<string, CellValue>): void {
    if (!this.hiddenKey) return;
    const id = was._id;
    const empty = JSON.parse(this.lookOf(was)).every((v: unknown) => v === null);
    if (!empty || (typeof id === "string" && this.identity.has(id))) return;
    const key = this.newKey();
    this.emulator.userSetValues(SPREADSHEET, TAB, row, this.column(HIDDEN_KEY), [[key]], "script");
    this.created(key, "sheet", { ...(this.sheetTable().rows[row - 1] ?? {}) });
  }

  /** An item created on `side` with these values: its create, then a write of every column. */
  private created(
    key: string,
    side: "sheet" | "firestore",
    values: Record<string, CellValue>,
  ): void {
    this.truth.push({ t: this.now, op: "create", side, key });
    for (const f of EDITABLE) {
      this.truth.push({ t: this.now, op: "write", side, key, field: f, value: values[f] ?? null });
    }
  }

  /**
   * A row typed since the script last read the sheet, edited until it is the very content of a
   * row deleted since then: that row put back, as when typed so at once (see `personNewRow`).
   */
  private retypedDeleted(row: number, key: string): void {
    const created = this.truth.findIndex((e) => e.key === key && e.op === "create");
    if (created < 0 || this.scriptReads.some((r) => r.after > created)) return;
    const look = this.lookOf(this.sheetTable().rows[row - 1] ?? {});
    const gone = [...this.sheetDeletes]
      .reverse()
      .find((d) => d.look === look && !this.scriptReads.some((r) => r.after > d.at));
    const at = gone ? this.truth.lastIndexOf(gone.event) : -1;
    if (!gone || at < 0) return;
    this.dropTruth(at);
    this.sheetDeletes.splice(this.sheetDeletes.indexOf(gone), 1);
    for (const e of this.truth) if (e.key === key) e.key = gone.key;
    const column = this.column(HIDDEN_KEY);
    this.emulator.userSetValues(SPREADSHEET, TAB, row, column, [[gone.key]], "script");
  }

  /** A person types a new row below the data. */
  personNewRow(values: Record<string, string | number>): void {
    this.forgetUndo();
    const row = Math.max(0, ...this.contentRows()) + 1;
    const key = this.newKey();
    const header = this.sheetTable().header;
    const line = header.map((h) =>
      h === this.keyColumn ? key : h === "total" ? `=D${row + 1}*E${row + 1}` : (values[h] ?? ""),
    );
    const first = header.indexOf(this.keyColumn);
    const last = header.indexOf("due");
    // (A hidden key is the model's, not typed: the edit covers the cells the person typed.)
    const typed = this.hiddenKey ? header.indexOf("name") : first;
    this.emulator.userSetValues(SPREADSHEET, TAB, row, first, [line.slice(first, last + 1)]);
    const stored = this.sheetTable().rows[row - 1] ?? {};
    if (this.hiddenKey) {
      // The very content of a row deleted since the script last read the sheet, typed again: no
      // one can tell it from that row put back (a cut and paste of its visible cells). It is.
      const look = this.lookOf(stored);
      const gone = [...this.sheetDeletes]
        .reverse()
        .find((d) => d.look === look && !this.scriptReads.some((r) => r.after > d.at));
      const at = gone ? this.truth.lastIndexOf(gone.event) : -1;
      if (gone && at >= 0) {
        this.dropTruth(at);
        this.sheetDeletes.splice(this.sheetDeletes.indexOf(gone), 1);
        this.emulator.userSetValues(SPREADSHEET, TAB, row, first, [[gone.key]], "script");
        this.queueTrigger({ kind: "edit", row, rows: 1, column: typed, columns: last - typed + 1 });
        return;
      }
    }
    this.created(key, "sheet", stored);
    this.queueTrigger({ kind: "edit", row, rows: 1, column: typed, columns: last - typed + 1 });
  }

  personInsertRow(row: number): void {
    this.forgetUndo();
    this.emulator.userInsertRows(SPREADSHEET, TAB, row, 1);
    this.queueTrigger({ kind: "change" }, true);
  }

  personDeleteRow(row: number): void {
    const key = this.keyAt(row);
    const look = this.lookOf(this.sheetTable().rows[row - 1] ?? {});
    const twin = key && this.hiddenKey ? this.unreadTwin(row, look) : null;
    const rows = this.emulator.userDeleteRows(SPREADSHEET, TAB, row, 1);
    // (Its Ctrl-Z, after a twin took the item on, would leave two rows for it: not modelled.)
    if (twin) this.forgetUndo();
    else this.deleted.push({ at: row, rows });
    if (key && twin) {
      // A row typed since the script last read the sheet with this row's very content, and this
      // row deleted: no one can tell it from this row moved there (a cut and paste of its visible
      // cells). It is (the other order: see retypedDeleted), and its typing wrote nothing: the
      // row shows what this one showed.
      for (let i = this.truth.length - 1; i >= 0; i--) {
        if (this.truth[i]!.key === twin.key) this.dropTruth(i);
      }
      const at = twin.row > row ? twin.row - 1 : twin.row;
      this.emulator.userSetValues(SPREADSHEET, TAB, at, this.column(HIDDEN_KEY), [[key]], "script");
    } else if (key) {
      const event: Truth = { t: this.now, op: "delete", side: "sheet", key };
      this.truth.push(event);
      if (this.hiddenKey) this.sheetDeletes.push({ key, look, at: this.truth.length - 1, event });
    }
    this.queueTrigger({ kind: "change" }, true);
  }

  /** Another row whose item was typed since the script last read the sheet, showing `look`. */
  private unreadTwin(row: number, look: string): { row: number; key: string } | null {
    const rows = this.sheetTable().rows;
    for (let r = rows.length; r >= 1; r--) {
      const key = r === row ? null : this.keyAt(r);
      if (!key || this.lookOf(rows[r - 1] ?? {}) !== look) continue;
      const created = this.truth.findIndex((e) => e.key === key && e.op === "create");
      if (created >= 0 && !this.scriptReads.some((read) => read.after > created))
        return { row: r, key };
    }
    return null;
  }

  /**
   * Takes an event out of the record (an undone delete, a row put back, a twin's typing). What
   * holds a place in the record (reads, deletes, lookalikes) keeps pointing at the same events.
   */
  private dropTruth(index: number): void {
    this.truth.splice(index, 1);
    const shift = (n: number) => (n > index ? n - 1 : n);
    for (const r of this.scriptReads) r.after = shift(r.after);
    for (const r of this.sheetSeen) r.after = shift(r.after);
    for (const r of this.firestoreSeen) r.after = shift(r.after);
    for (const d of this.sheetDeletes) d.at = shift(d.at);
    for (const l of this.pendingLookalikes) l.from = shift(l.from);
    for (const [id, n] of this.tombstonesExpired) this.tombstonesExpired.set(id, shift(n));
  }

  /** Ctrl-Z undoes the person's last action: once they did something else, not a delete before it. */
  private forgetUndo(): void {
    this.deleted.length = 0;
  }

  /**
   * The fault "Sheets was down longer than a tombstone lives": forgotten deletes' states go. That
   * is days (SHEET_SYNC_TOMBSTONE_DAYS); no one presses Ctrl-Z on a delete across it.
   */
  expireTombstones(): void {
    for (const id of this.db.expireSettledDeletes())
      this.tombstonesExpired.set(id, this.truth.length);
    this.forgetUndo();
  }

  /** Ctrl-Z of the last delete: the row comes back where it was, hidden cells and all. */
  personUndoDelete(): void {
    const last = this.deleted.pop();
    if (!last) return;
    // The sync already brought the row back (an app's later edit beat the delete): undoing the
    // delete too would leave two rows for one item (README, Known limits).
    const id = (last.rows[0] as Array<{ value?: unknown } | null> | undefined)?.[this.column("_id")]
      ?.value;
    if (typeof id === "string" && this.sheetTable().rows.some((r) => r._id === id)) return;
    const at = Math.min(last.at, Math.max(1, ...this.contentRows()) + 1);
    this.emulator.userRestoreRows(SPREADSHEET, TAB, at, last.rows);
    // Undo cancels the delete: as if it had not happened (the script may never have seen it).
    const key = this.keyAt(at);
    for (let i = this.truth.length - 1; i >= 0; i--) {
      const e = this.truth[i]!;
      if (e.key === key && e.op === "delete" && e.side === "sheet") {
        this.dropTruth(i);
        break;
      }
    }
    this.queueTrigger({ kind: "change" }, true);
  }

  /** Data → Sort range over the visible columns only: hidden _id, _modified, _rev stay put. */
  personSortVisible(field: string, ascending: boolean, trigger: "edit" | "change" | "none"): void {
    this.forgetUndo();
    const rows = this.contentRows();
    if (rows.length < 2) return;
    const header = this.sheetTable().header;
    const first = header.indexOf(this.keyColumn);
    const last = header.indexOf("due");
    const end = Math.max(...rows) + 1;
    this.emulator.userSortRange(
      SPREADSHEET,
      TAB,
      { startRow: 1, endRow: end, startColumn: first, endColumn: last + 1 },
      this.column(field),
      ascending,
    );
    if (this.hiddenKey) this.settleLookalikes();
    this.queueTrigger(
      trigger === "edit"
        ? { kind: "edit", row: 1, rows: end - 1, column: first, columns: last - first + 1 }
        : trigger === "change"
          ? { kind: "change" }
          : null,
      true,
    );
  }

  /** A row as the sync sees it: its synced cells (a sheetTable row holds every header's). */
  private lookOf(row: Record<string, CellValue>): string {
    const synced = Object.keys(row).filter(
      (h) => !["_id", "_modified", "_rev"].includes(h) && columnNameProblem(h) === null,
    );
    return JSON.stringify(synced.map((c) => row[c] ?? null));
  }

  /**
   * Rows whose synced cells are all the same look the same to everyone, the sync included: which
   * of them is which item after a sort is no one's to say. The row whose id's item is one of them
   * holds that item (identical content a sort left under an id stays that id's), the others the
   * rest, in order.
   */
  private settleLookalikes(): void {
    const { rows } = this.sheetTable();
    const groups = new Map<string, number[]>();
    rows.forEach((row, i) => {
      if (typeof row[HIDDEN_KEY] !== "string") return;
      const look = this.lookOf(row);
      groups.set(look, [...(groups.get(look) ?? []), i]);
    });
    const column = this.column(HIDDEN_KEY);
    for (const members of groups.values()) {
      if (members.length < 2) continue;
      this.pendingLookalikes.push({
        keys: new Set(members.map((i) => rows[i]![HIDDEN_KEY] as string)),
        from: this.truth.length,
      });
      const keys = members.map((i) => rows[i]![HIDDEN_KEY] as string);
      const given = new Map<number, string>();
      for (const i of members) {
        const id = rows[i]!._id;
        const own = typeof id === "string" ? this.identity.get(id) : undefined;
        if (own && keys.includes(own) && ![...given.values()].includes(own)) given.set(i, own);
      }
      const rest = keys.filter((k) => ![...given.values()].includes(k));
      for (const i of members) if (!given.has(i)) given.set(i, rest.shift()!);
      for (const [i, key] of given) {
        if (rows[i]![HIDDEN_KEY] !== key)
          this.emulator.userSetValues(SPREADSHEET, TAB, i + 1, column, [[key]], "script");
      }
    }
  }

  /**
   * The first scan after a sort says which of the lookalikes each id took: edits of their rows
   * made in between (the same to everyone until then) are the edits of the items the sync placed
   * there. The model's labels of those items, from the sort on, follow the sync's choice.
   */
  private settlePendingLookalikes(): void {
    const pending = this.pendingLookalikes.splice(0);
    for (const { keys, from } of pending) {
      const { rows } = this.sheetTable();
      const members = rows.flatMap((row, i) =>
        typeof row[HIDDEN_KEY] === "string" && keys.has(row[HIDDEN_KEY]) ? [i] : [],
      );
      if (members.length !== keys.size) continue; // one of them left meanwhile: leave it be
      const to = new Map<string, string>();
      for (const i of members) {
        const id = rows[i]!._id;
        const want = typeof id === "string" ? this.identity.get(id) : undefined;
        if (want && keys.has(want) && ![...to.values()].includes(want))
          to.set(rows[i]![HIDDEN_KEY] as string, want);
      }
      const left = [...keys].filter((k) => ![...to.values()].includes(k));
      for (const i of members) {
        const key = rows[i]![HIDDEN_KEY] as string;
        if (!to.has(key)) to.set(key, left.shift()!);
      }
      if ([...to].every(([a, b]) => a === b)) continue;
      const column = this.column(HIDDEN_KEY);
      for (const i of members) {
        const next = to.get(rows[i]![HIDDEN_KEY] as string)!;
        this.emulator.userSetValues(SPREADSHEET, TAB, i + 1, column, [[next]], "script");
      }
      const relabel = (key: string) => to.get(key) ?? key;
      for (let i = from; i < this.truth.length; i++) {
        const e = this.truth[i]!;
        // (An app's write names a document, whose item its id fixes: only rows are relabelled.)
        if (e.side === "sheet" && keys.has(e.key)) e.key = relabel(e.key);
      }
      for (const seen of [...this.sheetSeen, ...this.firestoreSeen]) {
        if (seen.after < from || !seen.keys) continue;
        const renamed = [...seen.keys].map(relabel);
        seen.keys.clear();
        for (const k of renamed) seen.keys.add(k);
      }
      for (const d of this.sheetDeletes) if (d.at >= from) d.key = relabel(d.key);
    }
  }

  /** Sort of whole rows (hidden columns move with them). */
  personSortRows(field: string, ascending: boolean): void {
    this.forgetUndo();
    this.emulator.userSortRows(SPREADSHEET, TAB, this.column(field), ascending, 1);
    this.queueTrigger({ kind: "change" }, true);
  }

  /** Copy a whole row (with its hidden _id) over another row, then give the copy a new key. */
  personPasteRow(from: number, to: number, started = false): void {
    this.forgetUndo();
    if (from === to) return;
    // The row pasted over is gone: its cells, its hidden _id included, are the copy's now.
    const overwritten = this.keyAt(to);
    if (overwritten) {
      const event: Truth = { t: this.now, op: "delete", side: "sheet", key: overwritten };
      this.truth.push(event);
      // (Its content typed again before the script reads the sheet is that item: see newRow.)
      if (this.hiddenKey) {
        const look = this.lookOf(this.sheetTable().rows[to - 1] ?? {});
        this.sheetDeletes.push({ key: overwritten, look, at: this.truth.length - 1, event });
      }
    }
    this.emulator.userPasteRows(SPREADSHEET, TAB, from, 1, to);
    const key = this.newKey();
    this.emulator.userSetValues(SPREADSHEET, TAB, to, this.column(this.keyColumn), [[key]]);
    // Without a code, the person names the copy anew (a copy left as it is is told from its
    // original only by the paste's onEdit, which the model may drop).
    if (this.hiddenKey)
      this.emulator.userSetValues(SPREADSHEET, TAB, to, this.column("name"), [[`Item ${key}`]]);
    const stored = this.sheetTable().rows[to - 1] ?? {};
    this.created(key, "sheet", stored);
    this.queueTrigger(
      { kind: "edit", row: to, rows: 1, column: 0, columns: HEADER.length },
      true,
      started,
    );
  }

  /** Types a header for a new column after the last one (e.g. an app-only field becomes a column). */
  personAddColumn(name: string): void {
    // (Not without a code: a sort of the visible range leaves a column after the hidden ones
    // behind, and which item its cells belong to is then no one's to say.)
    if (this.hiddenKey) return;
    this.forgetUndo();
    const header = this.sheetTable().header;
    if (header.includes(name)) return;
    const column = header.length;
    this.emulator.userSetValues(SPREADSHEET, TAB, 0, column, [[name]]);
    this.queueTrigger({ kind: "edit", row: 0, rows: 1, column, columns: 1 });
  }

  /** Renames a column by typing over its header cell. */
  personRenameColumn(from: string, to: string): void {
    this.forgetUndo();
    const column = this.column(from);
    if (column < 0) return;
    this.emulator.userSetValues(SPREADSHEET, TAB, 0, column, [[to]]);
    this.queueTrigger({ kind: "edit", row: 0, rows: 1, column, columns: 1 });
  }

  // ---- apps writing Firestore ---------------------------------------------------------------------

  docIds(): string[] {
    return [...this.db.docs.keys()].sort();
  }

  appSet(id: string, field: string, value: CellValue): void {
    const doc = this.db.docs.get(id);
    if (!doc) return;
    const before = doc.fields[field];
    const key = this.keyOfDoc(id);
    this.db.writeDoc(id, { [field]: value }, true);
    if (typeof key === "string" && EDITABLE.includes(field) && !sameValue(before, value)) {
      this.appWrote(key, field, value, before ?? null);
    }
  }

  private appWrote(key: string, field: string, value: CellValue, before: CellValue): void {
    this.truth.push({ t: this.now, op: "write", side: "firestore", key, field, value, before });
  }

  appCreate(values: RowValues): string {
    const id = `app_${this.nextDoc++}`;
    const key = this.newKey();
    this.db.writeDoc(id, this.hiddenKey ? values : { ...values, key }, false);
    this.identity.set(id, key);
    this.created(key, "firestore", values);
    return id;
  }

  appDelete(id: string): void {
    const doc = this.db.docs.get(id);
    if (!doc) return;
    const key = this.keyOfDoc(id);
    this.appDeleted.push({ id, fields: { ...doc.fields }, ...(key ? { key } : {}) });
    this.db.writeDoc(id, null, false);
    if (typeof key === "string")
      this.truth.push({ t: this.now, op: "delete", side: "firestore", key });
  }

  /** Restores the last document an app deleted, from a backup: same id, same fields. */
  appRestore(): void {
    const last = this.appDeleted.pop();
    if (!last || this.db.docs.has(last.id)) return;
    const before = this.db.lastFields.get(last.id) ?? last.fields;
    this.db.writeDoc(last.id, last.fields, false);
    // Undoing a delete: the row is back. Fields the document had otherwise when it last went
    // (the sync took a sheet edit meanwhile, say) change to the backup's values.
    const key = last.key;
    if (typeof key !== "string") return;
    this.truth.push({ t: this.now, op: "create", side: "firestore", key, restore: true });
    for (const field of EDITABLE) {
      const value = last.fields[field] ?? null;
      if (!sameValue(before[field] ?? null, value))
        this.appWrote(key, field, value, before[field] ?? null);
    }
  }

  /** Copies a document to a new id (with a new key: a new item), as an app might. */
  appCopy(id: string): void {
    const doc = this.db.docs.get(id);
    if (!doc) return;
    this.appCreate(Object.fromEntries(Object.entries(doc.fields).filter(([k]) => k !== "key")));
  }
}
