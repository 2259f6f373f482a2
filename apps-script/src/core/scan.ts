import { encodeCell, type WireCell } from "../../../contract/src/cells";
import type { DescribedRow } from "../../../contract/src/wire";
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
      /**
       * `e.value`: what a single edited cell was given (text, as Apps Script passes it); "" for a
       * single cell's event without one (a cleared cell).
       */
      readonly value?: unknown;
      /** `e.oldValue`: what the single edited cell held before (text), when it held something. */
      readonly oldValue?: string;
      /**
       * The edited cell's row id and column name, read as the execution began, before it waited
       * for the lock: a sort, a row deleted above or a column inserted since moves the cell.
       */
      readonly cell?: { readonly id: string; readonly field: string };
    }
  | { readonly kind: "change" }
  | { readonly kind: "reconcile" };

/**
 * A row an onEdit saw pasted with its hidden id but could not act on (another run held the
 * lock): where it was, the id, and what it held then.
 */
export interface MissedPaste {
  readonly row: number;
  readonly id: string;
  readonly hash: string;
  /** Among the rows holding the id then, top to bottom: the copy's place, and how many. */
  readonly rank?: number;
  readonly holders?: number;
  /** Another of them held the same content then: the hash cannot tell them apart. */
  readonly alike?: boolean;
}

export interface ScanInput {
  readonly header: HeaderInfo;
  /** Data rows (sheet row 2 onwards), as returned by getValues(). */
  readonly rows: readonly (readonly unknown[])[];
  readonly snapshot: Snapshot | null;
  readonly now: number;
  readonly newId: () => string;
  readonly mode: ScanMode;
  /** Pastes onEdits saw without the lock since the last scan: their word on which row is the copy. */
  readonly missedPastes?: readonly MissedPaste[];
  /**
   * The snapshot as waiting edits say the rows look now (see words.ts): what rows are matched to
   * ids by, when content moved. What changed is judged against `snapshot`.
   */
  readonly toldSnapshot?: Snapshot | null;
  /**
   * Ids a scan gave rows in the last minutes (new rows, copies): a paste's onEdit that runs after
   * such a scan finds the id that scan gave the copy, not one the paste brought.
   */
  readonly givenIds?: ReadonlySet<string>;
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
  /** The id's row went to another id by this scan's matching (see DeleteItem). */
  readonly displaced?: boolean;
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

/**
 * Content hash of a row's fields, independent of column order. Empty cells
 * are left out, so adding a column does not make every row look changed.
 */
export function rowHash(header: HeaderInfo, row: readonly unknown[]): string {
  return fieldsHash(rowFields(header, row));
}

function fieldsHash(fields: readonly [string, WireCell][]): string {
  const pairs = fields
    .filter(([, v]) => v !== null)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return fnv1a(JSON.stringify(pairs));
}

/** The data column names in the order digests use. */
export function digestColumns(header: HeaderInfo): string[] {
  return header.dataColumns.map((c) => c.name).sort();
}

const DIGEST_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** Characters per column in a digest: 2 of 64 symbols, so two values look alike 1 time in 4,096. */
export const DIGEST_WIDTH = 2;

/**
 * A cheap fingerprint of each cell, DIGEST_WIDTH characters per data column (sorted by name);
 * an empty cell is "..", which no value's fingerprint is.
 */
export function rowDigest(header: HeaderInfo, row: readonly unknown[]): string {
  return fieldsDigest(rowFields(header, row));
}

function fieldsDigest(fields: readonly [string, WireCell][]): string {
  return [...fields]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, v]) => cellDigest(v))
    .join("");
}

/** One cell's fingerprint in a digest. */
export function cellDigest(v: WireCell): string {
  if (v === null) return "..";
  const h = parseInt(fnv1a(JSON.stringify(v)), 36);
  return DIGEST_ALPHABET[h & 63]! + DIGEST_ALPHABET[(h >>> 6) & 63]!;
}

/** A digest made for one column layout, in another: a column it did not have reads empty. */
export function relayDigest(
  digest: string,
  from: readonly string[],
  to: readonly string[],
): string {
  return to
    .map((name) => {
      const k = from.indexOf(name);
      return (k >= 0 ? digestCell(digest, k) : undefined) ?? "..";
    })
    .join("");
}

/** Column `k`'s fingerprint in a digest, or undefined past its end. */
export function digestCell(digest: string, k: number): string | undefined {
  const cell = digest.slice(k * DIGEST_WIDTH, (k + 1) * DIGEST_WIDTH);
  return cell.length === DIGEST_WIDTH ? cell : undefined;
}

/** A digest of a row whose every cell is empty. */
function blankDigest(digest: string): boolean {
  return /^(\.\.)*$/.test(digest);
}

/** A row's `_modified` as ms since epoch, 0 when there is none. */
export function rowModified(header: HeaderInfo, row: readonly unknown[] | undefined): number {
  return header.modifiedColumn >= 0 ? modifiedCellToMs(row?.[header.modifiedColumn]) : 0;
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

/**
 * How alike a row is to what an id held: the snapshot's per-column digest
 * against the row's, column by column (lined up by name: columns may have
 * come or gone). A column of distinct values (a name, a code) says more about
 * which row is which than a column of repeated ones (a quantity, a status):
 * each counts by its share of distinct values, the first column twice.
 * `total` is the most a row scores.
 */
export function similarity(
  header: HeaderInfo,
  rows: readonly (readonly unknown[])[],
  snapshot: Snapshot,
): {
  same: (oldDigest: string, row: number) => number;
  total: number;
  /** Does the row agree with the old digest on one of the most telling columns? */
  agreesOnKey: (oldDigest: string, row: number) => boolean;
  /** Were the most telling columns all empty in the old digest? */
  blankKey: (oldDigest: string) => boolean;
  /**
   * Is the item's most telling value a code: in a column whose values are all, or nearly all,
   * different, and, where one repeats, not one of the repeated ones? (One duplicated code, a copy
   * not yet renamed, says nothing about the other items.)
   */
  codeFor: (oldDigest: string) => boolean;
  /** Does the row hold more than half of the old digest's cells, each counted once? */
  holdsMost: (oldDigest: string, row: number) => boolean;
  /** How many of the old digest's cells the row holds, each counted once. */
  sameCells: (oldDigest: string, row: number) => number;
} {
  const now = digestColumns(header);
  const at = snapshot.columns.map((name) => now.indexOf(name));
  // People put what names an item (a code, a name) in the first column: it counts double.
  const first = Math.min(...header.dataColumns.map((c) => c.index));
  const distinctShare = now.map((name) => {
    const index = header.dataColumns.find((c) => c.name === name)!.index;
    const values = rows.map((row) => encodeCell(row[index] ?? "")).filter((v) => v !== null);
    return values.length ? new Set(values.map((v) => JSON.stringify(v))).size / values.length : 0;
  });
  const weight = now.map((name, i) => {
    const index = header.dataColumns.find((c) => c.name === name)!.index;
    return index === first ? 2 * distinctShare[i]! : distinctShare[i]!;
  });
  const digests = new Map<number, string>();
  const digestOf = (row: number) => {
    let d = digests.get(row);
    if (d === undefined) digests.set(row, (d = rowDigest(header, rows[row] ?? [])));
    return d;
  };
  const sameCells = (old: string, row: number) => {
    const current = digestOf(row);
    let kept = 0;
    at.forEach((i, k) => {
      const was = digestCell(old, k);
      if (i >= 0 && was !== undefined && was === digestCell(current, i)) kept++;
    });
    return kept;
  };
  const top = Math.max(0, ...at.map((i) => (i >= 0 ? weight[i]! : 0)));
  const keys = at.map((i, k) => [i, k] as const).filter(([i]) => i >= 0 && weight[i] === top);
  const keyIsCode = keys.some(([i]) => distinctShare[i] === 1);
  // How many rows hold each value of a nearly-distinct telling column, grouped by the value's
  // digest (all the snapshot knows of an old value): two characters, so different values share
  // one now and then (counted the first time it is asked).
  let counts: Map<number, Map<string, Map<string, number>>> | undefined;
  const countsOf = () => {
    if (counts) return counts;
    counts = new Map();
    for (const [i] of keys) {
      if (distinctShare[i]! < NEARLY_DISTINCT || counts.has(i)) continue;
      const index = header.dataColumns.find((c) => c.name === now[i])!.index;
      const seen = new Map<string, Map<string, number>>();
      rows.forEach((row, r) => {
        const digest = digestCell(digestOf(r), i);
        if (digest === undefined || digest === "..") return;
        const value = JSON.stringify(encodeCell(row[index] ?? ""));
        const group = seen.get(digest) ?? new Map<string, number>();
        group.set(value, (group.get(value) ?? 0) + 1);
        seen.set(digest, group);
      });
      counts.set(i, seen);
    }
    return counts;
  };
  return {
    total: at.reduce((sum, i) => sum + (i >= 0 ? weight[i]! : 0), 0),
    codeFor: (old) =>
      keyIsCode ||
      keys.some(([i, k]) => {
        const was = digestCell(old, k);
        const column = countsOf().get(i);
        if (column === undefined || was === undefined || was === "..") return false;
        // Which of the values sharing the old one's digest was it? If none of them repeats, the
        // item's is unique whichever it was.
        return Math.max(0, ...(column.get(was)?.values() ?? [])) <= 1;
      }),
    blankKey: (old) => top > 0 && keys.every(([, k]) => digestCell(old, k) === ".."),
    agreesOnKey: (old, row) => {
      const current = digestOf(row);
      return (
        top === 0 ||
        keys.some(([i, k]) => {
          const was = digestCell(old, k);
          return was !== undefined && was === digestCell(current, i);
        })
      );
    },
    holdsMost: (old, row) => sameCells(old, row) * 2 > at.length,
    sameCells: (old, row) => sameCells(old, row),
    same: (old, row) => {
      const current = digestOf(row);
      let score = 0;
      at.forEach((i, k) => {
        const was = digestCell(old, k);
        if (i >= 0 && was !== undefined && was === digestCell(current, i)) score += weight[i]!;
      });
      return score;
    },
  };
}

/** A telling column with at least this share of different values is a code column. */
const NEARLY_DISTINCT = 0.9;

/** How long two rows sharing an id the snapshot does not know wait for the paste's onEdit. */
export const UNDECIDED_COPY_MS = 3 * 60 * 1000;

/** How far ahead of this execution's clock a row's stamp may be and still be another clock's. */
export const STAMP_SKEW_MS = 60 * 1000;

/** How long a deleted row stays in the snapshot (an undo within it is matched by content). */
export const GONE_KEPT_MS = 60 * 60 * 1000;

/** One row's bookkeeping cells: they travel together when content moves between rows. */
interface Bookkeeping {
  id: string;
  modified: unknown;
  rev: unknown;
}

/**
 * Content that moved between rows while the hidden `_id` column stayed put,
 * as a sort of the visible columns only does: a row whose content is now
 * exactly what an id held before (in another row, or in a row deleted since)
 * takes that id (with its `_modified` and `_rev`), so identities follow the
 * content and nothing needs sending. Rows also edited in the same run are
 * matched by their cells (see below). Two rows whose whole contents a person
 * swapped by typing look like a move too: both sides keep the same contents,
 * only which id holds which may differ.
 */
export function findMoves(
  header: HeaderInfo,
  rows: readonly (readonly unknown[])[],
  snapshot: Snapshot | null,
): Map<number, Bookkeeping | null> {
  const moves = new Map<number, Bookkeeping | null>();
  if (!snapshot || header.idColumn < 0) return moves;
  const hashes = rows.map((row) => (rowHasContent(header, row) ? rowHash(header, row) : ""));
  const ids = rows.map((row) => cellToRowId(row[header.idColumn]));
  const cell = (i: number, column: number) => (column >= 0 ? (rows[i]?.[column] ?? "") : "");
  // Ids whose content is not in their row: changed there, or their row is gone.
  const sources: { id: string; hash: string; from: number | null }[] = [];
  const present = new Set<string>();
  // An id is at home if any row carrying it still holds its content.
  const home = new Set(ids.filter((id, i) => id && snapshot.rows.get(id)?.hash === hashes[i]));
  ids.forEach((id, i) => {
    if (!id) return;
    present.add(id);
    const seen = snapshot.rows.get(id);
    if (seen && !home.has(id) && !sources.some((src) => src.id === id)) {
      sources.push({ id, hash: seen.hash, from: i });
    }
  });
  for (const [id, seen] of snapshot.rows) {
    if (!present.has(id) && !seen.goneAt) sources.push({ id, hash: seen.hash, from: null });
  }
  if (sources.length === 0) return moves;
  // Rows with content that could take an id: none yet, or one whose content is not theirs.
  // A row whose id the snapshot does not know yet (the flush wrote it since the last scan)
  // holds what the flush wrote, unless a sort moved other content there: such rows count only
  // once other content evidently moved.
  const open = new Map<string, number[]>();
  const unscanned = new Map<string, number[]>();
  hashes.forEach((hash, i) => {
    const id = ids[i]!;
    const seen = id ? snapshot.rows.get(id) : undefined;
    if (hash === "" || (seen && seen.hash === hash)) return;
    const into = id && !seen ? unscanned : open;
    const list = into.get(hash);
    if (list) list.push(i);
    else into.set(hash, [i]);
  });
  const taken = new Map<number, Bookkeeping>();
  // What moves with content: from the row it left, or, for content of a row gone from the
  // sheet, what the snapshot remembers of it.
  // What a row's own hidden cells hold: its id, `_modified` and `_rev`.
  const bookkeepingAt = (row: number): Bookkeeping => ({
    id: ids[row]!,
    modified: cell(row, header.modifiedColumn),
    rev: cell(row, header.revColumn),
  });
  const bookkeepingOf = (source: (typeof sources)[number]): Bookkeeping => {
    const seen = snapshot.rows.get(source.id)!;
    return {
      id: source.id,
      modified:
        source.from === null ? seen.modified || "" : cell(source.from, header.modifiedColumn),
      rev: source.from === null ? seen.rev || "" : cell(source.from, header.revColumn),
    };
  };
  const sim = similarity(header, rows, snapshot);
  // Rows blank now whose id's item was not: a blank took the row (a sort moves blanks last).
  const blankedRows = (skip: (id: string) => boolean): number[] =>
    hashes
      .map((_, i) => i)
      .filter((i) => {
        const id = ids[i];
        if (!id || hashes[i] !== "" || home.has(id) || skip(id)) return false;
        const seen = snapshot.rows.get(id);
        return seen !== undefined && !blankDigest(seen.digest);
      });
  // Content an id held, now in another row while its own row still shows that item (its code and
  // most cells, though no other id's content), was copied there, not moved: a paste, then an edit
  // of the original. The copy is an edit of the row it landed on, unless that row's own item is
  // somewhere else (then its row was emptied or given another's content by a sort).
  const sourceHashes = new Set(sources.map((src) => src.hash));
  // A sort moved other content too: an id whose row no longer shows its item (by its telling
  // columns), which another row mostly does. A paste moves nothing else; with a sort, content
  // that is another id's exactly moved there, whatever its old row shows now (a name typed over
  // after the sort can make it look like the original of a copy).
  const movedByKey = sources.filter((source) => {
    const from = source.from;
    if (from === null) return false;
    const old = snapshot.rows.get(source.id)!.digest;
    if (hashes[from] === "" || sim.agreesOnKey(old, from)) return false;
    // (A row that still holds its own id's content is not where this item went.)
    return hashes.some(
      (h, i) =>
        i !== from &&
        h !== "" &&
        !(ids[i] && snapshot.rows.get(ids[i]!)?.hash === h) &&
        sim.agreesOnKey(old, i) &&
        sim.same(old, i) * 2 > sim.total,
    );
  });
  const sortedBesides = (source: (typeof sources)[number]) =>
    movedByKey.some((other) => other !== source);
  const copied = (source: (typeof sources)[number], to: number): boolean => {
    const from = source.from;
    if (sortedBesides(source)) return false;
    if (from === null || hashes[from] === "" || sourceHashes.has(hashes[from]!)) return false;
    const old = snapshot.rows.get(source.id)!.digest;
    if (!sim.agreesOnKey(old, from) || sim.same(old, from) * 2 <= sim.total) return false;
    const own = ids[to] ? snapshot.rows.get(ids[to]!) : undefined;
    return (
      own === undefined ||
      !hashes.some((h, i) => i !== to && h !== "" && sim.agreesOnKey(own.digest, i))
    );
  };
  // Without a code, an item's very content in a new row, while the item's own row keeps most of
  // its cells (its name typed over, say), is a row typed like it, not the item gone there:
  // nothing else moved to say a sort carried it.
  // (Another item's very content in another id's row, its own row now showing something else,
  // is a sort too: no-key seed 342.)
  const movedIntact = sources.filter(
    (src) =>
      src.from !== null &&
      hashes[src.from] !== src.hash &&
      (open.get(src.hash) ?? []).some((i) => i !== src.from && ids[i] !== ""),
  );
  const typedAlike = (source: (typeof sources)[number], to: number): boolean => {
    const from = source.from;
    if (
      sim.codeFor(snapshot.rows.get(source.id)!.digest) ||
      sortedBesides(source) ||
      movedIntact.some((other) => other !== source) ||
      from === null ||
      hashes[from] === "" ||
      ids[to] !== ""
    ) {
      return false;
    }
    return sim.holdsMost(snapshot.rows.get(source.id)!.digest, from);
  };
  const stays = new Set<string>();
  // Items whose content elsewhere was found a copy: in their own rows, edited.
  const original = new Set<string>();
  for (const source of sources) {
    const to = open.get(source.hash)?.find((i) => i !== source.from && !taken.has(i));
    if (to === undefined) continue;
    if (copied(source, to)) {
      original.add(source.id);
      continue;
    }
    if (typedAlike(source, to)) stays.add(source.id);
    else taken.set(to, bookkeepingOf(source));
  }
  // (Such an item is in its own row, edited: no later guess moves it.)
  for (let k = sources.length - 1; k >= 0; k--) if (stays.has(sources[k]!.id)) sources.splice(k, 1);
  const evidenceBefore = taken.size > 0;
  const movedExactly = new Set([...taken.values()].map((b) => b.id));
  for (const source of sources) {
    if (movedExactly.has(source.id)) continue;
    const to = unscanned.get(source.hash)?.find((i) => !taken.has(i));
    if (to === undefined) continue;
    // Without other moves, only a swap with a row the flush wrote (its `_rev` set) counts: this
    // id's content is there, and its own row holds another item (not this one's code) now.
    const swapped =
      source.from !== null &&
      hashes[source.from] !== "" &&
      cell(to, header.revColumn) !== "" &&
      !sim.agreesOnKey(snapshot.rows.get(source.id)!.digest, source.from);
    if (evidenceBefore || swapped) taken.set(to, bookkeepingOf(source));
  }
  // Ids whose item left the sheet (see `abandoned`): no leftover row is theirs.
  const gone = new Set<string>();
  // Rows both moved and edited in the same run (a sort, then an edit before the script ran):
  // once some content evidently moved, each id whose content is nowhere exactly goes where most
  // of its cells went (more than half, more than stayed in its own row, and no other id as
  // close), and that row is then an edit.
  {
    const evidence = taken.size > 0;
    const { same, total, agreesOnKey } = sim;
    const claimed = new Set([...taken.values()].map((b) => b.id));
    // Rows the flush wrote since the last scan too, once content evidently moved: a sort that
    // also carried an edited row into one of them must not leave that row's id to a guess.
    const free = [...open.values(), ...(evidence ? unscanned.values() : [])]
      .flat()
      .filter((i) => !taken.has(i));
    const best = new Map<
      number,
      { source: (typeof sources)[number]; score: number; tie: boolean }
    >();
    // How much a row's content is still its own id's (0 for a row without id).
    const own = (i: number) => {
      const seen = ids[i] ? snapshot.rows.get(ids[i]!) : undefined;
      return seen ? same(seen.digest, i) : 0;
    };
    for (const source of sources) {
      if (claimed.has(source.id)) continue;
      const old = snapshot.rows.get(source.id)!.digest;
      const stay = source.from === null ? 0 : same(old, source.from);
      // An id whose row is gone (deleted, with whatever content the sort had put there) can
      // only take a row that is more its content than its own id's; never a new row.
      const targets =
        source.from === null ? free.filter((i) => ids[i] !== "" && same(old, i) > own(i)) : free;
      if (source.from === null && !evidence) continue;
      // Without a code, a row that kept most of the item's cells (each counted once) is the item,
      // however its name (which may repeat, and counts double) was changed.
      if (
        !sim.codeFor(old) &&
        source.from !== null &&
        hashes[source.from] !== "" &&
        sim.holdsMost(old, source.from)
      ) {
        continue;
      }
      // A match must agree on one of the most telling columns (a name, a code): content that
      // differs there is another item, however alike the rest.
      const scored = targets
        .filter((i) => agreesOnKey(old, i))
        .map((i) => ({ to: i, score: same(old, i) }))
        .sort((a, b) => b.score - a.score);
      const top = scored[0];
      if (!top || top.to === source.from || top.score * 2 <= total || top.score <= stay) continue;
      if (scored[1] && scored[1].score === top.score) continue;
      const other = best.get(top.to);
      if (!other || top.score > other.score) {
        best.set(top.to, { source, score: top.score, tie: false });
      } else if (top.score === other.score) other.tie = true;
    }
    // Without an exact move to go by, only moves that account for every row they touch count:
    // each row whose id leaves gets another id or no longer holds that id's item (empty, or
    // typed over: it disagrees on the telling columns), and each row that gets an id had none
    // or gave its own up (rows that swapped, or shifted into a blank row).
    const vacated = (source: (typeof sources)[number]) =>
      hashes[source.from!] === "" ||
      !agreesOnKey(snapshot.rows.get(source.id)!.digest, source.from!);
    // Rows that swapped contents (two, or round a cycle: a sort), one of them also edited past
    // recognition but for its most telling column (a code): the moves say where that row's item
    // went, when its code is now in the row the first move came from (and that row's own item's
    // is not). Follow the moves from that row until one whose own item went nowhere yet.
    const sourceAt = new Map(
      sources.flatMap((src) => (src.from === null ? [] : [[src.from, src]])),
    );
    const placed = new Set([...best.values()].map((x) => x.source.id));
    const targetOf = new Map(
      [...best].flatMap(([to, x]) => (x.tie ? [] : [[x.source.id, to] as const])),
    );
    for (const [to, b] of [...best]) {
      const from = b.source.from;
      if (b.tie || from === null || ids[to] === "" || best.has(from)) continue;
      let end = to;
      let other = sourceAt.get(end);
      const visited = new Set([from, end]);
      while (other && other.id === ids[end] && !claimed.has(other.id) && placed.has(other.id)) {
        const next = targetOf.get(other.id);
        if (next === undefined || visited.has(next) || ids[next] === "") break;
        visited.add(next);
        end = next;
        other = sourceAt.get(end);
      }
      if (!other || other.id !== ids[end] || claimed.has(other.id) || placed.has(other.id)) {
        continue;
      }
      const old = snapshot.rows.get(other.id)!.digest;
      if (!agreesOnKey(old, from) || agreesOnKey(snapshot.rows.get(b.source.id)!.digest, from)) {
        continue;
      }
      best.set(from, { source: other, score: same(old, from), tie: false });
      placed.add(other.id);
      targetOf.set(other.id, from);
    }
    // A row whose own item had blank telling columns (only cells outside the sorted range, say: a
    // sort moves blank rows last) and is in no other row now: another item's content that came in
    // takes the row, and its id leaves the sheet. (An item whose code was typed over is edited.)
    // (A row another move fills holds that move's item, and a row that holds exactly its own id's
    // item holds that one: neither is this item elsewhere, blank code or not.)
    const ownItem = (i: number) => ids[i] !== "" && snapshot.rows.get(ids[i]!)?.hash === hashes[i];
    const abandoned = (to: number, filled: ReadonlySet<number>) => {
      const source = sourceAt.get(to);
      if (!source || source.id !== ids[to] || claimed.has(source.id) || placed.has(source.id)) {
        return false;
      }
      const old = snapshot.rows.get(source.id)!.digest;
      return (
        sim.blankKey(old) &&
        vacated(source) &&
        !hashes.some(
          (h, i) => i !== to && h !== "" && !filled.has(i) && !ownItem(i) && agreesOnKey(old, i),
        )
      );
    };
    let proposed = [...best].filter(([, b]) => !b.tie && b.source.from !== null);
    for (let changed = !evidence; changed;) {
      changed = false;
      const targets = new Set(proposed.map(([to]) => to));
      const leaving = new Set(proposed.map(([, b]) => b.source.from!));
      const kept = proposed.filter(
        ([to, b]) =>
          (targets.has(b.source.from!) || vacated(b.source)) &&
          (ids[to] === "" || leaving.has(to) || abandoned(to, targets)),
      );
      changed = kept.length !== proposed.length;
      proposed = kept;
    }
    const accepted = new Set(proposed.map(([to]) => to));
    for (const [to, { source, tie }] of best) {
      if (tie || (!evidence && !accepted.has(to))) continue;
      taken.set(to, bookkeepingOf(source));
      if (!evidence && ids[to] !== "" && !proposed.some(([, b]) => b.source.from === to)) {
        gone.add(ids[to]!);
      }
    }
  }
  // An id whose row no longer shows its item's most telling column (a code), and exactly one row
  // without an id that does (no other item's): the id follows its code there, however much else
  // was edited. A sort put the content of a row typed just before it in the id's row; or a person
  // gave the row a new code and typed the old one in a new row: the code names the item. A row
  // whose own id another move took is without one too (a sort carried an edited row there).
  {
    const claimed = new Set([...taken.values()].map((b) => b.id));
    const idless = hashes
      .map((_, i) => i)
      .filter((i) => hashes[i] !== "" && (!ids[i] || claimed.has(ids[i]!)) && !taken.has(i));
    for (const source of sources) {
      const from = source.from;
      if (from === null || claimed.has(source.id) || taken.has(from)) continue;
      const old = snapshot.rows.get(source.id)!.digest;
      if (hashes[from] !== "" && sim.agreesOnKey(old, from)) continue;
      const keyed = idless.filter((i) => !taken.has(i) && sim.agreesOnKey(old, i));
      if (keyed.length !== 1) continue;
      const to = keyed[0]!;
      // Not out of a row that keeps most of the item's cells, its name typed over or cleared:
      // that row is the item, renamed (a name may repeat; even a code a person retypes in a new
      // row leaves the item where the rest of it is). A name that repeats is followed only into
      // a row that holds more of the item's cells than its own.
      if (hashes[from] !== "" && sim.holdsMost(old, from)) continue;
      if (!sim.codeFor(old) && hashes[from] !== "" && sim.same(old, to) <= sim.same(old, from)) {
        continue;
      }
      const others = [...snapshot.rows].filter(
        ([id, seen]) => id !== source.id && !seen.goneAt && sim.agreesOnKey(seen.digest, to),
      );
      if (others.length > 0) continue;
      taken.set(to, bookkeepingOf(source));
      claimed.add(source.id);
    }
  }
  // What is left, matched as a whole: ids whose content no rule placed (their rows edited, or
  // taken by another's content) and the rows they may be in (their own, rows whose id went
  // elsewhere, rows without one). Each goes where most of its cells are, in the pairing that
  // keeps the most cells overall, when that keeps more than leaving each id in its own row: a
  // sort, then edits of the telling columns too, before the script ran. (Small sets only; such a
  // pairing moves ids round whole cycles, or into rows without one. With a code, an id goes only
  // where its code is.)
  {
    const claimed = new Set([...taken.values()].map((b) => b.id));
    const loose = sources.filter(
      (src) => src.from !== null && !claimed.has(src.id) && !original.has(src.id),
    );
    const looseIds = new Set(loose.map((src) => src.id));
    const places = hashes
      .map((_, i) => i)
      .filter(
        (i) =>
          hashes[i] !== "" &&
          !taken.has(i) &&
          (ids[i] === "" || claimed.has(ids[i]!) || looseIds.has(ids[i]!)),
      );
    if (loose.length >= 1 && loose.length <= 5 && places.length <= 7) {
      const digest = (src: (typeof loose)[number]) => snapshot.rows.get(src.id)!.digest;
      // An id leaves only a row that no longer holds its name nor most of its cells (another's
      // content came in, or it was emptied), for one that does hold most.
      const kept = (src: (typeof loose)[number]) =>
        hashes[src.from!] !== "" &&
        (sim.agreesOnKey(digest(src), src.from!) || sim.holdsMost(digest(src), src.from!));
      const fits = loose.map((src) =>
        places.map((i) =>
          i === src.from ||
          (!kept(src) &&
            sim.holdsMost(digest(src), i) &&
            (!sim.codeFor(digest(src)) || sim.agreesOnKey(digest(src), i)))
            ? sim.sameCells(digest(src), i)
            : -1,
        ),
      );
      const stay = loose.reduce((sum, src, k) => {
        const at = places.indexOf(src.from!);
        return sum + (at >= 0 ? fits[k]![at]! : 0);
      }, 0);
      let best = { score: stay, pick: [] as number[] };
      const pick: number[] = [];
      const used = new Set<number>();
      const search = (k: number, score: number) => {
        if (k === loose.length) {
          if (score > best.score) best = { score, pick: [...pick] };
          return;
        }
        // (An id whose own row is still there is never left without one: that would delete it.)
        const homeless = !places.includes(loose[k]!.from!);
        for (let p = homeless ? -1 : 0; p < places.length; p++) {
          if (p >= 0 && (used.has(p) || fits[k]![p]! < 0)) continue;
          pick.push(p);
          if (p >= 0) used.add(p);
          search(k + 1, score + (p >= 0 ? fits[k]![p]! : 0));
          pick.pop();
          used.delete(p);
        }
      };
      search(0, 0);
      best.pick.forEach((p, k) => {
        const src = loose[k]!;
        if (p >= 0 && places[p] !== src.from) taken.set(places[p]!, bookkeepingOf(src));
      });
    }
  }
  // What is left: one id whose row another's content took, and one row whose id went elsewhere.
  // Everything else accounted for, that content is this id's, however much it was edited.
  // (The id may be one the flush wrote since the last scan: the snapshot does not know it.)
  if (taken.size > 0) {
    const claimed = new Set([...taken.values()].map((b) => b.id));
    // An id whose item had blank telling columns (only a note beside them, say) is not the
    // content left over: blanks sort last, so what took its row came from elsewhere; it leaves.
    const displaced = [...taken.keys()].filter((i) => {
      const id = ids[i];
      if (!id || claimed.has(id) || home.has(id) || gone.has(id)) return false;
      const seen = snapshot.rows.get(id);
      return !seen || !sim.blankKey(seen.digest);
    });
    let vacated = hashes
      .map((_, i) => i)
      .filter((i) => hashes[i] !== "" && !taken.has(i) && claimed.has(ids[i]!));
    // A row without an id is a place the displaced content may have gone too (a row typed in
    // just before the sort): an id whose content is known goes to the one row, of those and the
    // vacated ones, that kept its most telling column (a code), when exactly one did.
    const idless = hashes.map((_, i) => i).filter((i) => hashes[i] !== "" && !ids[i]);
    // So is a row whose own item had blank telling columns and that shows a code now: blanks
    // sort last, so that content came in (its id then leaves, as the blank row's above).
    const blankOwned = hashes
      .map((_, i) => i)
      .filter((i) => {
        const id = ids[i];
        const seen = id && !claimed.has(id) ? snapshot.rows.get(id) : undefined;
        return (
          seen !== undefined &&
          hashes[i] !== "" &&
          sim.blankKey(seen.digest) &&
          !sim.agreesOnKey(seen.digest, i)
        );
      });
    for (const from of [...displaced]) {
      const seen = snapshot.rows.get(ids[from]!);
      if (!seen) continue;
      const keyed = [...vacated, ...idless, ...blankOwned].filter(
        (i) => !taken.has(i) && sim.agreesOnKey(seen.digest, i),
      );
      if (keyed.length !== 1) continue;
      taken.set(keyed[0]!, bookkeepingAt(from));
      displaced.splice(displaced.indexOf(from), 1);
      vacated = vacated.filter((i) => i !== keyed[0]);
    }
    // One id left and one vacated row that holds little of its item (nor its name), while one
    // row without id holds most of it: the sort carried the item there (a row typed just
    // before) and it was edited; the vacated row holds a new row's content (no-key seed 323).
    const lone = displaced.length === 1 ? snapshot.rows.get(ids[displaced[0]!]!) : undefined;
    if (lone && vacated.length === 1) {
      const most = idless.filter((i) => !taken.has(i) && sim.holdsMost(lone.digest, i));
      const left =
        !sim.holdsMost(lone.digest, vacated[0]!) && !sim.agreesOnKey(lone.digest, vacated[0]!);
      if (left && most.length === 1) taken.set(most[0]!, bookkeepingAt(displaced.pop()!));
    }
    // Several such ids the flush wrote since the last scan (their content unknown here): paired
    // in order, a guess the webhook checks. Rows that each hold another one's item come back
    // `moved`, and the ids follow their content then; a fresh id would make a new item instead.
    const unknown = displaced.every((i) => !snapshot.rows.has(ids[i]!));
    if (
      displaced.length === vacated.length &&
      (displaced.length === 1 || (displaced.length > 1 && unknown))
    ) {
      displaced.forEach((from, k) => taken.set(vacated[k]!, bookkeepingAt(from)));
      vacated = [];
    }
    // An id whose row is blank now, its item not: a sort moves blank rows last (one inserted
    // above, say), and a blank took its row. With one such id and one vacated row left, that
    // content is its item, edited (no-key seed 331; else it would stay on the blank row and the
    // edited content get a new id: one item, two documents).
    const blanked = blankedRows((id) => claimed.has(id) || gone.has(id));
    const open = vacated.filter((i) => !taken.has(i));
    if (blanked.length === 1 && open.length === 1) taken.set(open[0]!, bookkeepingAt(blanked[0]!));
    // With no vacated row, a row without id (inserted before the sort) took it, or a row whose
    // own item was blank (blanks sort last: what it shows came in): the one that holds most of
    // the item's cells, when exactly one does (no-key seeds 331 and 339).
    if (blanked.length === 1 && open.length === 0) {
      const old = snapshot.rows.get(ids[blanked[0]!]!)!.digest;
      const blankItem = (i: number) => {
        const seen = ids[i] && !claimed.has(ids[i]!) ? snapshot.rows.get(ids[i]!) : undefined;
        return seen !== undefined && blankDigest(seen.digest);
      };
      const most = hashes
        .map((_, i) => i)
        .filter((i) => hashes[i] !== "" && (!ids[i] || blankItem(i)) && !taken.has(i))
        .filter((i) => sim.holdsMost(old, i));
      if (most.length === 1) taken.set(most[0]!, bookkeepingAt(blanked[0]!));
    }
  }
  // An item with no synced value (an app's document holding only fields the sheet has no column
  // for) is a row with its id alone. A sort of the visible columns moves its blank cells where
  // blanks go, last: its id goes with them, to a blank row whose id went elsewhere or that has
  // none, rather than leave the sheet (a delete) because another's content took its row.
  {
    const claimed = new Set([...taken.values()].map((b) => b.id));
    const left = sources.filter(
      (src) =>
        src.from !== null &&
        !claimed.has(src.id) &&
        blankDigest(snapshot.rows.get(src.id)!.digest) &&
        // (Another id's content came into its row: a sort. Typed into in place, it is an edit.)
        taken.has(src.from),
    );
    const emptied = hashes
      .map((_, i) => i)
      .filter((i) => hashes[i] === "" && !taken.has(i) && (ids[i] === "" || claimed.has(ids[i]!)));
    left.forEach((src, k) => {
      const to = emptied[k];
      if (to !== undefined) taken.set(to, bookkeepingOf(src));
    });
  }
  // An id whose row is blank now with no sort in evidence but one: a sort that moved that one
  // row, into a row without id, whose content was edited after (no-key seed 331). The one row
  // without id that holds most of its item's cells, when exactly one does, is that item.
  if (taken.size === 0) {
    const blanked = blankedRows((id) => (snapshot.rows.get(id)?.goneAt ?? 0) > 0);
    const known = new Set([...snapshot.rows.values()].map((seen) => seen.hash));
    if (blanked.length === 1) {
      const old = snapshot.rows.get(ids[blanked[0]!]!)!.digest;
      const open = hashes
        .map((_, i) => i)
        .filter((i) => hashes[i] !== "" && !ids[i] && !known.has(hashes[i]!));
      const most = open.filter((i) => sim.holdsMost(old, i));
      if (most.length === 1) taken.set(most[0]!, bookkeepingAt(blanked[0]!));
    }
  }
  if (taken.size === 0) return moves;
  const movedIds = new Set([...taken.values()].map((b) => b.id));
  for (const [to, bookkeeping] of taken) moves.set(to, bookkeeping);
  // A row whose id moved away and that got none keeps no id: a new one if it has content.
  ids.forEach((id, i) => {
    if (id && movedIds.has(id) && !moves.has(i)) moves.set(i, null);
  });
  return moves;
}

/**
 * Does a cell hold what an edit event said it was given? `e.value` is text (a number's digits,
 * TRUE/FALSE, "" for a cleared cell). A date's form is not documented: a serial day number (in
 * the spreadsheet's time zone, so whole quarter hours from UTC's, within 14 h) matches; any
 * other form never does.
 */
export function showsEventValue(cell: unknown, value: unknown): boolean {
  const text = String(value);
  // A cleared cell's event (no value): the cell shows it while it is empty.
  if (text === "") return cell === "" || cell === null || cell === undefined;
  if (cell instanceof Date) {
    const quarters = (Number(text) - (cell.getTime() / 86_400_000 + 25_569)) * 96;
    return (
      text.trim() !== "" &&
      Math.abs(quarters) <= 14 * 4 + 1e-6 &&
      Math.abs(quarters - Math.round(quarters)) < 1e-6
    );
  }
  if (typeof cell === "number") return text.trim() !== "" && Number(text) === cell;
  if (typeof cell === "boolean") return text.toUpperCase() === (cell ? "TRUE" : "FALSE");
  if (typeof cell === "string") return cell !== "" && cell === text;
  return false;
}

export function scanSheet(input: ScanInput): ScanResult {
  const { header, snapshot, now, mode } = input;
  const idWrites = new Map<number, string>();
  const modifiedWrites = new Map<number, number | string>();
  const revWrites = new Map<number, number | string>();
  const upserts: QueuedUpsert[] = [];
  const deletes: QueuedDelete[] = [];
  const seen = new Map<string, SeenRow>();
  // What the new snapshot keeps of the old one is in its column layout (a column came or went).
  const columns = digestColumns(header);
  const carried = (row: SeenRow): SeenRow =>
    snapshot && snapshot.columns.join("\u0000") !== columns.join("\u0000")
      ? { ...row, digest: relayDigest(row.digest, snapshot.columns, columns) }
      : row;

  // The columns whose cell is not what the snapshot saw (a column it did not have reads empty).
  const changedColumns = (previous: SeenRow, row: readonly unknown[]): string[] => {
    const was = carried(previous).digest;
    const now = rowDigest(header, row);
    return columns.filter((_, k) => digestCell(was, k) !== digestCell(now, k));
  };
  // After a header change a row's hash changes with the names: it changed itself only if a
  // column both headers have holds something else (an edit of a renamed column goes unseen).
  const renamedOnly = (previous: SeenRow, row: readonly unknown[]): boolean =>
    snapshot !== null &&
    snapshot.fieldsHash !== header.fieldsHash &&
    columns.some((name) => snapshot.columns.includes(name)) &&
    changedColumns(previous, row).every((name) => !snapshot.columns.includes(name));

  // Content moved by a sort of the visible columns: ids (and their bookkeeping) follow it.
  const moves = findMoves(header, input.rows, input.toldSnapshot ?? snapshot);
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
  // Ids the flush wrote since the last scan whose rows the moves gave to other ids: their
  // items' content is elsewhere (the server, which knows it, may answer that it moved along a
  // chain), and their ids are no longer in the sheet: deleted, as far as the sheet knows.
  const left = new Set<string>();
  if (moves.size > 0) {
    const after = new Set(rows.map((row) => cellToRowId(row[header.idColumn])));
    for (const i of moves.keys()) {
      const id = cellToRowId(input.rows[i]![header.idColumn]);
      if (id && !snapshot?.rows.has(id) && !after.has(id)) left.add(id);
    }
  }

  const inEdit = (row: number): boolean =>
    mode.kind === "edit" && row >= mode.firstRow && row <= mode.lastRow;
  const editedFields =
    mode.kind === "edit"
      ? header.dataColumns
          .filter((c) => c.index >= mode.firstColumn && c.index <= mode.lastColumn)
          .map((c) => c.name)
      : [];
  // Only a single cell's edit says what it typed, and so whether the cell still shows it; only
  // the row's id read before the lock says where that cell is now (a row moved since would show
  // another item's value, maybe the same one: a status, a checkbox).
  const typedBack = (id: string, row: readonly unknown[]): string | null => {
    if (mode.kind !== "edit" || mode.value === undefined || mode.value === null) return null;
    if (mode.firstRow !== mode.lastRow || mode.firstColumn !== mode.lastColumn) return null;
    if (!mode.cell || mode.cell.id !== id) return null;
    // (A cleared cell that held nothing before, by its event, changed nothing.)
    if (mode.value === "" && mode.oldValue === undefined) return null;
    // Content moved under the hidden ids since the last scan (a sort of the visible columns): the
    // id read before the lock may name the item that was in that row before.
    if (moves.has(mode.firstRow) || [...moves.values()].some((b) => b?.id === id)) return null;
    const field = mode.cell.field;
    const column = header.dataColumns.find((c) => c.name === field);
    return column && showsEventValue(row[column.index], mode.value) ? field : null;
  };

  // A paste over the hidden `_id` cell that put an id on content it never held makes a new row
  // (a copy whose original was deleted meanwhile is not that original). A cut-and-paste keeps
  // the content, and so the id.
  const pastedIds =
    mode.kind === "edit" &&
    header.idColumn >= mode.firstColumn &&
    header.idColumn <= mode.lastColumn;
  // A row this edit pasted with its id, or one an earlier onEdit saw pasted without the lock.
  const missedCopies = findMissedCopies(header, rows, input.missedPastes ?? []);
  const pastedHere = (row: number): boolean =>
    (pastedIds && inEdit(row) && !moves.has(row)) || missedCopies.has(row);
  const alike = snapshot ? similarity(header, rows, snapshot) : null;
  const holders = new Map<string, number>();
  for (const row of rows) {
    const id = cellToRowId(row[header.idColumn]);
    if (id) holders.set(id, (holders.get(id) ?? 0) + 1);
  }
  const current = rows.map((row, i) => {
    const id = cellToRowId(row[header.idColumn]);
    const seen = id ? snapshot?.rows.get(id) : undefined;
    // Content that kept the id's telling column (a code, a name) is that item edited: the edit
    // of a paste whose onEdit runs late, after another run already gave the copy its own id.
    if (
      pastedIds &&
      inEdit(i) &&
      !moves.has(i) &&
      seen &&
      seen.hash !== rowHash(header, row) &&
      !(alike?.agreesOnKey(seen.digest, i) ?? false) &&
      // (The copy's own id, given by a run that came first, renamed since: no-key seed 291. Not
      // an id given before the paste, which the original still holds too: no-key seed 323.)
      !(input.givenIds?.has(id) && holders.get(id) === 1)
    ) {
      return "";
    }
    return id;
  });
  const undecidedIds = new Set<string>();
  const keptUndecided = new Map<string, SeenRow>();
  // How alike a row is to what the id held at the last scan.
  const closeness = (row: number, id: string): number => {
    const seen = snapshot?.rows.get(id);
    if (!seen || !alike) return 0;
    // The row that still has the most telling column (a code, a name) is the original,
    // however many other cells were edited since: a copy is what is given a new code.
    return alike.same(seen.digest, row) + (alike.agreesOnKey(seen.digest, row) ? alike.total : 0);
  };
  // Rows sharing a scanned id, none holding its content exactly and not one alone keeping its
  // telling column (a code, a name): the original and a copy both edited since. Which is the
  // copy, only the paste's onEdit says (it covers the id cell); it may run after this one (seed
  // 275: a stale edit's run gave the original a new id). They wait for it, as rows the flush
  // appended do. (More cells alike is no answer: a copy renamed keeps every other cell, while
  // the original's other edits wait for their runs; no-key seed 323.)
  const tied = (id: string, dup: readonly number[]): boolean => {
    const seen = snapshot?.rows.get(id);
    if (!seen || seen.goneAt) return false;
    if (dup.some((row) => seen.hash === rowHash(header, rows[row] ?? []))) return false;
    return dup.filter((row) => alike?.agreesOnKey(seen.digest, row)).length !== 1;
  };
  const { ids, generated } = assignRowIds(
    current,
    (row) => rowHasContent(header, rows[row] ?? []),
    input.newId,
    // Only an edit that wrote the hidden id cell can have brought an id in: an edit of visible
    // cells of the original says nothing about which row is the copy.
    pastedHere,
    // A copy pasted above its original, seen before its onEdit: the original keeps its id.
    (row, id) => snapshot?.rows.get(id)?.hash === rowHash(header, rows[row] ?? []),
    // Neither holds it exactly (the original was edited too): the one most alike keeps it.
    closeness,
    // A row the flush appended since the last scan, pasted with its hidden cells: this scan has
    // no record of its content, so which row is the copy is the paste's onEdit to say (it covers
    // the id cell). Both rows wait, unsent, a few minutes at most (their `_modified` says since
    // when): then the topmost keeps the id, as when nothing tells.
    (id, dup) => {
      // (Without a `_modified` column a wait could not be timed: nothing waits.)
      if (!snapshot || header.modifiedColumn < 0 || dup.some(pastedHere)) return false;
      const seen = snapshot.rows.get(id);
      if (seen && !tied(id, dup)) return false;
      // A scanned id's rows carry its stamp until this wait stamps them: the wait's start, the
      // earliest of their stamps (a row edited during the wait is stamped when it was edited).
      const since = Math.min(...dup.map((row) => rowModified(header, rows[row])));
      const waiting = seen ? since > seen.modified : since > 0;
      if (waiting && now - since > UNDECIDED_COPY_MS) return false;
      undecidedIds.add(id);
      // Stamped now: all at the wait's start; during it, the rows this edit changed, so that
      // the edit goes out with its own time when the wait ends, not the wait's start.
      for (const row of dup) if (!waiting || inEdit(row)) modifiedWrites.set(row, now);
      // Still in the sheet, twice: kept as seen, or the scan would take it for deleted.
      if (seen) keptUndecided.set(id, seen);
      return true;
    },
    (row, id) => {
      const seen = snapshot?.rows.get(id);
      return !seen || !alike || alike.agreesOnKey(seen.digest, row);
    },
  );

  const unscannedSent =
    snapshot !== null &&
    ids.some(
      (id, i) => id !== "" && !undecidedIds.has(id) && !generated.has(i) && !snapshot.rows.has(id),
    );
  ids.forEach((id, index) => {
    if (id === "" || undecidedIds.has(id)) return;
    const row = rows[index] ?? [];
    if (id !== row[header.idColumn]) idWrites.set(index, id);

    const hash = rowHash(header, row);
    let modified = rowModified(header, row);
    // A change is later than the row's last stamp, whatever this execution's clock says: two
    // executions' clocks may differ by seconds, and a stamp below the last one is `stale` to the
    // server (a stamp far ahead is a bad cell, not a clock: then now).
    const last = rowModified(header, row);
    const at = last >= now && last - now <= STAMP_SKEW_MS ? last + 1 : now;
    const stamp = (): number => {
      if (header.modifiedColumn >= 0) modifiedWrites.set(index, at);
      modified = at;
      return at;
    };
    if (generated.has(index) && header.revColumn >= 0 && row[header.revColumn] !== "") {
      // A new or copied row: the copied `_rev` belongs to the row it was copied from.
      revWrites.set(index, "");
    }
    const known = generated.has(index) ? undefined : snapshot?.rows.get(id);
    // A row found deleted before and back now (an undo) appears like a new one.
    const previous = known?.goneAt ? undefined : known;

    if (snapshot === null) {
      // First scan: everything is sent through the resync below. A row without a time gets
      // this one, so that a later resend (a renamed column) carries when the sheet last had it
      // changed, and not the time of the resend: that would beat an app's change made since.
      if (modified === 0) stamp();
    } else if (previous === undefined) {
      // A row that appeared: new, copied, or back (an undone delete). Its appearance is the
      // change, now: an undone delete must beat the delete it undoes.
      upserts.push({ id, modifiedAt: stamp(), fields: null });
    } else if (hash !== previous.hash && renamedOnly(previous, row)) {
      // The header changed (a column renamed or added), not the row: the resend below sends
      // it with its own time; stamping it now would make it beat an app's change made since.
    } else if (hash === previous.hash) {
      // Unchanged since the last scan, yet its cell was just edited, and still shows what that
      // edit gave it: typed away and back (A→B→A) before this run. That is a person's change,
      // made now, of a column an app may have changed meanwhile: sent with the column named.
      const typed = typedBack(id, row);
      if (typed !== null) upserts.push({ id, modifiedAt: stamp(), fields: [typed] });
    } else if (hash !== previous.hash) {
      if (inEdit(index)) {
        // Cells of the row another edit changed too (its own onEdit comes later, and will find
        // nothing new: the snapshot takes the whole row now) go with this one.
        upserts.push({
          id,
          modifiedAt: stamp(),
          fields:
            editedFields.length > 0
              ? [...new Set([...editedFields, ...changedColumns(previous, row)])]
              : null,
        });
      } else if (mode.kind === "reconcile" || unscannedSent) {
        // (With rows the flush wrote since the last scan going out, so do the rows a sort may
        // have moved their content to or from: the server finds a move only within a delivery.)
        const modifiedAt = modified > previous.modified ? modified : stamp();
        upserts.push({ id, modifiedAt, fields: null });
      } else {
        // Keep the old hash so the reconcile still notices this change.
        seen.set(id, carried(previous));
        return;
      }
    }
    const rev = header.revColumn >= 0 ? modifiedCellToMs(row[header.revColumn]) : 0;
    seen.set(id, { hash, modified, rev, digest: rowDigest(header, row), goneAt: 0 });
  });

  for (const [id, previous] of keptUndecided) seen.set(id, carried(previous));
  for (const id of left) deletes.push({ id, modifiedAt: now, displaced: true });
  if (snapshot !== null) {
    for (const [id, previous] of snapshot.rows) {
      if (seen.has(id)) continue;
      if (previous.goneAt) {
        // Remembered a while after its delete, so that content an undo brings back is known.
        if (now - previous.goneAt < GONE_KEPT_MS) seen.set(id, carried(previous));
        continue;
      }
      // onChange reports a person deleting rows: that is now. A delete only the periodic
      // scan finds was made by a script or the API, most often Sheet Sync's own flush
      // carrying a Firestore delete: it keeps the row's last known time.
      const modifiedAt =
        mode.kind === "reconcile" && previous.modified > 0 ? previous.modified : now;
      deletes.push({ id, modifiedAt });
      seen.set(id, { ...carried(previous), goneAt: now });
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
    snapshot: { fieldsHash: header.fieldsHash, columns, rows: seen },
  };
}

/**
 * The copies pastes made: of the rows holding a pasted id, the one that still holds what was
 * pasted (when that told it from the others), or else the one in the copy's place among them
 * (rows moved since keep their order), or else the one still where it was pasted.
 */
function findMissedCopies(
  header: HeaderInfo,
  rows: readonly (readonly unknown[])[],
  pastes: readonly MissedPaste[],
): Set<number> {
  const copies = new Set<number>();
  for (const paste of pastes) {
    const holders: number[] = [];
    rows.forEach((row, i) => {
      if (cellToRowId(row[header.idColumn]) === paste.id) holders.push(i);
    });
    if (holders.length < 2) continue;
    const same = paste.alike ? [] : holders.filter((i) => rowHash(header, rows[i]!) === paste.hash);
    if (same.length === 1) copies.add(same[0]!);
    else if (paste.rank !== undefined && paste.holders === holders.length)
      copies.add(holders[paste.rank]!);
    else if (holders.includes(paste.row)) copies.add(paste.row);
  }
  return copies;
}

/**
 * Rows the sync wrote since the snapshot (their `_rev` is set and not what the snapshot saw):
 * their content is the server's to tell (see DescribeRequest), so that a sort of the visible
 * columns that moved it is followed by content, like any row the script scanned itself.
 */
export function unscannedWrites(
  header: HeaderInfo,
  rows: readonly (readonly unknown[])[],
  snapshot: Snapshot | null,
): string[] {
  if (!snapshot || header.idColumn < 0 || header.revColumn < 0) return [];
  const ids = new Set<string>();
  for (const row of rows) {
    const id = cellToRowId(row[header.idColumn]);
    const rev = modifiedCellToMs(row[header.revColumn]);
    if (!id || rev === 0) continue;
    // (A row the snapshot saw deleted and that is back with another `_rev` was written again by
    // the flush; one an undo brought back shows the `_rev` it had.)
    const seen = snapshot.rows.get(id);
    if (!seen || seen.rev !== rev) ids.add(id);
  }
  return [...ids];
}

/**
 * The snapshot, plus what the server says the sync last wrote into rows it has not scanned:
 * taken only where the row's `_rev` shows that very write (the server may describe a write
 * still on its way, or one newer than this read).
 */
export function withDescribed(
  header: HeaderInfo,
  rows: readonly (readonly unknown[])[],
  snapshot: Snapshot,
  described: readonly DescribedRow[],
): Snapshot {
  if (described.length === 0 || header.idColumn < 0 || header.revColumn < 0) return snapshot;
  const byId = new Map(described.map((d) => [d.id, d]));
  const columns = digestColumns(header);
  const merged = new Map(snapshot.rows);
  for (const row of rows) {
    const id = cellToRowId(row[header.idColumn]);
    const d = id ? byId.get(id) : undefined;
    if (!d || d.rev !== modifiedCellToMs(row[header.revColumn])) continue;
    if (snapshot.rows.get(id)?.rev === d.rev) continue;
    const fields = header.dataColumns.map((c): [string, WireCell] => [
      c.name,
      d.values[c.name] ?? null,
    ]);
    merged.set(id, {
      hash: fieldsHash(fields),
      digest: relayDigest(fieldsDigest(fields), columns, snapshot.columns),
      modified: rowModified(header, row),
      rev: d.rev,
      goneAt: 0,
    });
  }
  return { ...snapshot, rows: merged };
}
