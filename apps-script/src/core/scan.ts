import { encodeCell, type WireCell } from "../../../contract/src/cells";
import { fnv1a } from "./hash";
import type { HeaderInfo } from "./header";
import { assignRowIds, cellToRowId } from "./ids";
import type { SeenRow, Snapshot } from "./snapshot";

/**
 * Why the sheet is being scanned:
 * - edit: a user edit (onEdit) of the given block; rows in it that changed are
 *   queued with the edited columns as `fields`. Other changed rows are left for
 *   the reconcile so a racing onEdit for them keeps its precise `fields`.
 * - change: a structural change (onChange); only ids, deletions and new rows.
 * - reconcile: the periodic pass that also catches edits made by scripts/API.
 * Rows and columns are 0-based; data row 0 is sheet row 2.
 */
export type ScanMode =
  | {
      readonly kind: "edit";
      readonly headerEdited: boolean;
      readonly firstRow: number;
      readonly lastRow: number;
      readonly firstColumn: number;
      readonly lastColumn: number;
    }
  | { readonly kind: "change" }
  | { readonly kind: "reconcile" };

export interface ScanInput {
  readonly header: HeaderInfo;
  /** Data rows (sheet row 2 onwards), as returned by getValues(). */
  readonly rows: readonly (readonly unknown[])[];
  readonly snapshot: Snapshot | null;
  readonly now: number;
  readonly newId: () => string;
  readonly mode: ScanMode;
}

export interface QueuedUpsert {
  readonly id: string;
  readonly modifiedAt: number;
  /** Columns touched; null when unknown (the whole row is sent). */
  readonly fields: string[] | null;
}

export interface QueuedDelete {
  readonly id: string;
  readonly modifiedAt: number;
}

export interface ScanResult {
  /** Data row index → id to write into the `_id` column. */
  readonly idWrites: Map<number, string>;
  /** Data row index → ms (or "" to clear) to write into the `_modified` column. */
  readonly modifiedWrites: Map<number, number | string>;
  /** Data row index → value to write into the `_rev` column ("" clears a copied one). */
  readonly revWrites: Map<number, number | string>;
  readonly upserts: QueuedUpsert[];
  readonly deletes: QueuedDelete[];
  /**
   * Resend every row: null = no; 0 = with each row's own `_modified`;
   * otherwise with at least this time.
   */
  readonly resyncAt: number | null;
  readonly snapshot: Snapshot;
}

/** Field name/value pairs of a row, in sheet order. */
export function rowFields(header: HeaderInfo, row: readonly unknown[]): [string, WireCell][] {
  return header.dataColumns.map((c) => [c.name, encodeCell(row[c.index] ?? "")]);
}

/** Content hash of a row's fields, independent of column order. */
export function rowHash(header: HeaderInfo, row: readonly unknown[]): string {
  const pairs = rowFields(header, row).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return fnv1a(JSON.stringify(pairs));
}

/** The `_modified` cell as ms since epoch, 0 when empty or unreadable. */
export function modifiedCellToMs(value: unknown): number {
  let ms = NaN;
  if (typeof value === "number") ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === "string" && value.trim() !== "") ms = Number(value);
  return Number.isFinite(ms) && ms > 0 ? Math.trunc(ms) : 0;
}

export function rowHasContent(header: HeaderInfo, row: readonly unknown[]): boolean {
  return header.dataColumns.some((c) => {
    const v = row[c.index];
    return v !== "" && v !== null && v !== undefined;
  });
}

/** One row's bookkeeping cells: they travel together when content moves between rows. */
interface Bookkeeping {
  id: string;
  modified: unknown;
  rev: unknown;
}

/**
 * Content that moved between rows while the hidden `_id` column stayed put,
 * as a sort of the visible columns only does: each row whose content is now
 * exactly what another changed row held before takes that row's id (with its
 * `_modified` and `_rev`), so identities follow the content and nothing needs
 * sending. Taken only when at least two rows moved and at most one id in
 * three is left without content (a row also edited in the same run): one row
 * typed to equal another's old content is an edit, not a move.
 */
export function findMoves(
  header: HeaderInfo,
  rows: readonly (readonly unknown[])[],
  snapshot: Snapshot | null,
): Map<number, Bookkeeping | null> {
  const moves = new Map<number, Bookkeeping | null>();
  if (!snapshot || header.idColumn < 0) return moves;
  const hashes = rows.map((row) => (rowHasContent(header, row) ? rowHash(header, row) : ""));
  const changed: number[] = []; // rows whose id's content is gone from them
  const open = new Map<string, number[]>(); // content hash -> rows that could take an id
  rows.forEach((row, i) => {
    const id = cellToRowId(row[header.idColumn]);
    const seen = id ? snapshot.rows.get(id) : undefined;
    if (seen && seen.hash !== hashes[i]) changed.push(i);
    if (hashes[i] !== "" && (!id || (seen && seen.hash !== hashes[i]))) {
      const list = open.get(hashes[i]!);
      if (list) list.push(i);
      else open.set(hashes[i]!, [i]);
    }
  });
  if (changed.length < 2) return moves;
  const cell = (i: number, column: number) => (column >= 0 ? (rows[i]?.[column] ?? "") : "");
  const taken = new Map<number, Bookkeeping>();
  for (const from of changed) {
    const id = cellToRowId(rows[from]?.[header.idColumn]);
    const old = snapshot.rows.get(id)!;
    const to = open.get(old.hash)?.find((i) => i !== from && !taken.has(i));
    if (to === undefined) continue;
    taken.set(to, {
      id,
      modified: cell(from, header.modifiedColumn),
      rev: cell(from, header.revColumn),
    });
  }
  const movedIds = new Set([...taken.values()].map((b) => b.id));
  const stranded = changed.filter(
    (i) => !movedIds.has(cellToRowId(rows[i]?.[header.idColumn])) && hashes[i] !== "",
  ).length;
  if (taken.size < 2 || stranded * 3 > taken.size) return moves;
  for (const [to, bookkeeping] of taken) moves.set(to, bookkeeping);
  // A row whose id moved away and got none keeps no id: a new one if it has content.
  for (const from of changed) {
    if (!moves.has(from) && movedIds.has(cellToRowId(rows[from]?.[header.idColumn]))) {
      moves.set(from, null);
    }
  }
  return moves;
}

export function scanSheet(input: ScanInput): ScanResult {
  const { header, snapshot, now, mode } = input;
  const idWrites = new Map<number, string>();
  const modifiedWrites = new Map<number, number | string>();
  const revWrites = new Map<number, number | string>();
  const upserts: QueuedUpsert[] = [];
  const deletes: QueuedDelete[] = [];
  const seen = new Map<string, SeenRow>();

  // Content moved by a sort of the visible columns: ids (and their bookkeeping) follow it.
  const moves = findMoves(header, input.rows, snapshot);
  const rows = input.rows.map((row, i) => {
    const moved = moves.get(i);
    if (moved === undefined) return row;
    const copy = [...row];
    const put = (column: number, value: unknown, writes: Map<number, number | string>) => {
      if (column < 0) return;
      copy[column] = value;
      writes.set(i, value as number | string);
    };
    put(header.idColumn, moved?.id ?? "", idWrites as Map<number, number | string>);
    put(header.modifiedColumn, moved?.modified ?? "", modifiedWrites);
    put(header.revColumn, moved?.rev ?? "", revWrites);
    return copy;
  });

  const inEdit = (row: number): boolean =>
    mode.kind === "edit" && row >= mode.firstRow && row <= mode.lastRow;
  const editedFields =
    mode.kind === "edit"
      ? header.dataColumns
          .filter((c) => c.index >= mode.firstColumn && c.index <= mode.lastColumn)
          .map((c) => c.name)
      : [];

  const current = rows.map((row) => cellToRowId(row[header.idColumn]));
  const { ids, generated } = assignRowIds(
    current,
    (row) => rowHasContent(header, rows[row] ?? []),
    input.newId,
    (row) => inEdit(row) && !moves.has(row),
    // A copy pasted above its original, seen before its onEdit: the original keeps its id.
    (row, id) => snapshot?.rows.get(id)?.hash === rowHash(header, rows[row] ?? []),
  );

  ids.forEach((id, index) => {
    if (id === "") return;
    const row = rows[index] ?? [];
    if (id !== row[header.idColumn]) idWrites.set(index, id);

    const hash = rowHash(header, row);
    let modified = header.modifiedColumn >= 0 ? modifiedCellToMs(row[header.modifiedColumn]) : 0;
    const stamp = (): number => {
      if (header.modifiedColumn >= 0) modifiedWrites.set(index, now);
      modified = now;
      return now;
    };
    if (generated.has(index) && header.revColumn >= 0 && row[header.revColumn] !== "") {
      // A new or copied row: the copied `_rev` belongs to the row it was copied from.
      revWrites.set(index, "");
    }
    const previous = generated.has(index) ? undefined : snapshot?.rows.get(id);

    if (snapshot === null) {
      // First scan: everything is sent through the resync below.
    } else if (previous === undefined) {
      // A row that appeared: new, copied, or back (an undone delete). Its appearance is the
      // change, now: an undone delete must beat the delete it undoes.
      upserts.push({ id, modifiedAt: stamp(), fields: null });
    } else if (hash !== previous.hash) {
      if (inEdit(index)) {
        upserts.push({
          id,
          modifiedAt: stamp(),
          fields: editedFields.length > 0 ? [...editedFields] : null,
        });
      } else if (mode.kind === "reconcile") {
        const modifiedAt = modified > previous.modified ? modified : stamp();
        upserts.push({ id, modifiedAt, fields: null });
      } else {
        // Keep the old hash so the reconcile still notices this change.
        seen.set(id, previous);
        return;
      }
    }
    seen.set(id, { hash, modified });
  });

  if (snapshot !== null) {
    for (const [id, previous] of snapshot.rows) {
      if (seen.has(id)) continue;
      // onChange reports a person deleting rows: that is now. A delete only the periodic
      // scan finds was made by a script or the API, most often Sheet Sync's own flush
      // carrying a Firestore delete: it keeps the row's last known time.
      const modifiedAt =
        mode.kind === "reconcile" && previous.modified > 0 ? previous.modified : now;
      deletes.push({ id, modifiedAt });
    }
  }

  // New or renamed columns: every row is sent again, each with its own time (the header
  // changed, not the rows), so a Firestore change or delete made since still counts.
  let resyncAt: number | null = null;
  if (snapshot === null || snapshot.fieldsHash !== header.fieldsHash) resyncAt = 0;
  if (mode.kind === "edit" && mode.headerEdited) resyncAt = 0;

  return {
    idWrites,
    modifiedWrites,
    revWrites,
    upserts,
    deletes,
    resyncAt,
    snapshot: { fieldsHash: header.fieldsHash, rows: seen },
  };
}
