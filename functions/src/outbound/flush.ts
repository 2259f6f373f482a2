/**
 * One flush of a sheet's outbox: read the pending rows' documents, locate
 * the rows in the sheet with one read, read the cells it will change (with
 * their formulas), then at most one values.batchUpdate, one values.append
 * and one spreadsheets.batchUpdate (row deletions, bottom up), whatever the
 * number of rows. Outbox entries are cleared after the sheet accepted the
 * writes, and only if they did not change meanwhile.
 */
import { FieldValue, Timestamp, type DocumentData, type Firestore } from "firebase-admin/firestore";
import { ID_COLUMN, MODIFIED_COLUMN } from "../core/batch.js";
import type { SheetCell } from "../core/cells.js";
import {
  appendRows,
  columnIndex,
  columnLetter,
  deleteRanges,
  planCellWrites,
  planLocate,
  quoteSheetName,
  readBlocks,
  SheetLayoutError,
  type FlushConflict,
  type PendingRow,
  type SheetIndex,
} from "../core/flushPlan.js";
import type { OutboxEntry } from "../core/outbox.js";
import { classifySheetsError } from "../core/sheetErrors.js";
import {
  CONFLICTS_COLLECTION,
  FLUSH_MAX_ROWS,
  FLUSH_MAX_WAIT_MS,
  FLUSH_QUIET_MS,
  OUTBOX_COLLECTION,
  SHEETS_COLLECTION,
  sheetKey,
  type SyncConfig,
} from "../config.js";
import { readSyncMeta, rowValues } from "../ingest/rowStore.js";
import type { SheetsApi } from "../sheets/client.js";
import { readOutboxEntry } from "./rowTrigger.js";
import { flushTaskId, type FlushTask } from "./schedule.js";

export interface FlushDeps {
  db: Firestore;
  api: SheetsApi;
  config: SyncConfig;
  now: () => number;
  schedule: (task: FlushTask, id: string, runAt: number) => Promise<unknown>;
}

export interface FlushReport {
  outcome: "empty" | "deferred" | "flushed" | "permanent_error";
  rows: number;
  updated: number;
  appended: number;
  deleted: number;
  conflicts: number;
  unchanged: number;
  formulaCellsKept: number;
  requests: { reads: number; writes: number };
  error?: string;
}

interface Layout {
  sheetId: number;
  timeZone: string;
  idColumn: number | null;
  modifiedColumn: number | null;
}

const READ_RANGES_PER_REQUEST = 100;

const CONFLICT_RULES: Record<FlushConflict["reason"], string> = {
  sheet_newer: "sheet-edit-is-newer",
  deleted_in_sheet: "row-deleted-in-sheet",
  too_long_for_sheet: "value-longer-than-a-cell",
};

export async function flushSheet(
  deps: FlushDeps,
  task: FlushTask,
  taskId: string,
): Promise<FlushReport> {
  const { db, config } = deps;
  const key = sheetKey(task.spreadsheetId, task.sheetName);
  const report: FlushReport = {
    outcome: "empty",
    rows: 0,
    updated: 0,
    appended: 0,
    deleted: 0,
    conflicts: 0,
    unchanged: 0,
    formulaCellsKept: 0,
    requests: { reads: 0, writes: 0 },
  };

  const queued = await db
    .collection(OUTBOX_COLLECTION)
    .where("sheetKey", "==", key)
    .limit(FLUSH_MAX_ROWS)
    .get();
  const entries = queued.docs
    .map((d) => ({ ref: d.ref, entry: readOutboxEntry(d.data()), data: d.data() }))
    .filter(
      (e): e is { ref: typeof e.ref; entry: OutboxEntry; data: DocumentData } => e.entry !== null,
    );
  if (entries.length === 0) return report;

  // Debounce: wait for a quiet moment, but never hold a row longer than the max wait.
  const now = deps.now();
  const newest = Math.max(...entries.map((e) => Number(e.data.queuedAt) || 0));
  const oldest = Math.min(
    ...entries.map((e) => Number(e.data.firstQueuedAt ?? e.data.queuedAt) || 0),
  );
  if (now - newest < FLUSH_QUIET_MS && now - oldest < FLUSH_MAX_WAIT_MS) {
    await deps.schedule(task, flushTaskId(key, `defer:${taskId}`), now + FLUSH_QUIET_MS);
    return { ...report, outcome: "deferred", rows: entries.length };
  }
  report.rows = entries.length;

  const docs = await db.getAll(
    ...entries.map((e) => db.collection(config.collection).doc(e.entry.rowId)),
  );
  const pending: PendingRow[] = entries.map((e, i) => {
    const snap = docs[i]!;
    const data = snap.exists ? snap.data()! : null;
    if (!data) return { entry: e.entry, doc: null };
    const values = rowValues(data);
    const sync = readSyncMeta(data);
    // A column the row was synced with and no longer has was deleted: clear its cell.
    for (const c of sync?.columns ?? []) if (!(c in values)) values[c] = null;
    return { entry: e.entry, doc: { values, sync } };
  });

  const sheetRef = db.collection(SHEETS_COLLECTION).doc(key);
  const sheetState = (await sheetRef.get()).data() ?? {};
  const sheet = quoteSheetName(task.sheetName);
  const api = deps.api.spreadsheets;

  try {
    const layout = await loadLayout(sheetState);
    const index = await locate(layout);
    const plan = planLocate(index, pending);

    // Read the cells of the rows to update, formulas included.
    const width = index.header.length;
    const cells = new Map<number, SheetCell[]>();
    // Rows to delete are read too, to check they still hold their ids before they go.
    const blocks = readBlocks([...plan.updates, ...plan.deletes].map((u) => u.rowNumber));
    for (let i = 0; i < blocks.length; i += READ_RANGES_PER_REQUEST) {
      const part = blocks.slice(i, i + READ_RANGES_PER_REQUEST);
      report.requests.reads++;
      const res = await api.values.batchGet({
        spreadsheetId: task.spreadsheetId,
        ranges: part.map(([from, to]) => `${sheet}!A${from}:${columnLetter(width - 1)}${to}`),
        valueRenderOption: "FORMULA",
        majorDimension: "ROWS",
      });
      (res.data.valueRanges ?? []).forEach((vr, k) => {
        const [from, to] = part[k]!;
        for (let r = from; r <= to; r++)
          cells.set(r, ((vr.values ?? [])[r - from] ?? []) as SheetCell[]);
      });
    }
    const cellPlan = planCellWrites(
      task.sheetName,
      index.header,
      plan.updates,
      (r) => cells.get(r) ?? [],
      layout.timeZone,
    );

    const idCol = columnIndex(index.header, ID_COLUMN);
    const deletes = plan.deletes.filter(
      (d) => String(cells.get(d.rowNumber)?.[idCol] ?? "").trim() === d.rowId,
    );
    const moved = new Set([
      ...cellPlan.moved,
      ...plan.deletes.filter((d) => !deletes.includes(d)).map((d) => d.rowId),
    ]);

    if (cellPlan.writes.length) {
      report.requests.writes++;
      await api.values.batchUpdate({
        spreadsheetId: task.spreadsheetId,
        requestBody: { valueInputOption: "USER_ENTERED", data: cellPlan.writes },
      });
    }
    // Deletes before the append: an append can land above a blank row inside the data and shift
    // the rows below it, and deletes go by row number.
    if (deletes.length) {
      report.requests.writes++;
      await api.batchUpdate({
        spreadsheetId: task.spreadsheetId,
        requestBody: {
          requests: deleteRanges(deletes.map((d) => d.rowNumber)).map((r) => ({
            deleteDimension: { range: { sheetId: layout.sheetId, dimension: "ROWS", ...r } },
          })),
        },
      });
    }

    if (plan.appends.length) {
      report.requests.writes++;
      await api.values.append({
        spreadsheetId: task.spreadsheetId,
        range: `${sheet}!A1`,
        valueInputOption: "USER_ENTERED",
        insertDataOption: "INSERT_ROWS",
        requestBody: { values: appendRows(index.header, plan.appends, layout.timeZone) },
      });
    }
    await recordConflicts(plan.conflicts, task, now);
    // Rows that moved under us stay queued: the next flush finds them where they are now.
    await acknowledge(
      entries.filter((e) => !moved.has(e.entry.rowId)).map((e) => ({ ref: e.ref, entry: e.entry })),
    );
    if (moved.size) {
      await deps.schedule(task, flushTaskId(key, `moved:${taskId}`), deps.now() + FLUSH_QUIET_MS);
    }
    await sheetRef.set(
      { lastFlushAt: Timestamp.fromMillis(deps.now()), lastError: FieldValue.delete() },
      { merge: true },
    );

    report.outcome = "flushed";
    report.updated = plan.updates.length - cellPlan.unchanged.length;
    report.unchanged = cellPlan.unchanged.length + plan.settled.length;
    report.appended = plan.appends.length;
    report.deleted = deletes.length;
    report.conflicts = plan.conflicts.length;
    report.formulaCellsKept = [...cellPlan.formulaSkips.values()].reduce((n, c) => n + c.length, 0);
    if (entries.length === FLUSH_MAX_ROWS) {
      await deps.schedule(task, flushTaskId(key, `more:${taskId}`), deps.now());
    }
    return report;
  } catch (err) {
    const classified =
      err instanceof SheetLayoutError
        ? { kind: "permanent" as const, status: null, reason: err.message }
        : classifySheetsError(err);
    if (classified.kind === "transient") throw err;
    // Permanent: say so where a person looks, keep the rows queued, and let the task end. The
    // cached layout is dropped: a tab recreated under the same name has a new sheetId.
    await sheetRef.set(
      {
        lastError: {
          at: Timestamp.fromMillis(deps.now()),
          status: classified.status,
          reason: classified.reason,
        },
        sheetId: FieldValue.delete(),
        timeZone: FieldValue.delete(),
        idColumn: FieldValue.delete(),
        modifiedColumn: FieldValue.delete(),
      },
      { merge: true },
    );
    return { ...report, outcome: "permanent_error", error: classified.reason };
  }

  async function loadLayout(state: DocumentData): Promise<Layout> {
    if (typeof state.sheetId === "number" && typeof state.timeZone === "string") {
      return {
        sheetId: state.sheetId,
        timeZone: state.timeZone,
        idColumn: typeof state.idColumn === "number" ? state.idColumn : null,
        modifiedColumn: typeof state.modifiedColumn === "number" ? state.modifiedColumn : null,
      };
    }
    report.requests.reads++;
    const res = await api.get({
      spreadsheetId: task.spreadsheetId,
      fields: "properties.timeZone,sheets.properties(sheetId,title)",
    });
    const tab = (res.data.sheets ?? []).find((s) => s.properties?.title === task.sheetName);
    if (!tab || typeof tab.properties?.sheetId !== "number") {
      throw new SheetLayoutError(
        `the spreadsheet has no tab named "${task.sheetName}" (SHEET_SYNC_SHEET_NAME)`,
      );
    }
    const layout = {
      sheetId: tab.properties.sheetId,
      timeZone: res.data.properties?.timeZone ?? "Etc/UTC",
    };
    await sheetRef.set(layout, { merge: true });
    return { ...layout, idColumn: null, modifiedColumn: null };
  }

  /** Row 1 and the two bookkeeping columns: one read when the cached positions still hold. */
  async function locate(layout: Layout): Promise<SheetIndex> {
    const column = (i: number) => `${sheet}!${columnLetter(i)}2:${columnLetter(i)}`;
    const ranges = [`${sheet}!1:1`];
    if (layout.idColumn !== null && layout.modifiedColumn !== null) {
      ranges.push(column(layout.idColumn), column(layout.modifiedColumn));
    }
    report.requests.reads++;
    let res = await api.values.batchGet({
      spreadsheetId: task.spreadsheetId,
      ranges,
      valueRenderOption: "FORMULA",
      majorDimension: "COLUMNS",
    });
    const header = (res.data.valueRanges?.[0]?.values ?? []).map((c) => String(c?.[0] ?? ""));
    const idColumn = columnIndex(header, ID_COLUMN);
    const modifiedColumn = columnIndex(header, MODIFIED_COLUMN);
    if (idColumn < 0 || modifiedColumn < 0) return { header, ids: [], modified: [] };

    let columnsAt = 1;
    if (idColumn !== layout.idColumn || modifiedColumn !== layout.modifiedColumn) {
      // Columns moved (or first flush): read them where they are now, and remember.
      report.requests.reads++;
      res = await api.values.batchGet({
        spreadsheetId: task.spreadsheetId,
        ranges: [column(idColumn), column(modifiedColumn)],
        valueRenderOption: "FORMULA",
        majorDimension: "COLUMNS",
      });
      columnsAt = 0;
    }
    const columns = header
      .map((h) => h.trim())
      .filter((h) => h !== "" && h !== ID_COLUMN && h !== MODIFIED_COLUMN);
    const known = sheetState.columns;
    if (
      idColumn !== layout.idColumn ||
      modifiedColumn !== layout.modifiedColumn ||
      !Array.isArray(known) ||
      known.join("\u0000") !== columns.join("\u0000")
    ) {
      await sheetRef.set({ idColumn, modifiedColumn, columns }, { merge: true });
    }
    const values = res.data.valueRanges ?? [];
    return {
      header,
      ids: (values[columnsAt]?.values?.[0] ?? []) as SheetCell[],
      modified: (values[columnsAt + 1]?.values?.[0] ?? []) as SheetCell[],
    };
  }

  async function recordConflicts(
    conflicts: FlushConflict[],
    t: FlushTask,
    at: number,
  ): Promise<void> {
    await Promise.all(
      conflicts.map(async (c) => {
        const id = `${config.collection}:${c.rowId}:${c.entry.changedAt}:firestore-${c.entry.op}`;
        try {
          await db
            .collection(CONFLICTS_COLLECTION)
            .doc(id)
            .create({
              collection: config.collection,
              rowId: c.rowId,
              rule: CONFLICT_RULES[c.reason],
              detectedAt: Timestamp.fromMillis(at),
              kept: {
                origin: "sheet",
                op: c.reason === "sheet_newer" ? "upsert" : "delete",
                modifiedAt: c.sheetModifiedAt,
                values: null,
              },
              rejected: {
                origin: "firestore",
                op: c.entry.op,
                modifiedAt: c.entry.changedAt,
                values: c.values,
              },
              spreadsheetId: t.spreadsheetId,
              sheetName: t.sheetName,
            });
        } catch (err) {
          if ((err as { code?: number }).code !== 6) throw err; // ALREADY_EXISTS: recorded by an earlier try
        }
      }),
    );
  }

  async function acknowledge(
    done: Array<{ ref: FirebaseFirestore.DocumentReference; entry: OutboxEntry }>,
  ) {
    for (let i = 0; i < done.length; i += 300) {
      const part = done.slice(i, i + 300);
      await db.runTransaction(async (tx) => {
        const snaps = await tx.getAll(...part.map((p) => p.ref));
        snaps.forEach((snap, k) => {
          const now = readOutboxEntry(snap.data());
          const was = part[k]!.entry;
          // Changed while we were writing: leave it for the next flush.
          if (now && now.op === was.op && now.changedAt === was.changedAt) tx.delete(snap.ref);
        });
      });
    }
  }
}
