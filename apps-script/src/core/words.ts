/**
 * An edit's word: which row (by id) and column (by name) a person's single-cell edit changed,
 * and to what, left by the edit's execution as it starts, before it waits for the lock. Another
 * execution that takes the lock first (and finds the sheet sorted since) reads the words of the
 * edits still waiting, so it knows how each edited item looks now, not only how it looked at
 * the last scan. They are hints for matching rows to ids, never data to send: a word lost (the
 * cache is best effort) only leaves the matching to the cells.
 */

import { encodeCell, type WireCell } from "../../../contract/src/cells";
import type { HeaderInfo } from "./header";
import { cellToRowId } from "./ids";
import {
  cellDigest,
  DIGEST_WIDTH,
  digestCell,
  digestColumns,
  relayDigest,
  rowDigest,
  rowHasContent,
  rowHash,
} from "./scan";
import type { SeenRow, Snapshot } from "./snapshot";

/**
 * What an id's waiting edits say: column by column, the value typed and when; and how the whole
 * row looked to the latest of them (its digest, under the header whose names hash to `fields`).
 * The row's `_id` names the item only while the row holds that item: after a sort the script has
 * not followed yet, it is another item's row. The scan takes the words only when the row as the
 * latest edit saw it is the id's item as last seen with the words applied.
 */
export interface Words {
  readonly cells: ReadonlyMap<
    string,
    {
      readonly value: WireCell;
      readonly at: number;
      /** Digests of what the column's edits replaced (`e.oldValue`), when the events said. */
      readonly was: readonly string[];
    }
  >;
  readonly row: string;
  readonly fields: string;
}

/** Asks the cache for the words of these ids (only those it holds come back). */
export type WordsFor = (ids: readonly string[]) => ReadonlyMap<string, Words>;

/** How long a word is kept: scans run every minute, so one waits minutes at most. */
export const WORD_TTL_SECONDS = 600;

/** At most this many ids' words are asked for in one scan (the cache holds 1,000 items). */
export const WORDS_ASKED_MAX = 500;

export function wordKey(id: string): string {
  return `sheetSync.word.${id}`;
}

/** An empty cell's digest. */
const EMPTY_DIGEST = cellDigest(null);

/** At most this many replaced values are kept per column (a cell typed over and over). */
const WAS_KEPT = 8;

/**
 * The digests a cell's old value (`e.oldValue`, text) may have had: as text, and as the number
 * or boolean that text shows (Apps Script gives a number's digits).
 */
export function oldValueDigests(oldValue: string | undefined): string[] {
  if (oldValue === undefined) return [];
  // (A cell that held nothing: the engine says "" where the event gives no `e.oldValue` for a
  // value typed into it, as Apps Script documents for an empty cell.)
  if (oldValue === "") return [cellDigest(null)];
  const digests = [cellDigest(encodeCell(oldValue))];
  const n = Number(oldValue);
  if (oldValue.trim() !== "" && Number.isFinite(n)) digests.push(cellDigest(encodeCell(n)));
  if (oldValue === "TRUE" || oldValue === "FALSE") {
    digests.push(cellDigest(encodeCell(oldValue === "TRUE")));
  }
  return digests;
}

/**
 * The cache entry of an id with one more word in it (a later word of a column replaces it, and
 * keeps what the earlier ones replaced), and the row as this edit saw it.
 */
export function withWord(
  entry: string | null,
  field: string,
  cell: unknown,
  at: number,
  row: { digest: string; fieldsHash: string },
  oldValue?: string,
): string {
  const words = parseWordEntry(entry);
  const cells: Record<string, [WireCell, number, string[]]> = {};
  const olds = oldValueDigests(oldValue);
  const prior = words?.fields === row.fieldsHash ? words.cells.get(field) : undefined;
  // This edit replaced something else than the column's last word gave it: the words so far
  // were about another item (a sort put this one in the row since), or lost one between. Only
  // this edit's word stays: mixed, they would describe an item that never was. (Another
  // column's word the row no longer shows says nothing so sure: the same column's next edit,
  // whose run has not started, or an app's write, shows there too.)
  const broken = prior !== undefined && olds.length > 0 && !olds.includes(cellDigest(prior.value));
  if (words?.fields === row.fieldsHash && !broken) {
    for (const [name, word] of words.cells) cells[name] = [word.value, word.at, [...word.was]];
  }
  const was = [...new Set([...(cells[field]?.[2] ?? []), ...olds])];
  cells[field] = [encodeCell(cell), at, was.slice(-WAS_KEPT)];
  return JSON.stringify({ w: cells, r: row.digest, f: row.fieldsHash });
}

/** Words from a cache entry; anything unreadable is none. */
export function parseWordEntry(entry: string | null | undefined): Words | null {
  if (!entry) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  const { w, r, f } = parsed as Record<string, unknown>;
  if (typeof r !== "string" || typeof f !== "string" || !w || typeof w !== "object") return null;
  const cells = new Map<string, { value: WireCell; at: number; was: string[] }>();
  for (const [name, word] of Object.entries(w as Record<string, unknown>)) {
    if (!Array.isArray(word) || word.length < 2 || typeof word[1] !== "number") continue;
    const was = Array.isArray(word[2]) ? word[2].filter((d) => typeof d === "string") : [];
    cells.set(name, { value: word[0] as WireCell, at: word[1], was });
  }
  return cells.size ? { cells, row: r, fields: f } : null;
}

/**
 * The snapshot as the waiting edits say the rows look now: each id whose content is nowhere in
 * the sheet exactly (edited, perhaps moved too) gets its words put into its digest, and, when
 * exactly one row now holds that very content, that row's hash. Only for matching: what changed
 * is still judged against the snapshot as seen. Asks nothing when at most one row changed in
 * its own place (a plain edit: nothing to tell apart).
 */
export function snapshotWithWords(
  header: HeaderInfo,
  rows: readonly (readonly unknown[])[],
  snapshot: Snapshot,
  wordsFor: WordsFor,
): Snapshot {
  const hashes = rows.map((row) => (rowHasContent(header, row) ? rowHash(header, row) : ""));
  const ids = rows.map((row) => cellToRowId(row[header.idColumn]));
  const inSheet = new Set(hashes);
  const own = (i: number) => ids[i] !== "" && snapshot.rows.get(ids[i]!)?.hash === hashes[i];
  // Rows holding content that is not their own id's as last seen (edited, moved, new).
  const changed = hashes.flatMap((h, i) => (h !== "" && !own(i) ? [i] : []));
  // (A set, not a search per id: a scan of 10,000 rows runs this on every edit.)
  const home = new Set(ids.filter((_, i) => own(i)));
  // Ids whose content is nowhere now (edited) first; then those whose very content only rows
  // without an id show (a new row typed alike while the item was edited in place: no-key seed
  // 300); then those whose content another id's row shows: a sort's doing. A word left in such
  // an id's row is about the item the sort put there, never the id's (seed 302); what its edits
  // replaced may say which item that was (seed 312).
  const withId = new Set(hashes.filter((h, i) => ids[i] !== ""));
  const away = [...snapshot.rows].filter(([id, seen]) => !seen.goneAt && !home.has(id));
  // (Not an id whose content another item shares exactly: the content seen elsewhere may be
  // that twin's, and this item edited; no-key seed 317.)
  const shared = new Map<string, number>();
  for (const seen of snapshot.rows.values()) {
    if (!seen.goneAt) shared.set(seen.hash, (shared.get(seen.hash) ?? 0) + 1);
  }
  const sorted = new Set(
    away
      .filter(([, seen]) => withId.has(seen.hash) && shared.get(seen.hash) === 1)
      .map(([id]) => id),
  );
  const asked = [
    ...away.filter(([, seen]) => !inSheet.has(seen.hash)),
    ...away.filter(([, seen]) => inSheet.has(seen.hash) && !withId.has(seen.hash)),
    ...away.filter(([, seen]) => withId.has(seen.hash)),
  ].map(([id]) => id);
  if (asked.length === 0) return snapshot;
  if (asked.length === 1 && changed.length === 1 && ids[changed[0]!] === asked[0]) return snapshot;
  const words = wordsFor(asked.slice(0, WORDS_ASKED_MAX));
  if (words.size === 0) return snapshot;
  const columns = digestColumns(header);
  const byDigest = new Map<string, number[]>();
  const digestOf = (i: number) => rowDigest(header, rows[i]!);
  for (const i of changed) {
    const d = digestOf(i);
    const group = byDigest.get(d);
    if (group) group.push(i);
    else byDigest.set(d, [i]);
  }
  // The leftmost column names the item (a code, a name), in the digests' order of columns.
  const leftmost = header.dataColumns.reduce((a, b) => (b.index < a.index ? b : a));
  const first = snapshot.columns.indexOf(leftmost.name);
  // Each id's own words where its row held its item: how that item looks now.
  const ownTold = new Map<string, Told>();
  for (const [id, said] of words) {
    const seen = snapshot.rows.get(id);
    if (!seen || said.fields !== snapshot.fieldsHash || sorted.has(id)) continue;
    const own = withWords(seen, said, snapshot.columns);
    if (own.told.size > 0 && heldItem(seen.digest, said.row, own.told, first)) ownTold.set(id, own);
  }
  const holding = (d: string) => byDigest.get(relayDigest(d, snapshot.columns, columns)) ?? [];
  // (An item its own words show in its own row, edited in place, but for one cell (a formula's),
  // was not in another's row.)
  const changedOf = new Map<string, number[]>();
  for (const i of changed) {
    if (!ids[i]) continue;
    const rowsOf = changedOf.get(ids[i]!);
    if (rowsOf) rowsOf.push(i);
    else changedOf.set(ids[i]!, [i]);
  }
  const toldHome = [...ownTold].filter(([id, own]) => {
    const d = relayDigest(own.digest, snapshot.columns, columns);
    return (changedOf.get(id) ?? []).some((i) => cellsDiffering(d, digestOf(i)) <= 1);
  });
  for (const [id] of toldHome) ownTold.delete(id);
  // (Not an item whose very content another id's row shows: moved intact, not edited.)
  const editedItem = otherItemEdited(
    snapshot,
    first,
    new Set([...home, ...sorted, ...toldHome.map(([id]) => id)]),
    ownTold,
  );
  const next = new Map<string, SeenRow>(snapshot.rows);
  const retold = new Set<string>();
  // Each retold item as told so far (words that go on from its own build on it).
  const toldNow = new Map<string, Told>();
  // Ids whose own words were about another item, and told as that item's.
  const toldAway = new Set<string>();
  for (const [id, said] of words) {
    if (said.fields !== snapshot.fieldsHash) continue;
    let item = id;
    let seen = snapshot.rows.get(id);
    if (!seen) continue;
    let { digest, told } = withWords(seen, said, snapshot.columns);
    // Words the id's last stamp overtakes were seen by a scan that followed the rows then.
    if (told.size === 0) continue;
    const since = firstWordAt(said, seen);
    const held = !sorted.has(id) && heldItem(seen.digest, said.row, told, first);
    // Held on weak evidence (two untouched cells differ) while a sort moved other content, or
    // this item's own content to another row: an item away from its row that fits the row as
    // the edit saw it better was there (attacks C, C2).
    const ownOff = cellsDiffering(seen.digest, said.row, told);
    let better: string | null = null;
    // Or held in doubt (the first column's edit replaced another name): an item the old values
    // all name, fitting the row no worse, was there (a renamed copy beside its original; C3).
    // (An old value that was empty names no item: attack review 3, B.)
    const firstWas = told.get(first)?.filter((d) => d !== EMPTY_DIGEST) ?? [];
    const doubt = firstWas.length > 0 && !firstWas.includes(cellAt(seen.digest, first));
    const weak = ownOff >= 2 && (sorted.size > 0 || inSheet.has(seen.hash));
    if (held && (weak || doubt)) {
      const other = editedItem(said, told, since);
      const fits = (o: string) => {
        const off = cellsDiffering(snapshot.rows.get(o)!.digest, said.row, told);
        return off < ownOff || (doubt && off <= ownOff);
      };
      if (other && other !== id && fits(other)) better = other;
    }
    // The item's cells the edits replaced: as last seen, or as its own earlier words typed them.
    let base = seen.digest;
    if (held && !better) {
      // (Its words went on already, under the id of the row a sort moved it to.)
      if (retold.has(id)) continue;
    } else {
      // The row held another item when edited: the one the edits' old values say, if any. Only
      // where a sort is in evidence (the id's content moved intact, or the row's first column
      // untouched by the edits is another's): many edits of the item itself fail `heldItem`
      // too, and an alike item elsewhere would then take its words (no-key seed 317).
      const firstElsewhere =
        !told.has(first) && cellAt(seen.digest, first) !== cellAt(said.row, first);
      if (!better && !sorted.has(id) && !firstElsewhere && !doubt) continue;
      // (By every word's old value, overtaken ones too: a word already retold from this id's
      // cache entry still says what the row held; attack review 3, C.)
      const other = better ?? editedItem(said, allWas(said, snapshot.columns), since);
      if (!other || other === id) continue;
      // Words that go on from the other item's own (later than all of them, replacing what they
      // typed: the item edited before a sort and after it) are told with them (attack E).
      // Otherwise not over another retelling, nor over the other item's own live words that
      // are about yet another item (seed 341) and not told as that one's.
      const goesOn =
        (ownTold.get(other)?.last ?? Infinity) < since
          ? (toldNow.get(other) ?? ownTold.get(other))
          : undefined;
      const own = words.get(other);
      const otherSeen = snapshot.rows.get(other)!;
      if (!goesOn && retold.has(other)) continue;
      const ownLive =
        own && !toldAway.has(other) && withWords(otherSeen, own, snapshot.columns).told.size > 0;
      if (!goesOn && ownLive) continue;
      item = other;
      seen = otherSeen;
      const said2 = withWords(seen, said, snapshot.columns, goesOn?.digest);
      base = goesOn?.digest ?? seen.digest;
      digest = said2.digest;
      told = new Map([...(goesOn?.told ?? []), ...said2.told]);
    }
    if (digest === seen.digest) continue;
    retold.add(item);
    toldNow.set(item, { digest, told, last: Math.max(since, toldNow.get(item)?.last ?? 0) });
    if (item !== id) toldAway.add(id);
    // The one row showing the told content, or else the row as the latest edit saw it (edits
    // not told, a formula following them; seed 312). With neither, the item is still not its
    // old content, and a row showing that content is another item (a new row typed alike, a
    // copy; no-key seed 300), not this one moved: matched by cells instead.
    // (That row only where every edit told replaced the item's own cell: weaker evidence
    // places two alike rows the wrong way round.)
    const replacedOwn = [...told].every(
      ([k, was]) => was.includes(cellAt(base, k)) || was.includes(cellAt(seen.digest, k)),
    );
    // (And only a row that is the told item but for one cell, a formula's: an edit whose run
    // started after a sort reads another item's row, whose cell may equal what was typed.)
    const off = cellsDiffering(digest, said.row);
    const holders =
      holding(digest).length === 1 || !replacedOwn || off > 1 ? holding(digest) : holding(said.row);
    const hash = holders.length === 1 ? hashes[holders[0]!]! : `told:${seen.hash}`;
    next.set(item, { ...seen, digest, hash });
  }
  return { ...snapshot, rows: next };
}

/** How many cells differ between two digests, leaving out the columns edits told. */
function cellsDiffering(
  a: string,
  b: string,
  told: ReadonlyMap<number, unknown> = new Map(),
): number {
  let n = 0;
  for (let k = 0; k * DIGEST_WIDTH < a.length; k++) {
    if (!told.has(k) && cellAt(a, k) !== cellAt(b, k)) n++;
  }
  return n;
}

/** One column's cell in a digest ("" past its end). */
function cellAt(digest: string, k: number): string {
  return digestCell(digest, k) ?? "";
}

/** An item's last-seen digest with the words later than its last stamp put in. */
function withWords(
  seen: SeenRow,
  said: Words,
  columns: readonly string[],
  base = seen.digest,
): Told {
  let digest = base;
  let last = 0;
  const told = new Map<number, readonly string[]>();
  for (const [field, word] of said.cells) {
    // (A word no later than the row's last stamp is in the snapshot already, or overtaken.)
    const k = columns.indexOf(field);
    if (k < 0 || word.at <= seen.modified) continue;
    const cell = cellDigest(word.value);
    digest = digest.slice(0, k * DIGEST_WIDTH) + cell + digest.slice((k + 1) * DIGEST_WIDTH);
    told.set(k, word.was);
    last = Math.max(last, word.at);
  }
  return { digest, told, last };
}

/** What every word of these replaced, by column (overtaken ones too). */
function allWas(said: Words, columns: readonly string[]): Map<number, readonly string[]> {
  const was = new Map<number, readonly string[]>();
  for (const [field, word] of said.cells) {
    const k = columns.indexOf(field);
    if (k >= 0) was.set(k, word.was);
  }
  return was;
}

/** When the earliest of the words later than the item's last stamp was said. */
function firstWordAt(said: Words, seen: SeenRow): number {
  let at = Infinity;
  for (const word of said.cells.values()) if (word.at > seen.modified) at = Math.min(at, word.at);
  return at;
}

/** An item's digest with words put in, the columns they told (what each replaced), and when. */
interface Told {
  readonly digest: string;
  readonly told: Map<number, readonly string[]>;
  readonly last: number;
}

/**
 * Which item a row held when edits were made in it under another item's id (a sort the script
 * had not followed): the one item, away from its own row, whose last-seen cells are what the
 * edits replaced (their `e.oldValue`) and, elsewhere, what the row showed them, but for one
 * cell at most (a formula's follows the edits). Among items of the same first column only.
 */
function otherItemEdited(
  snapshot: Snapshot,
  first: number,
  home: ReadonlySet<string>,
  ownTold: ReadonlyMap<string, Told>,
): (said: Words, was: ReadonlyMap<number, readonly string[]>, since: number) => string | null {
  // Each item as last seen, or as its own words tell it where they are (edits of the item in
  // its own row before a sort took it elsewhere).
  let byFirst: Map<string, [string, string, number][]> | null = null;
  return (said, was, since) => {
    // (Without what an edit replaced, the row before it is unknown.)
    if ([...was.values()].some((replaced) => replaced.length === 0)) return null;
    if (byFirst === null) {
      byFirst = new Map();
      for (const [id, seen] of snapshot.rows) {
        if (seen.goneAt || home.has(id)) continue;
        const own = ownTold.get(id);
        const digest = own?.digest ?? seen.digest;
        const key = cellAt(digest, first);
        const group = byFirst.get(key);
        const entry: [string, string, number] = [id, digest, own?.last ?? 0];
        if (group) group.push(entry);
        else byFirst.set(key, [entry]);
      }
    }
    const firsts = was.get(first) ?? [cellAt(said.row, first)];
    let best: string[] = [];
    let fewest = 2;
    for (const key of firsts) {
      for (const [id, digest, last] of byFirst.get(key) ?? []) {
        // (Words that replaced what the item's own words typed came after them.)
        if (last >= since) continue;
        let differ = 0;
        for (let k = 0; k * DIGEST_WIDTH < digest.length && differ < 2; k++) {
          const cell = cellAt(digest, k);
          const replaced = was.get(k);
          if (replaced) {
            if (!replaced.includes(cell)) differ = 2;
          } else if (cell !== cellAt(said.row, k)) differ++;
        }
        if (differ >= 2) continue;
        if (differ < fewest) [best, fewest] = [[id], differ];
        else if (differ === fewest && !best.includes(id)) best.push(id);
      }
    }
    return best.length === 1 ? best[0]! : null;
  };
}

/**
 * Did the row the edits were made in hold the id's item (as last seen), not another's that a
 * sort the script had not followed put there? Its cells the edits did not touch say (the item's
 * first column, and at least as many of the others agreeing as not: a formula's cell follows
 * the edits, so one may differ, and so may a cell whose edit's run has not started yet), and an
 * edit's old value (`e.oldValue`) that is the item's last-seen cell agrees.
 */
function heldItem(
  seen: string,
  row: string,
  told: ReadonlyMap<number, readonly string[]>,
  first: number,
): boolean {
  let agree = 0;
  let differ = 0;
  let doubt = false;
  for (let k = 0; k * DIGEST_WIDTH < seen.length; k++) {
    const was = told.get(k);
    const cell = cellAt(seen, k);
    if (was) {
      // An edit's old value that is the item's last-seen cell says the row held it. One that
      // is not, in the first column, is doubt, not proof: an edit whose run has not started
      // (or whose word the cache lost) may have changed the cell in between.
      if (was.includes(cell)) agree++;
      else if (k === first && was.length > 0) doubt = true;
      continue;
    }
    const same = cell === cellAt(row, k);
    if (k === first && !same) return false;
    if (same) agree++;
    else differ++;
  }
  // In doubt, the other cells must say it clearly (at most one differing, a formula's).
  return doubt ? differ <= 1 && agree > differ : agree >= differ;
}
