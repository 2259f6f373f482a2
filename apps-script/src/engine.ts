/**
 * What the bound script does, on injected services (env.ts): scan the tab
 * and queue what changed, send the outbox in signed batches, take the
 * server's per-row outcomes. main.ts runs it on Apps Script's services; the
 * model-based test runs the same code on the local Sheets emulator.
 */
import { ID_HEADER, MAX_DESCRIBE_IDS } from "../../contract/src/limits";
import {
  encodeBody,
  encodeDescribe,
  type DescribedRow,
  type Envelope,
  type ReconcileRequest,
} from "../../contract/src/wire";
import { signBody } from "../../contract/src/signature";
import { analyzeHeader, type HeaderInfo } from "./core/header";
import { cellToRowId, rowIdFromUuid } from "./core/ids";
import { makeBatches, type Batch } from "./core/payload";
import { planFlush, type FlushPlan } from "./core/plan";
import {
  modifiedCellToMs,
  rowFields,
  rowHasContent,
  rowDigest,
  rowHash,
  rowModified,
  scanSheet,
  showsEventValue,
  unscannedWrites,
  withDescribed,
  type MissedPaste,
  type ScanMode,
} from "./core/scan";
import type { Snapshot } from "./core/snapshot";
import {
  parseWordEntry,
  snapshotWithWords,
  withWord,
  wordKey,
  WORD_TTL_SECONDS,
  type Words,
} from "./core/words";
import type { PostResult, SendReport } from "./core/send";
import { PROPERTY, readConfig, type Config } from "./config";
import type { ScriptEnv, SheetPort } from "./env";
import { ScriptState } from "./state";

/** Rounds one flush may run to pick up rows edited while it was sending. */
export const MAX_FLUSH_ROUNDS = 5;
const NOTE_PREFIX = "Sheet Sync could not sync this row: ";
/**
 * How often an idle minute run reports that it read the sheet with nothing to send (a webhook
 * without rows; 144 requests a day at most, against 20,000 UrlFetch calls for a consumer account).
 */
export const READ_REPORT_EVERY_S = 600;
const READ_REPORT_KEY = "sheetSync.readReport";
const DESCRIBE_FAILING_KEY = "sheetSync.describeFailing";
const GIVEN_TTL_SECONDS = 600;
const givenKey = (id: string) => `sheetSync.given.${id}`;
/** How long scans wait for an unanswered describe before they go on without it. */
export const DESCRIBE_WAIT_MS = 10 * 60 * 1000;

/** A round of sending, prepared under the lock: what to send and how to acknowledge it. */
export interface PreparedRound {
  readonly plan: FlushPlan;
  readonly envelope: Envelope;
  readonly batches: Batch[];
}

export interface SignedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export class SyncEngine {
  readonly state: ScriptState;

  constructor(private readonly env: ScriptEnv) {
    this.state = new ScriptState(env.scriptProperties, env.documentProperties, () => env.now());
  }

  config(): Config {
    return readConfig(this.env.scriptProperties.getProperties());
  }

  /** Runs `fn` under the script lock; undefined (and recorded) when another run held it. */
  withLock<T>(fn: () => T): T | undefined {
    // `fn` may return nothing itself: whether it ran says whether the lock was had.
    let ran = false;
    const out = this.env.withLock(() => {
      ran = true;
      return fn();
    });
    if (!ran) {
      this.state.recordError(
        "Another Sheet Sync run held the lock; changes will be picked up later",
      );
    }
    return out;
  }

  syncedSheet(): SheetPort | null {
    const cfg = this.config();
    const sheet = this.env.sheet(cfg.sheetName);
    if (!sheet)
      this.state.recordError(`Sheet "${cfg.sheetName}" not found (${PROPERTY.sheetName})`);
    return sheet;
  }

  usableHeader(headerRow: unknown[]): HeaderInfo | null {
    const header = analyzeHeader(headerRow);
    if (header.idColumn < 0) {
      this.state.recordError(`No "${ID_HEADER}" column in row 1: run Sheet Sync → Set up`);
      return null;
    }
    return header;
  }

  /** Reads the sheet, fixes ids, queues what changed, and records what it saw. */
  scanAndQueue(sheet: SheetPort, mode: ScanMode): void {
    this.scanLocked(sheet, this.beforeLock(sheet, mode));
  }

  /**
   * What an edit's execution does as it starts, before it waits for the lock (up to 30 s): by
   * then a person may have edited the copy a paste made, sorted, or a flush moved the rows, and
   * the event's row and column no longer say which item it was. A paste leaves its word on
   * which row is the copy; a single cell's edit, which row (by id) and column (by name) it was,
   * and leaves that for whichever execution scans first (words.ts).
   */
  beforeLock(sheet: SheetPort, mode: ScanMode): ScanMode {
    if (mode.kind !== "edit") return mode;
    this.notePaste(sheet, mode);
    return this.withEditedCell(sheet, mode);
  }

  /** The scan under the lock, of a mode `beforeLock` prepared. */
  scanLocked(sheet: SheetPort, scanned: ScanMode): void {
    this.withLock(() => {
      const { headerRow, rows } = sheet.readAll();
      const readAt = this.env.now();
      const header = this.usableHeader(headerRow);
      if (header) this.scanRead(sheet, header, rows, scanned, readAt);
    });
  }

  /**
   * A single cell's edit with its value: which row (by id) and column (by name) it was, read
   * now, before the wait for the lock, while the sheet most likely still has it where it was.
   */
  private withEditedCell(sheet: SheetPort, mode: Extract<ScanMode, { kind: "edit" }>): ScanMode {
    if (mode.value === undefined || mode.firstRow < 0) return mode;
    if (mode.firstRow !== mode.lastRow || mode.firstColumn !== mode.lastColumn) return mode;
    let read: { headerRow: unknown[]; cells: unknown[] };
    try {
      read = sheet.readRow(mode.firstRow);
    } catch {
      return mode; // the row is gone already (rows deleted below it): nothing to place
    }
    const { headerRow, cells } = read;
    const header = analyzeHeader(headerRow);
    const id = header.idColumn >= 0 ? cellToRowId(cells[header.idColumn]) : "";
    const field = header.dataColumns.find((c) => c.index === mode.firstColumn)?.name;
    if (!id || !field) return mode;
    const cell = cells[mode.firstColumn];
    if (showsEventValue(cell, mode.value)) {
      this.leaveWord(
        id,
        field,
        cell,
        { digest: rowDigest(header, cells), fieldsHash: header.fieldsHash },
        // (No `e.oldValue` for a value typed: the cell held nothing. For a clear: unknown.)
        mode.oldValue ?? (mode.value !== "" ? "" : undefined),
      );
    }
    return { ...mode, cell: { id, field } };
  }

  /** Leaves this edit's word for whichever execution scans first (words.ts); best effort. */
  private leaveWord(
    id: string,
    field: string,
    cell: unknown,
    row: { digest: string; fieldsHash: string },
    oldValue: string | undefined,
  ): void {
    const cache = this.env.cache;
    if (!cache) return;
    try {
      const key = wordKey(id);
      const entry = withWord(cache.get(key), field, cell, this.env.now(), row, oldValue);
      cache.put(key, entry, WORD_TTL_SECONDS);
    } catch {
      // A word is a hint: without it the scan matches rows by their cells alone.
    }
  }

  /** The waiting edits' words for these ids (none when the cache cannot be read). */
  private wordsFor(ids: readonly string[]): Map<string, Words> {
    const words = new Map<string, Words>();
    const cache = this.env.cache;
    if (!cache) return words;
    let entries: Record<string, string>;
    try {
      entries = cache.getAll(ids.map(wordKey));
    } catch {
      return words;
    }
    for (const id of ids) {
      const said = parseWordEntry(entries[wordKey(id)]);
      if (said) words.set(id, said);
    }
    return words;
  }

  /**
   * Ids this scan gave rows (not moved ones): a paste's onEdit that runs later must not take the
   * id a run gave the copy for one the paste brought (cache, ten minutes, best effort).
   */
  private noteGivenIds(idWrites: ReadonlyMap<number, string>, snapshot: Snapshot | null): void {
    const cache = this.env.cache;
    if (!cache || !snapshot) return;
    const given: Record<string, string> = {};
    for (const id of idWrites.values()) if (id && !snapshot.rows.has(id)) given[givenKey(id)] = "1";
    if (Object.keys(given).length) cache.putAll(given, GIVEN_TTL_SECONDS);
  }

  /** Of the ids in the rows a paste covered (the id column included), those a scan gave lately. */
  private givenIds(header: HeaderInfo, rows: unknown[][], mode: ScanMode): Set<string> | undefined {
    const cache = this.env.cache;
    if (!cache || mode.kind !== "edit") return undefined;
    if (header.idColumn < mode.firstColumn || header.idColumn > mode.lastColumn) return undefined;
    const ids = rows
      .slice(Math.max(0, mode.firstRow), mode.lastRow + 1)
      .map((row) => cellToRowId(row[header.idColumn]))
      .filter((id) => id !== "");
    if (ids.length === 0) return undefined;
    let found: Record<string, string>;
    try {
      found = cache.getAll(ids.map(givenKey));
    } catch {
      return undefined;
    }
    return new Set(ids.filter((id) => found[givenKey(id)] !== undefined));
  }

  /** This execution's last scan that recorded what it read: when it read, and the header. */
  private lastScan: { readAt: number; header: HeaderInfo } | null = null;

  /**
   * The body of an idle run's read report, when one is due: this execution scanned the sheet,
   * nothing is waiting to be sent or on its way, and no report went out in the last ten minutes.
   * The reconcile leaves a row that looks moved to the script until a read of the script's later
   * than its finding; an idle sheet sends no rows, and this is such a read.
   */
  readReport(sheet: SheetPort): string | null {
    const cache = this.env.cache;
    const cfg = this.config();
    if (!cache || !this.lastScan || !cfg.webhookUrl || !cfg.secret) return null;
    if (cache.get(READ_REPORT_KEY) !== null) return null;
    const idle = this.withLock(() => !this.state.leaseHeld() && this.state.loadOutbox().isEmpty);
    if (!idle) return null;
    const envelope: Envelope = {
      spreadsheetId: this.env.spreadsheetId(),
      sheetName: sheet.getName(),
      header: this.lastScan.header.texts,
      readAt: this.lastScan.readAt,
    };
    return encodeBody(envelope, { changes: [], deletes: [] });
  }

  /**
   * Whether a scan waits for a describe the functions did not answer: for ten minutes from the
   * first such failure (an outage; the webhook would fail too), then it goes on without, as for
   * a deployment that refuses it: a describe that fails for good (a bug for one id) must not
   * hold every edit back. Best effort: an evicted entry starts the ten minutes again.
   */
  private describeUnanswered(): boolean {
    const cache = this.env.cache;
    if (!cache) return false;
    const now = this.env.now();
    const since = Number(cache.get(DESCRIBE_FAILING_KEY) ?? NaN);
    if (!Number.isFinite(since)) {
      cache.put(DESCRIBE_FAILING_KEY, String(now), 21_600);
      this.state.recordError("The webhook does not answer (describe): the scan waits for it");
      return true;
    }
    if (now - since <= DESCRIBE_WAIT_MS) return true;
    this.state.recordError(
      "The webhook has not answered describe for ten minutes: rows the sync wrote are sent as they are",
    );
    return false;
  }

  /** The read report was taken (or refused: a deployment from before them): due in ten minutes. */
  readReported(): void {
    this.env.cache?.put(READ_REPORT_KEY, String(this.env.now()), READ_REPORT_EVERY_S);
  }

  /**
   * The scan, under the lock, of rows just read: fixes ids (their writes also go into `rows`),
   * queues what changed and records what it saw. Returns false when the outbox could not be
   * stored or a describe went unanswered (the old snapshot stays, so the next scan finds it all
   * again).
   */
  private scanRead(
    sheet: SheetPort,
    header: HeaderInfo,
    rows: unknown[][],
    mode: ScanMode,
    readAt: number,
  ) {
    const seen = this.state.loadSnapshot();
    const snapshot = seen.snapshot && this.described(sheet, header, rows, seen.snapshot);
    // The functions did not answer: rows a flush wrote and a sort may have moved cannot be told
    // apart yet. Nothing is stamped or queued; the next scan (a minute at most) finds it all.
    if (snapshot === "unanswered") return false;
    const result = scanSheet({
      header,
      rows,
      snapshot,
      givenIds: this.givenIds(header, rows, mode),
      toldSnapshot:
        snapshot && snapshotWithWords(header, rows, snapshot, (ids) => this.wordsFor(ids)),
      now: this.env.now(),
      newId: () => rowIdFromUuid(this.env.uuid()),
      mode,
      missedPastes: seen.missedPastes.rows,
    });
    const write = (column: number, cells: ReadonlyMap<number, string | number>) => {
      sheet.writeColumn(column, cells);
      if (column >= 0) for (const [i, value] of cells) if (rows[i]) rows[i]![column] = value;
    };
    write(header.idColumn, result.idWrites);
    write(header.modifiedColumn, result.modifiedWrites);
    write(header.revColumn, result.revWrites);

    const outbox = this.state.loadOutbox();
    for (const u of result.upserts) outbox.upsert(u.id, u.modifiedAt, u.fields);
    for (const d of result.deletes) outbox.delete(d.id, d.modifiedAt, d.displaced);
    if (result.resyncAt !== null) outbox.requestResync(result.resyncAt);
    const changed = result.upserts.length + result.deletes.length > 0 || result.resyncAt !== null;
    // Outbox first: if it cannot be stored, the old snapshot makes the next scan find it all again.
    if (changed && this.state.saveOutbox(outbox) === "failed") return false;
    this.state.saveSnapshot(result.snapshot, seen.text);
    this.state.dropMissedPastes(seen.missedPastes.keys);
    this.noteGivenIds(result.idWrites, snapshot);
    // (A change-mode scan leaves rows changed outside an edit for the minute's scan to stamp.)
    if (mode.kind === "reconcile") this.lastScan = { readAt, header };
    return true;
  }

  /**
   * The snapshot, plus what the sync wrote into rows this script has not scanned since (the
   * flush appended or wrote them), as the functions describe it: one request, only when there
   * are such rows. Unanswered (the network, a 5xx: the webhook would fail too), the scan waits;
   * refused or unreadable (a deployment without /describe), it goes on without, and the server
   * places those rows (its `moved` outcome).
   */
  private described(
    sheet: SheetPort,
    header: HeaderInfo,
    rows: unknown[][],
    snapshot: Snapshot,
  ): Snapshot | "unanswered" {
    const ids = unscannedWrites(header, rows, snapshot).slice(0, MAX_DESCRIBE_IDS);
    const cfg = this.config();
    if (ids.length === 0 || !this.env.fetch || !cfg.webhookUrl || !cfg.secret) return snapshot;
    const body = encodeDescribe({
      spreadsheetId: this.env.spreadsheetId(),
      sheetName: sheet.getName(),
      ids,
    });
    // A read, safe to repeat: once more after a failure (a request lost on the way).
    let result = this.env.fetch(this.signed(body, "/describe"));
    if ("networkError" in result || result.status >= 500) {
      result = this.env.fetch(this.signed(body, "/describe"));
    }
    if ("networkError" in result || result.status >= 500 || result.status === 429) {
      return this.describeUnanswered() ? "unanswered" : snapshot;
    }
    this.env.cache?.remove(DESCRIBE_FAILING_KEY);
    if (result.status !== 200) return snapshot;
    let described: DescribedRow[];
    try {
      const reply = JSON.parse(result.body) as { rows?: unknown };
      if (!Array.isArray(reply.rows)) return snapshot;
      described = (reply.rows as DescribedRow[]).filter(
        (r) =>
          typeof r?.id === "string" &&
          typeof r.rev === "number" &&
          typeof r.values === "object" &&
          r.values !== null,
      );
    } catch {
      return snapshot;
    }
    return withDescribed(header, rows, snapshot, described);
  }

  /**
   * Which of two rows holding one id is the copy, only the paste's own edit says. When it wrote
   * hidden id cells, the rows it pasted are kept (under a key of their own: no lock needed) for
   * the scan, this run's or, when another run holds the lock, the next one. Cell edits need no
   * such word: the minute's scan finds them by itself.
   */
  private notePaste(sheet: SheetPort, mode: Extract<ScanMode, { kind: "edit" }>): void {
    const { headerRow, rows } = sheet.readAll();
    const header = analyzeHeader(headerRow);
    if (header.idColumn < 0) return;
    if (header.idColumn < mode.firstColumn || header.idColumn > mode.lastColumn) return;
    const holders = new Map<string, number[]>();
    rows.forEach((cells, i) => {
      const id = cellToRowId(cells[header.idColumn]);
      if (id) holders.set(id, [...(holders.get(id) ?? []), i]);
    });
    const pasted: MissedPaste[] = [];
    for (let row = Math.max(0, mode.firstRow); row <= mode.lastRow && row < rows.length; row++) {
      const id = cellToRowId(rows[row]![header.idColumn]);
      const all = id ? holders.get(id)! : [];
      if (all.length < 2) continue; // no other row holds it: nothing to tell apart
      const hash = rowHash(header, rows[row]!);
      pasted.push({
        row,
        id,
        hash,
        rank: all.indexOf(row),
        holders: all.length,
        alike: all.some((i) => i !== row && rowHash(header, rows[i]!) === hash),
      });
    }
    if (pasted.length) this.state.addMissedPaste(pasted, this.env.uuid());
  }

  /**
   * Prepares one round under the lock: null when there is nothing to send
   * (or another run is sending: the lease). The lock is not held while
   * sending, so edits are recorded meanwhile; the lease keeps a second run
   * from sending the same rows.
   */
  prepareRound(sheet: SheetPort): PreparedRound | null {
    const prepared = this.withLock(() => {
      if (this.state.leaseHeld()) return null;
      if (this.state.loadOutbox().isEmpty) return null;
      const { headerRow, rows } = sheet.readAll();
      const readAt = this.env.now();
      const header = this.usableHeader(headerRow);
      if (!header) return null;
      if (header.duplicates.length > 0) {
        this.state.recordError(`Duplicate column names in row 1: ${header.duplicates.join(", ")}`);
        return null;
      }
      // Values go out by id: content a sort moved since the scan that queued them would go out
      // under the wrong ids. The same read is scanned first, so the ids follow their content.
      if (!this.scanRead(sheet, header, rows, { kind: "change" }, readAt)) return null;
      const outbox = this.state.loadOutbox();
      const plan = planFlush(header, rows, outbox, readAt);
      if (plan.outboxChanged && this.state.saveOutbox(outbox) === "failed") return null;
      // All that waits is rows whose id is on two rows: the next scan settles them first.
      if (plan.changes.length === 0 && plan.deletes.length === 0 && plan.resyncSeq === null) {
        return null;
      }
      this.state.takeLease();
      const envelope: Envelope = {
        spreadsheetId: this.env.spreadsheetId(),
        sheetName: sheet.getName(),
        header: header.texts,
        readAt,
        moves: true,
        chains: true,
      };
      return { plan, envelope, batches: makeBatches(envelope, plan.changes, plan.deletes) };
    });
    return prepared ?? null;
  }

  /** Signs one request body for the webhook (or its /reconcile path). */
  signed(body: string, path = ""): SignedRequest {
    const cfg = this.config();
    const timestamp = String(this.env.now());
    return {
      url: cfg.webhookUrl.replace(/\/+$/, "") + path,
      headers: {
        "X-Sheet-Sync-Timestamp": timestamp,
        "X-Sheet-Sync-Signature": signBody(
          (m, k) => this.env.hmac(m, k),
          cfg.secret,
          timestamp,
          body,
        ),
      },
      body,
    };
  }

  /** Before each request: the lease must outlive it. */
  renewLease(): void {
    this.state.takeLease();
  }

  /**
   * After a round: drops what the server took or refused (unless the row
   * changed meanwhile), sets refused rows aside with a note, and says
   * whether to run another round.
   */
  finishRound(sheet: SheetPort, round: PreparedRound, report: SendReport): boolean {
    const { plan } = round;
    const more = this.withLock(() => {
      const moved = this.moveIds(sheet, report.moved, round);
      const done = new Map(
        [...plan.sent].filter(
          ([id]) => report.accepted.has(id) || report.rejected.has(id) || moved.has(id),
        ),
      );
      const outbox = this.state.loadOutbox();
      outbox.acknowledge(done, report.complete ? plan.resyncSeq : null);
      // Sent again under their own ids: a column outside the sorted range stayed, and is an edit
      // of the item now beside it (where everything moved, the server finds nothing new).
      for (const [id, at] of moved) {
        const holds = report.moved.get(id)!;
        if (holds !== "") outbox.upsert(holds, at, null);
      }
      this.state.saveOutbox(outbox);
      this.state.releaseLease();
      this.recordOutcomes(sheet, report);
      if (report.errors.length > 0) this.state.recordError(report.errors.join("; "));
      if (report.accepted.size > 0 || report.complete) {
        this.state.recordSuccess(report.accepted.size, report.warnings);
      }
      // Rows that could not be moved now (changed since they were read) wait for the next run:
      // another round would send them as they were, and be told the same.
      return report.complete && !outbox.isEmpty && moved.size === report.moved.size;
    });
    return more === true;
  }

  /**
   * Moves ids after content the server found moved (rows the scan had no record of, sorted by
   * their visible columns): each row named takes the id of the item it holds, with that item's
   * `_modified` and `_rev`, and the snapshot follows; the end of a chain (`holds: ""`) loses its
   * id. Only whole cycles and chains of rows that still hold what was sent (the end: nothing);
   * the others stay queued. Returns the ids that moved away, each with the time
   * its row is sent again under its own id (the `_modified` that came with the content).
   */
  private moveIds(
    sheet: SheetPort,
    moved: ReadonlyMap<string, string>,
    round: PreparedRound,
  ): Map<string, number> {
    if (moved.size === 0) return new Map();
    const { headerRow, rows } = sheet.readAll();
    const header = analyzeHeader(headerRow);
    const seen = this.state.loadSnapshot();
    const snapshot = seen.snapshot;
    if (header.idColumn < 0) return new Map();
    const sent = new Map(round.plan.changes.map((c) => [c.id, c.values]));
    const stillSent = (id: string, row: readonly unknown[]): boolean => {
      const values = sent.get(id);
      return (
        values !== undefined &&
        rowFields(header, row).every(
          ([name, cell]) => JSON.stringify(cell) === JSON.stringify(values[name] ?? null),
        )
      );
    };
    const rowsOf = new Map<string, number[]>();
    rows.forEach((row, i) => {
      const id = cellToRowId(row[header.idColumn]);
      if (id) rowsOf.set(id, [...(rowsOf.get(id) ?? []), i]);
    });
    // Each id's row; -1 for the end of a chain whose id is no longer in the sheet.
    const at = new Map<string, number>();
    for (const [id, holds] of moved) {
      if (holds === id) continue;
      const found = rowsOf.get(id);
      if (holds === "") {
        // The end of a chain: its row is empty now, or its id gone (the scan moved another there).
        if (!found) at.set(id, -1);
        else if (found.length === 1 && !rowHasContent(header, rows[found[0]!]!)) {
          at.set(id, found[0]!);
        }
        continue;
      }
      const row = found?.length === 1 ? found[0]! : -1;
      if (row >= 0 && stillSent(id, rows[row]!)) at.set(id, row);
    }
    // Whole cycles and chains only: the id each row takes moves too, and so does the row that
    // takes each id.
    const namer = new Map(
      [...moved].filter(([, holds]) => holds !== "").map(([id, holds]) => [holds, id]),
    );
    for (let changed = true; changed;) {
      changed = false;
      for (const id of [...at.keys()]) {
        const holds = moved.get(id)!;
        const by = namer.get(id);
        if ((holds !== "" && !at.has(holds)) || (by !== undefined && !at.has(by))) {
          at.delete(id);
          changed = true;
        }
      }
    }
    const ids = new Map<number, string>();
    const modified = new Map<number, string | number>();
    const revs = new Map<number, string | number>();
    const next = new Map(snapshot?.rows ?? []);
    for (const id of at.keys()) next.delete(id);
    const resend = new Map<string, number>();
    for (const [id, row] of at) {
      const holds = moved.get(id)!;
      if (holds === "") {
        // Its content went up the chain: the row keeps no id (nor its bookkeeping).
        if (row >= 0) {
          ids.set(row, "");
          if (header.modifiedColumn >= 0) modified.set(row, "");
          if (header.revColumn >= 0) revs.set(row, "");
        }
        resend.set(id, 0);
        continue;
      }
      // The item's bookkeeping comes from its row; one no longer in the sheet left none.
      const from = at.get(holds)! >= 0 ? rows[at.get(holds)!]! : rows[row]!;
      ids.set(row, holds);
      if (header.modifiedColumn >= 0) modified.set(row, from[header.modifiedColumn] as number);
      if (header.revColumn >= 0) revs.set(row, from[header.revColumn] as number);
      resend.set(id, rowModified(header, from) || this.env.now());
      const entry = snapshot?.rows.get(id);
      if (entry) {
        next.set(holds, {
          ...entry,
          modified: rowModified(header, from),
          rev: header.revColumn >= 0 ? modifiedCellToMs(from[header.revColumn]) : 0,
        });
      }
    }
    if (at.size === 0) return new Map();
    sheet.writeColumn(header.idColumn, ids);
    sheet.writeColumn(header.modifiedColumn, modified);
    sheet.writeColumn(header.revColumn, revs);
    if (snapshot) this.state.saveSnapshot({ ...snapshot, rows: next }, seen.text);
    return resend;
  }

  /** A round that failed before any answer: the lease goes, the outbox stays. */
  abandonRound(): void {
    this.withLock(() => this.state.releaseLease());
  }

  /** Refused rows get a note (on their first data cell) and a place in Status; taken ones lose theirs. */
  private recordOutcomes(sheet: SheetPort, report: SendReport): void {
    const letters = this.state.loadDeadLetters();
    const before = letters.size;
    const cleared = [...report.accepted].filter((id) => letters.remove(id));
    for (const [id, reason] of report.rejected) letters.add(id, reason, this.env.now());
    if (cleared.length === 0 && report.rejected.size === 0) return;
    if (letters.size !== before || cleared.length || report.rejected.size) {
      this.state.saveDeadLetters(letters);
    }
    const { headerRow, rows } = sheet.readAll();
    const header = analyzeHeader(headerRow);
    const noteColumn = header.dataColumns[0]?.index;
    if (noteColumn === undefined || header.idColumn < 0) return;
    rows.forEach((row, i) => {
      const id = String(row[header.idColumn] ?? "").trim();
      const reason = report.rejected.get(id);
      if (reason !== undefined) sheet.setNote(i, noteColumn, NOTE_PREFIX + reason);
      else if (cleared.includes(id) && sheet.getNote(i, noteColumn).startsWith(NOTE_PREFIX)) {
        sheet.setNote(i, noteColumn, "");
      }
    });
  }

  /** The signed request asking the functions to reconcile this tab now. */
  reconcileRequest(sheet: SheetPort): SignedRequest {
    const body: ReconcileRequest = {
      spreadsheetId: this.env.spreadsheetId(),
      sheetName: sheet.getName(),
    };
    return this.signed(JSON.stringify(body), "/reconcile");
  }

  recordReconcile(result: PostResult): string {
    let summary: string;
    if ("networkError" in result) summary = `failed: ${result.networkError}`;
    else if (result.status !== 200)
      summary = `failed: HTTP ${result.status} ${result.body.slice(0, 200)}`;
    else {
      try {
        const report = JSON.parse(result.body) as {
          rows?: number;
          counts?: Record<string, number>;
          conflicts?: number;
        };
        const fixed = Object.entries(report.counts ?? {})
          .filter(([finding]) => finding !== "in-sync")
          .map(([finding, n]) => `${n} ${finding}`);
        summary = `${report.rows ?? 0} rows compared; ${fixed.length ? fixed.join(", ") : "all in sync"}`;
      } catch {
        summary = "done";
      }
    }
    this.state.updateStatus({ lastReconcile: { at: this.env.now(), summary } });
    return summary;
  }
}
