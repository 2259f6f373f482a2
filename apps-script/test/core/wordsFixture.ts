/** What the words tests share: a scan of rows against a snapshot, told by words or not. */
import { analyzeHeader } from "../../src/core/header";
import { rowDigest, scanSheet, type ScanInput } from "../../src/core/scan";
import type { Snapshot } from "../../src/core/snapshot";
import {
  parseWordEntry,
  snapshotWithWords,
  withWord,
  type Words,
  type WordsFor,
} from "../../src/core/words";
import type { HeaderInfo } from "../../src/core/header";

export const NOW = 1_763_700_000_000;

/** A minute's scan (reconcile mode) of a tab with this header row; new ids r_new1, r_new2… */
export function wordsScanner(headerRow: readonly string[]) {
  const header = analyzeHeader([...headerRow]);
  const scan = (
    rows: unknown[][],
    snapshot: Snapshot | null,
    wordsFor?: WordsFor,
    now = NOW,
  ): ReturnType<typeof scanSheet> => {
    let n = 0;
    const input: ScanInput = {
      header,
      rows,
      snapshot,
      ...(snapshot && wordsFor
        ? { toldSnapshot: snapshotWithWords(header, rows, snapshot, wordsFor) }
        : {}),
      now,
      newId: () => `r_new${++n}`,
      mode: { kind: "reconcile" },
    };
    return scanSheet(input);
  };
  return { header, scan };
}

/** The ids the rows hold after the scan's id writes. */
export const idsOf = (result: ReturnType<typeof scanSheet>, rows: unknown[][]) =>
  rows.map((row, i) => result.idWrites.get(i) ?? row[0]);

/** One edit as its execution leaves its word: the column, the value, when, the row it saw. */
export type Edit = [field: string, cell: unknown, at: number, saw: unknown[], oldValue?: string];

/** The words the cache gives back for ids whose edits (in order, per id) left them. */
export function wordsLeft(header: HeaderInfo, edits: Record<string, readonly Edit[]>): WordsFor {
  return (ids) => {
    const words = new Map<string, Words>();
    for (const id of ids) {
      let entry: string | null = null;
      for (const [field, cell, at, saw, oldValue] of edits[id] ?? []) {
        const row = { digest: rowDigest(header, saw), fieldsHash: header.fieldsHash };
        entry = withWord(entry, field, cell, at, row, oldValue);
      }
      const said = parseWordEntry(entry);
      if (said) words.set(id, said);
    }
    return words;
  };
}
