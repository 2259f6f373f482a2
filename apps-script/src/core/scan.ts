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
  /** Data row index → ms to write into the `_modified` column. */
  readonly modifiedWrites: Map<number, number>;
  readonly upserts: QueuedUpsert[];
  readonly deletes: QueuedDelete[];
  /**
   * Resend every row: null = no; 0 = with each row's own `_modified`;
   * otherwise with at least this time (the field names changed then).
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

export function scanSheet(input: ScanInput): ScanResult {
  const { header, rows, snapshot, now, mode } = input;
  const idWrites = new Map<number, string>();
  const modifiedWrites = new Map<number, number>();
  const upserts: QueuedUpsert[] = [];
  const deletes: QueuedDelete[] = [];
  const seen = new Map<string, SeenRow>();

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
    inEdit,
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
    const previous = generated.has(index) ? undefined : snapshot?.rows.get(id);

    if (snapshot === null) {
      // First scan: everything is sent through the resync below.
    } else if (previous === undefined) {
      // New row. A generated id means a new or copied row: its `_modified`, if
      // any, belongs to the row it was copied from.
      const modifiedAt = !generated.has(index) && modified > 0 ? modified : stamp();
      upserts.push({ id, modifiedAt, fields: null });
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
      // carrying a Firestore delete: "now" could beat a document recreated since, so it
      // keeps the row's last known time.
      const modifiedAt =
        mode.kind === "reconcile" && previous.modified > 0 ? previous.modified : now;
      deletes.push({ id, modifiedAt });
    }
  }

  let resyncAt: number | null = null;
  if (snapshot === null) resyncAt = 0;
  else if (snapshot.fieldsHash !== header.fieldsHash) resyncAt = now;
  if (mode.kind === "edit" && mode.headerEdited) resyncAt = now;

  return {
    idWrites,
    modifiedWrites,
    upserts,
    deletes,
    resyncAt,
    snapshot: { fieldsHash: header.fieldsHash, rows: seen },
  };
}
