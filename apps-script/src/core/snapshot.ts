/** What the script last saw of a row: content hash and `_modified` (0 if empty). */
export interface SeenRow {
  readonly hash: string;
  readonly modified: number;
}

/** The rows (by id) the script last saw; used to detect deletions and silent edits. */
export interface Snapshot {
  readonly fieldsHash: string;
  readonly rows: ReadonlyMap<string, SeenRow>;
}

const VERSION = "s1";

// Compact text (ids cannot contain ',' or ';'): ~32 bytes per row.
export function serializeSnapshot(snapshot: Snapshot): string {
  const parts: string[] = [];
  for (const [id, row] of snapshot.rows) {
    parts.push(`${id},${row.hash},${row.modified.toString(36)}`);
  }
  return `${VERSION}|${snapshot.fieldsHash}|${parts.join(";")}`;
}

/** Null for missing or unreadable text: callers then treat every row as unseen. */
export function parseSnapshot(text: string | null): Snapshot | null {
  if (text === null) return null;
  const [version, fieldsHash, body] = text.split("|");
  if (version !== VERSION || fieldsHash === undefined || body === undefined) return null;
  const rows = new Map<string, SeenRow>();
  if (body !== "") {
    for (const part of body.split(";")) {
      const [id, hash, modified] = part.split(",");
      if (!id || hash === undefined || modified === undefined) return null;
      rows.set(id, { hash, modified: parseInt(modified, 36) || 0 });
    }
  }
  return { fieldsHash, rows };
}
