/** What the script last saw of a row: content hash, `_modified` and `_rev` (0 if empty). */
export interface SeenRow {
  readonly hash: string;
  readonly modified: number;
  readonly rev: number;
  /** Two characters per data column (sorted by name): tells which columns of a moved row changed. */
  readonly digest: string;
  /** When the row was found deleted (0: it is in the sheet); kept a while so an undo is known. */
  readonly goneAt: number;
}

/** The rows (by id) the script last saw; used to detect deletions and silent edits. */
export interface Snapshot {
  readonly fieldsHash: string;
  /** The data columns, sorted by name: what each digest character stands for. */
  readonly columns: readonly string[];
  readonly rows: ReadonlyMap<string, SeenRow>;
}

// s3: two digest characters per column (s2 had one).
const VERSION = "s3";

// Compact text (ids cannot contain ',' or ';'): ~34 bytes per row plus two per column.
export function serializeSnapshot(snapshot: Snapshot): string {
  const parts: string[] = [];
  for (const [id, row] of snapshot.rows) {
    const gone = row.goneAt ? `,${row.goneAt.toString(36)}` : "";
    parts.push(
      `${id},${row.hash},${row.modified.toString(36)},${row.rev.toString(36)},${row.digest}${gone}`,
    );
  }
  const columns = snapshot.columns.map(encodeURIComponent).join(",");
  return `${VERSION}|${snapshot.fieldsHash}|${columns}|${parts.join(";")}`;
}

/** Null for missing or unreadable text: callers then treat every row as unseen. */
export function parseSnapshot(text: string | null): Snapshot | null {
  if (text === null) return null;
  const [version, fieldsHash, names, body] = text.split("|");
  if (
    version !== VERSION ||
    fieldsHash === undefined ||
    names === undefined ||
    body === undefined
  ) {
    return null;
  }
  const columns = names === "" ? [] : names.split(",").map(decodeURIComponent);
  const rows = new Map<string, SeenRow>();
  if (body !== "") {
    for (const part of body.split(";")) {
      const [id, hash, modified, rev, digest, goneAt] = part.split(",");
      if (!id || hash === undefined || modified === undefined) return null;
      rows.set(id, {
        hash,
        modified: parseInt(modified, 36) || 0,
        rev: parseInt(rev ?? "0", 36) || 0,
        digest: digest ?? "",
        goneAt: parseInt(goneAt ?? "0", 36) || 0,
      });
    }
  }
  return { fieldsHash, columns, rows };
}
