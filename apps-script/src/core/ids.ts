import { isRowId } from "../../../contract/src/limits";

/** `r_` + 12 hex chars (48 random bits) taken from a v4 UUID. */
export function rowIdFromUuid(uuid: string): string {
  const hex = uuid.replace(/[^0-9a-fA-F]/g, "").toLowerCase();
  // Skip the version nibble (index 12) so all 12 chars are random.
  const random = hex.slice(0, 12);
  if (random.length !== 12) throw new Error(`Not a UUID: ${uuid}`);
  return `r_${random}`;
}

/** The id stored in a cell, or '' when the cell holds nothing usable as an id. */
export function cellToRowId(value: unknown): string {
  if (typeof value !== "string") return "";
  const id = value.trim();
  return isRowId(id) ? id : "";
}

export interface IdAssignment {
  /** Final id per row ('' for rows that stay untracked). */
  readonly ids: string[];
  /** Row indexes whose id was generated in this pass. */
  readonly generated: Set<number>;
}

/**
 * Gives every tracked row a unique id. A row is tracked if it already has an
 * id or has content. Of several rows sharing an id (copy-paste), the one that
 * keeps it is, in this order: the only one still holding the content last
 * seen under that id (`isOriginal`; the pasted range may have moved since);
 * when none does, the one most alike (`closeness`); outside `preferNewIdFor`
 * (the pasted range) and original; outside
 * `preferNewIdFor`; the topmost. The others get new ids.
 */
export function assignRowIds(
  current: readonly string[],
  hasContent: (row: number) => boolean,
  newId: () => string,
  preferNewIdFor: (row: number) => boolean = () => false,
  isOriginal: (row: number, id: string) => boolean = () => false,
  closeness: (row: number, id: string) => number = () => 0,
  /** Rows sharing an id nothing here can tell apart: left as they are, for a later pass. */
  undecided: (id: string, rows: readonly number[]) => boolean = () => false,
  /** Does the row still show the item's most telling column (a code, a name)? */
  keepsKey: (row: number, id: string) => boolean = () => true,
): IdAssignment {
  const ids = [...current];
  const generated = new Set<number>();
  const rowsById = new Map<string, number[]>();
  ids.forEach((id, row) => {
    if (id === "") return;
    const rows = rowsById.get(id);
    if (rows) rows.push(row);
    else rowsById.set(id, [row]);
  });

  const taken = new Set(rowsById.keys());
  const fresh = (): string => {
    // Collisions are astronomically unlikely, but a duplicate would merge two rows.
    for (;;) {
      const id = newId();
      if (!taken.has(id)) {
        taken.add(id);
        return id;
      }
    }
  };

  for (const rows of rowsById.values()) {
    if (rows.length < 2) continue;
    const id = ids[rows[0] as number] as string;
    if (undecided(id, rows)) continue;
    const originals = rows.filter((row) => isOriginal(row, id));
    const scores = rows.map((row) => closeness(row, id));
    const top = Math.max(...scores);
    const closest = scores.filter((x) => x === top).length === 1 && top > 0;
    // The one row the paste did not write is the original, whatever the copy holds: a copy
    // left as pasted holds the original's last-seen content exactly, once the original is
    // edited (no-key seed 332).
    let unpasted = rows.filter((row) => !preferNewIdFor(row));
    // (Unless a pasted row is the one original by content and the unpasted row lost the item's
    // name: the pasted range may have moved since the event, rows inserted above it.)
    if (
      unpasted.length === 1 &&
      originals.length === 1 &&
      originals[0] !== unpasted[0] &&
      !keepsKey(unpasted[0]!, id)
    ) {
      unpasted = [];
    }
    const keeper =
      (unpasted.length === 1 ? unpasted[0] : undefined) ??
      (originals.length === 1 ? originals[0] : undefined) ??
      (originals.length === 0 && closest ? rows[scores.indexOf(top)] : undefined) ??
      rows.find((row) => !preferNewIdFor(row) && isOriginal(row, id)) ??
      rows.find((row) => !preferNewIdFor(row)) ??
      rows[0];
    for (const row of rows) {
      if (row === keeper) continue;
      ids[row] = fresh();
      generated.add(row);
    }
  }
  ids.forEach((id, row) => {
    if (id === "" && hasContent(row)) {
      ids[row] = fresh();
      generated.add(row);
    }
  });
  return { ids, generated };
}
