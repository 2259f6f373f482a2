/** What the words tests share: a scan of rows against a snapshot, told by words or not. */
import { analyzeHeader } from "../../src/core/header";
import { scanSheet, type ScanInput } from "../../src/core/scan";
import type { Snapshot } from "../../src/core/snapshot";
import { snapshotWithWords, type WordsFor } from "../../src/core/words";

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
