/**
 * One flush of a tab's outbox (Firestore → sheet):
 *  1. read the queued entries; wait while rows are still changing;
 *  2. locate the rows by the `_id` column and read them as typed cells;
 *  3. per row, in transactions with the current document and state: plan
 *     (planFlushRow) and record the cell writes as in flight;
 *  4. at most one values.batchUpdate (cells and `_rev`), one row-deletion
 *     batch and one append, whatever the number of rows;
 *  5. commit: the written values become the base; the outbox entries follow
 *     from the new states.
 * A Sheets error that will not go away by retrying (no permission, no tab)
 * is recorded and the task acknowledged; anything else throws so Cloud
 * Tasks retries. One row the Sheets API refuses is set aside, not the flush.
 */
import { toSheetInput } from "../core/cells.js";
import { conflict } from "../core/conflicts.js";
import {
  afterFlushAction,
  columnRuns,
  planFlushRow,
  readLayout,
  SheetLayoutError,
  type FlushAction,
  type SheetLayout,
} from "../core/flushPlan.js";
import { observeDoc } from "../core/rowState.js";
import { classifySheetsError, SheetsApiError } from "../core/sheetErrors.js";
import type { CellValue, RowValues } from "../core/values.js";
import { ID_HEADER, REV_HEADER, columnNameProblem } from "../../../contract/src/limits.js";
import type { CellWrite, LocatedRow, SheetsGateway, Tab } from "../sheets/gateway.js";
import type { RowUpdate, ScheduleFlush, SheetInfo, SyncStore } from "./ports.js";
import { emptyRecord, rowUpdate, stateWithWrite } from "./rows.js";
import { flushTaskId } from "./schedule.js";
import {
  FLUSH_MAX_ROWS,
  FLUSH_MAX_WAIT_MS,
  FLUSH_QUIET_MS,
  PARKED_RECHECK_MS,
  ROWS_PER_COMMIT,
  SHARED_ID_RETRY_MS,
} from "./tuning.js";

export interface FlushDeps {
  store: SyncStore;
  sheet: SheetsGateway;
  schedule: ScheduleFlush;
  now: () => number;
  /**
   * A reconcile, now or at `at` (ms): once the tab works again after a recorded error, and a
   * while after rows were set aside.
   */
  requestReconcile?: (at?: number) => Promise<unknown>;
}

export interface FlushReport {
  outcome: "empty" | "deferred" | "flushed" | "permanent_error";
  rows: number;
  written: number;
  appended: number;
  deleted: number;
  /** Rows waiting for sheet edits the sync has not seen yet. */
  parked: number;
  conflicts: number;
  /** Rows the Sheets API refused (recorded, set aside). */
  refused: number;
  requests: { reads: number; writes: number };
  error?: string;
}

interface Planned {
  rowId: string;
  action: Exclude<FlushAction, { kind: "none" }>;
}

export async function flushSheet(deps: FlushDeps, taskId: string): Promise<FlushReport> {
  const { store, sheet } = deps;
  const key = store.sheetKey;
  const report: FlushReport = {
    outcome: "empty",
    rows: 0,
    written: 0,
    appended: 0,
    deleted: 0,
    parked: 0,
    conflicts: 0,
    refused: 0,
    requests: sheet.requests,
  };
  const entries = await store.queued(FLUSH_MAX_ROWS);
  if (entries.length === 0) return report;

  // Debounce: wait for a quiet moment, but never hold a row longer than the max wait.
  const now = deps.now();
  const newest = Math.max(...entries.map((e) => e.queuedAt));
  const oldest = Math.min(...entries.map((e) => e.firstQueuedAt));
  if (now - newest < FLUSH_QUIET_MS && now - oldest < FLUSH_MAX_WAIT_MS) {
    await deps.schedule(flushTaskId(key, `defer:${taskId}`), now + FLUSH_QUIET_MS);
    return { ...report, outcome: "deferred", rows: entries.length };
  }
  report.rows = entries.length;
  const info = await store.sheet();

  let tab: Tab;
  let layout: SheetLayout;
  let sheetRows: Map<string, LocatedRow>;
  const moved = new Set<string>();
  const shared = new Set<string>();
  try {
    tab =
      typeof info.sheetId === "number" && info.timeZone
        ? { sheetId: info.sheetId, timeZone: info.timeZone }
        : await sheet.tab();
    const index = await sheet.index(info.idColumn ?? null);
    layout = readLayout(index.header, (name) => columnNameProblem(name) === null);
    await rememberLayout(store, info, tab, layout);
    const rowOf = new Map<string, number>();
    index.ids.forEach((id, i) => {
      if (!id) return;
      // An id on two rows (a row pasted with its hidden cells): which is the original is the
      // script's to say, on its next run. Writing into the copy would give it this item's values.
      if (rowOf.has(id)) shared.add(id);
      else rowOf.set(id, i + 2);
    });
    for (const id of shared) rowOf.delete(id);
    for (const e of entries) if (shared.has(e.rowId)) moved.add(e.rowId);
    const located = entries.flatMap((e) => rowOf.get(e.rowId) ?? []);
    const read = await sheet.readRows(located, layout, tab.timeZone);
    sheetRows = new Map();
    for (const e of entries) {
      const n = rowOf.get(e.rowId);
      if (n === undefined) continue;
      const row = read.get(n);
      // The rows moved between the two reads: find them again next time.
      if (!row || row.id !== e.rowId) moved.add(e.rowId);
      else sheetRows.set(e.rowId, row);
    }
  } catch (err) {
    return permanentOrThrow(err);
  }

  // Plan inside transactions, on the documents and states as they are now.
  const planned: Planned[] = [];
  for (let i = 0; i < entries.length; i += ROWS_PER_COMMIT) {
    const part = entries.slice(i, i + ROWS_PER_COMMIT).filter((e) => !moved.has(e.rowId));
    const out = await store.update(
      part.map((e) => e.rowId),
      (rows) => {
        const updates = new Map<string, RowUpdate>();
        const actions: Planned[] = [];
        let parked = 0;
        let conflicts = 0;
        for (const e of part) {
          const record = rows.get(e.rowId) ?? emptyRecord(e.rowId);
          const plan = planFlushRow({
            rowId: e.rowId,
            state: record.state,
            doc: record.doc,
            layout,
            sheetRow: sheetRows.get(e.rowId) ?? null,
            now,
          });
          if (plan.state.parked) parked++;
          conflicts += plan.conflicts.length;
          if (plan.action.kind === "none") {
            updates.set(e.rowId, rowUpdate(record, plan, now).update);
            continue;
          }
          // The outbox entry stays until the write has landed.
          const update: RowUpdate = { state: stateWithWrite(record, plan.doc, plan.state) };
          if (plan.doc) update.doc = plan.doc;
          if (plan.conflicts.length) update.conflicts = plan.conflicts;
          updates.set(e.rowId, update);
          actions.push({ rowId: e.rowId, action: plan.action });
        }
        return { updates, result: { actions, parked, conflicts } };
      },
    );
    planned.push(...out.actions);
    report.parked += out.parked;
    report.conflicts += out.conflicts;
  }

  const done: Planned[] = [];
  const refused: Array<{ rowId: string; reason: string; values: RowValues }> = [];
  try {
    const writes = planned.filter((p) => p.action.kind === "write");
    const appends = planned.filter((p) => p.action.kind === "append");
    const deletes = planned.filter((p) => p.action.kind === "delete");
    // One row the API refuses (a 400) must not stall the others: halve until it is alone.
    await isolating(
      writes,
      (part) => sheet.writeCells(part.flatMap((p) => cellWrites(p))),
      done,
      refused,
    );
    if (deletes.length) {
      await sheet.deleteRows(
        tab.sheetId,
        deletes.map((p) => (p.action as { rowNumber: number }).rowNumber),
      );
      done.push(...deletes);
    }
    await isolating(
      appends,
      (part) => sheet.appendRows(part.map((p) => appendRow(p))),
      done,
      refused,
    );
  } catch (err) {
    // What landed before the error is recorded as in flight: the next read of the sheet settles it.
    return permanentOrThrow(err);
  }

  // Commit: what reached the sheet becomes the base; the outbox follows the new states.
  const outcome = new Map(done.map((p) => [p.rowId, p.action]));
  const failed = new Map(refused.map((r) => [r.rowId, r]));
  const commitIds = [...outcome.keys(), ...failed.keys()];
  for (let i = 0; i < commitIds.length; i += ROWS_PER_COMMIT) {
    const part = commitIds.slice(i, i + ROWS_PER_COMMIT);
    await store.update(part, (rows) => {
      const updates = new Map<string, RowUpdate>();
      const at = deps.now();
      for (const rowId of part) {
        const record = rows.get(rowId) ?? emptyRecord(rowId);
        if (!record.state) continue;
        const action = outcome.get(rowId);
        const refusal = failed.get(rowId);
        let state = action ? afterFlushAction(record.state, action) : record.state;
        const conflicts = [];
        if (refusal) {
          state = { ...state, inFlight: null, parked: true };
          conflicts.push(
            conflict(
              rowId,
              null,
              "refused-by-the-sheet",
              { side: "sheet", op: "update", at: null, values: null },
              {
                side: "firestore",
                op: "update",
                at: record.doc?.updateTime ?? null,
                values: refusal.values,
              },
            ),
          );
        }
        state = observeDoc(state, record.doc, layout.columns);
        updates.set(rowId, rowUpdate(record, { state, doc: null, conflicts }, at).update);
      }
      return { updates, result: null };
    });
  }

  for (const p of done) {
    if (p.action.kind === "write") report.written++;
    else if (p.action.kind === "append") report.appended++;
    else report.deleted++;
  }
  report.refused = refused.length;
  report.conflicts += refused.length;
  if (moved.size) {
    // A shared id waits for the script (its triggers run within seconds; its minute scan at most
    // a minute later): try again then, not every second.
    const wait = [...moved].some((id) => shared.has(id)) ? SHARED_ID_RETRY_MS : FLUSH_QUIET_MS;
    await deps.schedule(flushTaskId(key, `moved:${taskId}`), deps.now() + wait);
  }
  if (entries.length === FLUSH_MAX_ROWS)
    await deps.schedule(flushTaskId(key, `more:${taskId}`), deps.now());
  await store.saveSheet({ lastFlushAt: deps.now(), lastError: null });
  if (info.lastError && deps.requestReconcile) await deps.requestReconcile();
  if (report.parked > 0 && deps.requestReconcile) {
    await deps.requestReconcile(deps.now() + PARKED_RECHECK_MS);
  }
  report.outcome = "flushed";
  return report;

  function cellWrites(p: Planned): CellWrite[] {
    const action = p.action as Extract<FlushAction, { kind: "write" }>;
    const cells = new Map<number, CellValue>();
    for (const [name, value] of Object.entries(action.cells)) {
      cells.set(layout.position.get(name)!, value);
    }
    const out: CellWrite[] = columnRuns([...cells.keys()]).map(([from, to]) => ({
      range: sheet.cellRange(action.rowNumber, from, to),
      values: [
        Array.from({ length: to - from + 1 }, (_, k) =>
          toSheetInput(cells.get(from + k) ?? null, tab.timeZone),
        ),
      ],
    }));
    // `_rev` last: a reader that sees the new revision sees the new cells.
    out.push({
      range: sheet.cellRange(action.rowNumber, layout.revColumn, layout.revColumn),
      values: [[action.rev]],
    });
    return out;
  }

  function appendRow(p: Planned) {
    const action = p.action as Extract<FlushAction, { kind: "append" }>;
    return layout.header.map((name, i) => {
      if (i === layout.idColumn || name === ID_HEADER) return `'${p.rowId}`;
      if (i === layout.revColumn || name === REV_HEADER) return action.rev;
      if (!layout.position.has(name) || layout.position.get(name) !== i) return "";
      return toSheetInput(action.values[name] ?? null, tab.timeZone);
    });
  }

  async function isolating(
    items: Planned[],
    write: (part: Planned[]) => Promise<void>,
    ok: Planned[],
    bad: typeof refused,
  ): Promise<void> {
    if (items.length === 0) return;
    try {
      await write(items);
      ok.push(...items);
    } catch (err) {
      const c = err instanceof SheetsApiError ? classifySheetsError(err.cause) : null;
      if (!c || c.kind !== "permanent" || c.status !== 400) throw err;
      if (items.length === 1) {
        const p = items[0]!;
        const values =
          p.action.kind === "write"
            ? p.action.cells
            : p.action.kind === "append"
              ? p.action.values
              : {};
        bad.push({ rowId: p.rowId, reason: c.reason, values });
        return;
      }
      const half = Math.ceil(items.length / 2);
      await isolating(items.slice(0, half), write, ok, bad);
      await isolating(items.slice(half), write, ok, bad);
    }
  }

  async function permanentOrThrow(err: unknown): Promise<FlushReport> {
    const classified =
      err instanceof SheetLayoutError
        ? { kind: "permanent" as const, status: null, reason: err.message }
        : err instanceof SheetsApiError
          ? classifySheetsError(err.cause)
          : null;
    // Firestore errors and the Sheets API's 429/5xx: Cloud Tasks retries the flush.
    if (!classified || classified.kind === "transient") throw err;
    // Say so where a person looks and keep the rows queued. The cached layout is dropped: a tab
    // recreated under the same name has a new sheetId.
    await store.saveSheet({
      lastError: { at: deps.now(), status: classified.status, reason: classified.reason },
      sheetId: undefined,
      timeZone: undefined,
      idColumn: undefined,
    });
    return { ...report, outcome: "permanent_error", error: classified.reason };
  }
}

/** Caches what locating rows needs (tab id, time zone, `_id` column) and the synced columns. */
export async function rememberLayout(
  store: SyncStore,
  info: SheetInfo,
  tab: Tab,
  layout: SheetLayout,
) {
  const patch: Partial<SheetInfo> = {};
  if (info.sheetId !== tab.sheetId || info.timeZone !== tab.timeZone) {
    patch.sheetId = tab.sheetId;
    patch.timeZone = tab.timeZone;
  }
  if (info.idColumn !== layout.idColumn) patch.idColumn = layout.idColumn;
  if (!info.columns || info.columns.join("\u0000") !== layout.columns.join("\u0000")) {
    patch.columns = layout.columns;
  }
  if (Object.keys(patch).length) await store.saveSheet(patch);
}
