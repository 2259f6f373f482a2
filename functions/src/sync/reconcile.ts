/**
 * The reconcile: read the whole tab once, read everything Firestore holds
 * for it, and repair every difference by the three-way merge (see
 * core/reconcile.ts). Repairs of Firestore are committed here, in row
 * transactions; repairs of the sheet become outbox entries the flush
 * writes. It reports what it found and fixed.
 *
 * Sheets API cost: one values read of the whole tab (header, every row,
 * every column), plus, only when rows differ, one typed read per 100 blocks
 * of differing rows (plus one spreadsheets.get the first time, cached); the
 * repairs of the sheet go through the flush's usual 1-3 write requests.
 */
import { columnNameProblem, isRowId } from "../../../contract/src/limits.js";
import { readLayout, type SheetLayout } from "../core/flushPlan.js";
import {
  documentRow,
  heldItems,
  reconcileRow,
  showsDocument,
  type Finding,
} from "../core/reconcile.js";
import type { SheetRow } from "../core/merge.js";
import { looseRows, type SheetsGateway } from "../sheets/gateway.js";
import { rememberLayout } from "./flush.js";
import type {
  ReconcileReport,
  ReconcileTrigger,
  RowRecord,
  RowUpdate,
  ScheduleFlush,
  SyncStore,
} from "./ports.js";
import { emptyRecord, rowUpdate } from "./rows.js";
import { flushTaskId, windowOf } from "./schedule.js";
import { COMMITS_IN_FLIGHT, ROWS_PER_COMMIT } from "./tuning.js";

export interface ReconcileDeps {
  store: SyncStore;
  sheet: SheetsGateway;
  schedule: ScheduleFlush;
  now: () => number;
}

const IDS_PER_FINDING = 100;

export async function reconcileSheet(
  deps: ReconcileDeps,
  trigger: ReconcileTrigger,
): Promise<ReconcileReport> {
  const { store, sheet } = deps;
  const started = deps.now();
  const info = await store.sheet();
  const tab =
    typeof info.sheetId === "number" && info.timeZone
      ? { sheetId: info.sheetId, timeZone: info.timeZone }
      : await sheet.tab();
  // Firestore first, then the sheet: a row whose record is unchanged when its transaction runs
  // had nothing land in between (a webhook, a flush, an event), so the sheet read is not older
  // than what the row's state knows.
  const records = await store.allRows();
  const all = await sheet.readValues();
  const layout: SheetLayout = readLayout(all.header, (n) => columnNameProblem(n) === null);
  await rememberLayout(store, info, tab, layout);
  const values = looseRows(all.rows, layout);

  // The sheet's rows by id. An id on several rows (a row pasted with its hidden cells) is left
  // out: which row is the original is the script's to say, and comparing the copy would give it
  // the item's document.
  const loose = new Map<string, (typeof values)[number]>();
  const duplicateIds = new Set<string>();
  for (const row of values) {
    if (!row.id) continue;
    if (loose.has(row.id)) duplicateIds.add(row.id);
    else loose.set(row.id, row);
  }

  // Rows that already show their document need no typed read: their values are the document's.
  const sheetRows = new Map<string, SheetRow>();
  const formulas = new Map<string, Set<string>>();
  const needTyped: number[] = [];
  for (const [rowId, row] of loose) {
    if (duplicateIds.has(rowId)) continue;
    const doc = records.get(rowId)?.doc;
    if (doc && showsDocument(row.cells, doc, layout.columns, tab.timeZone)) {
      sheetRows.set(rowId, {
        values: documentRow(doc, layout.columns),
        rev: row.rev,
        modifiedAt: row.modifiedAt,
      });
    } else needTyped.push(row.rowNumber);
  }
  if (needTyped.length) {
    const typed = await sheet.readRows(needTyped, layout, tab.timeZone);
    for (const row of typed.values()) {
      if (!row.id || loose.get(row.id)?.rowNumber !== row.rowNumber) continue; // moved meanwhile
      sheetRows.set(row.id, {
        values: Object.fromEntries(layout.columns.map((c) => [c, row.cells[c]?.value ?? null])),
        rev: row.rev,
        modifiedAt: row.modifiedAt,
      });
      formulas.set(row.id, new Set(layout.columns.filter((c) => row.cells[c]?.formula)));
    }
  }

  const ids = [...new Set([...loose.keys(), ...records.keys()])].filter(
    (id) => isRowId(id) && !duplicateIds.has(id) && (sheetRows.has(id) || !loose.has(id)),
  );
  // When the script last read the sheet for a webhook the sync took: it had a chance to follow
  // whatever moved before then.
  // (Or reported reading it with nothing to send: an idle sheet sends no rows.)
  let scriptReadAt = info.scriptReadAt ?? 0;
  for (const r of records.values())
    scriptReadAt = Math.max(scriptReadAt, r.state?.sheetReadAt ?? 0);
  const holder = heldItems(
    [...records].map(([id, r]) => [id, r.state] as const),
    layout.columns,
  );
  const counts: Partial<Record<Finding, number>> = {};
  const found: Partial<Record<Finding, string[]>> = {};
  let conflicts = 0;
  let queued = false;
  for (const [rowId, record] of records) {
    if (isRowId(rowId) || !record.doc) continue;
    counts["unusable-id"] = (counts["unusable-id"] ?? 0) + 1;
    const list = (found["unusable-id"] ??= []);
    if (list.length < IDS_PER_FINDING) list.push(rowId);
  }
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += ROWS_PER_COMMIT)
    chunks.push(ids.slice(i, i + ROWS_PER_COMMIT));
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const part = chunks[next++]!;
      const out = await store.update(part, (rows) => {
        const updates = new Map<string, RowUpdate>();
        const findings: Array<[string, Finding, number]> = [];
        let anyQueued = false;
        const now = deps.now();
        for (const rowId of part) {
          const record: RowRecord = rows.get(rowId) ?? emptyRecord(rowId);
          if (!sameSnapshot(records.get(rowId), record)) {
            // Something changed the row after the reads: what it did is newer than them.
            findings.push([rowId, "changed-meanwhile", 0]);
            continue;
          }
          const decision = reconcileRow({
            rowId,
            state: record.state,
            doc: record.doc,
            columns: layout.columns,
            sheetRow: sheetRows.get(rowId) ?? null,
            sheetFormulas: formulas.get(rowId),
            holdsAnother:
              sheetRows.has(rowId) && holder(rowId, sheetRows.get(rowId)!.values) !== null,
            scriptReadAt,
            now,
          });
          const { update, queued: q } = rowUpdate(record, decision, now);
          if (Object.keys(update).length) updates.set(rowId, update);
          anyQueued ||= q;
          // A change already queued for the sheet is on its way, not a repair.
          const finding =
            decision.finding === "firestore-to-sheet" && record.outbox && !q
              ? "in-sync"
              : decision.finding;
          findings.push([rowId, finding, decision.conflicts.length]);
        }
        return { updates, result: { findings, anyQueued } };
      });
      queued ||= out.anyQueued;
      for (const [rowId, finding, n] of out.findings) {
        // A row gone from both sides long ago (its delete remembered) is not a row any more.
        if (finding === "in-sync" && !loose.has(rowId) && !records.get(rowId)?.doc) continue;
        counts[finding] = (counts[finding] ?? 0) + 1;
        conflicts += n;
        if (finding !== "in-sync") {
          const list = (found[finding] ??= []);
          if (list.length < IDS_PER_FINDING) list.push(rowId);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(COMMITS_IN_FLIGHT, chunks.length) }, worker));
  if (queued) {
    const window = windowOf(deps.now());
    await deps.schedule(flushTaskId(store.sheetKey, window.label), window.runAt);
  }

  const report: ReconcileReport = {
    at: started,
    trigger,
    rows: Object.values(counts).reduce((a, b) => a + (b ?? 0), 0),
    counts,
    conflicts,
    sheetsRequests: { ...sheet.requests },
    durationMs: deps.now() - started,
    ids: found,
    duplicateIds: [...duplicateIds].slice(0, IDS_PER_FINDING),
  };
  await store.saveReport(report);
  return report;
}

/** Are the row's state and document what the reconcile read at its start? */
function sameSnapshot(read: RowRecord | undefined, now: RowRecord): boolean {
  const docAt = (r: RowRecord | undefined) => (r?.doc ? r.doc.updateTime : null);
  return (
    docAt(read) === docAt(now) && JSON.stringify(read?.state ?? null) === JSON.stringify(now.state)
  );
}
