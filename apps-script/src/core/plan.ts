import type { HeaderInfo } from "./header";
import { cellToRowId } from "./ids";
import { ownTime, type Outbox } from "./outbox";
import type { ChangeItem, DeleteItem } from "./payload";
import { modifiedCellToMs, rowFields, rowModified } from "./scan";

export interface FlushPlan {
  readonly changes: ChangeItem[];
  readonly deletes: DeleteItem[];
  /** Row id → outbox seq at read time, to acknowledge only unchanged entries. */
  readonly sent: Map<string, number>;
  /** Seq of the resync request being served, if any. */
  readonly resyncSeq: number | null;
  /** True when the outbox was modified (vanished upserts became deletes). */
  readonly outboxChanged: boolean;
}

/**
 * Turns the outbox into webhook items using the rows' CURRENT values. An
 * upsert whose row is gone becomes a delete, and a delete whose row is back is
 * over: the sheet is the truth.
 */
export function planFlush(
  header: HeaderInfo,
  rows: readonly (readonly unknown[])[],
  outbox: Outbox,
  now: number,
): FlushPlan {
  const rowById = new Map<string, readonly unknown[]>();
  // An id on two rows (a row pasted with its hidden cells since the last scan): which one is
  // the item is the next scan's to say; sending either now could give the item the copy's cells.
  const onTwoRows = new Set<string>();
  for (const row of rows) {
    const id = cellToRowId(row[header.idColumn]);
    if (id === "") continue;
    if (rowById.has(id)) onTwoRows.add(id);
    else rowById.set(id, row);
  }
  const names = new Set(header.dataColumns.map((c) => c.name));
  const resync = outbox.resync;
  const values = (row: readonly unknown[]): ChangeItem["values"] =>
    Object.fromEntries(rowFields(header, row));
  // The sync writes `_rev` with the cells it writes: the values read with it include those writes.
  const rev = (row: readonly unknown[]): number =>
    header.revColumn >= 0 ? modifiedCellToMs(row[header.revColumn]) : 0;

  let outboxChanged = false;
  for (const id of outbox.ids()) {
    const op = outbox.get(id)?.op;
    if (op === "upsert" && !rowById.has(id)) {
      outbox.delete(id, now);
      outboxChanged = true;
    } else if (op === "delete" && rowById.has(id) && !onTwoRows.has(id)) {
      // Back in the sheet since: the flush appended it again (the server kept the row, and the
      // reply to the delete was lost), or an undo a scan took for content it knew. Sent late,
      // the delete would remove what came after it.
      outbox.drop(id);
      outboxChanged = true;
    }
  }

  const changes: ChangeItem[] = [];
  const deletes: DeleteItem[] = [];
  const sent = new Map<string, number>();
  for (const id of outbox.ids()) {
    const entry = outbox.get(id);
    if (!entry || onTwoRows.has(id)) continue;
    sent.set(id, entry.seq);
    if (entry.op === "delete") {
      deletes.push(
        entry.displaced
          ? { id, modifiedAt: entry.modifiedAt, displaced: true }
          : { id, modifiedAt: entry.modifiedAt },
      );
      continue;
    }
    const row = rowById.get(id) ?? [];
    // Field names listed must still exist; a pending resync (renamed columns) sends whole rows.
    const fields = resync ? [] : (entry.fields ?? []).filter((f) => names.has(f));
    const modifiedAt = Math.max(entry.modifiedAt, resync?.at ?? 0);
    // Each field's own time, where earlier than the row's (a resync's time covers them all).
    const fieldsAt = Object.fromEntries(
      fields.flatMap((f) => {
        const at = ownTime(entry.fieldsAt, f);
        return at !== undefined && at < modifiedAt ? [[f, at]] : [];
      }),
    );
    changes.push(
      fields.length > 0 && entry.fields !== null
        ? {
            id,
            modifiedAt,
            rev: rev(row),
            values: values(row),
            fields,
            ...(Object.keys(fieldsAt).length ? { fieldsAt } : {}),
          }
        : { id, modifiedAt, rev: rev(row), values: values(row) },
    );
  }

  if (resync) {
    for (const [id, row] of rowById) {
      if (sent.has(id)) continue;
      const modifiedAt = Math.max(resync.at, rowModified(header, row) || now);
      if (onTwoRows.has(id)) {
        // Sent on its own once the next scan has said which row it is.
        if (!outbox.get(id)) {
          outbox.upsert(id, modifiedAt, null);
          outboxChanged = true;
        }
        continue;
      }
      changes.push({
        id,
        modifiedAt,
        rev: rev(row),
        values: values(row),
      });
    }
  }
  return { changes, deletes, sent, resyncSeq: resync?.seq ?? null, outboxChanged };
}
