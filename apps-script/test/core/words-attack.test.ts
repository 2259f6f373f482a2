import assert from "node:assert/strict";
import { idsOf, wordsScanner } from "./wordsFixture";
import { rowDigest } from "../../src/core/scan";
import { parseWordEntry, withWord, type Words, type WordsFor } from "../../src/core/words";

const HEADER = ["_id", "name", "qty", "price", "_modified"];
const { header, scan } = wordsScanner(HEADER);
const entryFor =
  (entries: Record<string, string>): WordsFor =>
  (ids) => {
    const m = new Map<string, Words>();
    for (const id of ids) {
      const w = parseWordEntry(entries[id] ?? null);
      if (w) m.set(id, w);
    }
    return m;
  };

describe("words, attack review 1: words already used, and near twins", () => {
  it("A: a word already consumed by a scan is retold to a lookalike after a later sort (swap)", () => {
    // P = r_a Widget qty 1 price 2; Q = r_b Widget qty 1 price 3; r_c Gizmo.
    const before = [
      ["r_a", "Widget", 1, 2, 1000],
      ["r_b", "Widget", 1, 3, 1000],
      ["r_c", "Gizmo", 3, 2, 1000],
    ];
    const s0 = scan(before, null, undefined, 1000).snapshot;
    // Person edits P's qty 1 -> 5; the edit's execution leaves its word, then scans (stamps 2000).
    const edited = [
      ["r_a", "Widget", 5, 2, 1000],
      ["r_b", "Widget", 1, 3, 1000],
      ["r_c", "Gizmo", 3, 2, 1000],
    ];
    const word = withWord(
      null,
      "qty",
      5,
      1500,
      { digest: rowDigest(header, edited[0]!), fieldsHash: header.fieldsHash },
      "1",
    );
    const r1 = scan(edited, s0, entryFor({ r_a: word }), 2000);
    const s1 = r1.snapshot;
    // Minutes later (word still cached, TTL 600 s) the person sorts the visible columns by price desc.
    const sorted = [
      ["r_a", "Widget", 1, 3, 2000],
      ["r_b", "Widget", 5, 2, 1000],
      ["r_c", "Gizmo", 3, 2, 1000],
    ];
    for (const [i, w] of r1.modifiedWrites) {
      /* stamps */ void i;
      void w;
    }
    const blind = scan(sorted, s1, undefined, 3000);
    const told = scan(sorted, s1, entryFor({ r_a: word }), 3000);
    console.log(
      "blind",
      idsOf(blind, sorted),
      "told",
      idsOf(told, sorted),
      "upserts",
      told.upserts.map((u) => [u.id, JSON.stringify(u.fields)]),
      "deletes",
      told.deletes,
    );
    assert.deepEqual(idsOf(blind, sorted), ["r_b", "r_a", "r_c"], "cells alone get it right");
    assert.deepEqual(
      idsOf(told, sorted),
      idsOf(blind, sorted),
      "the stale word must not change the outcome",
    );
  });

  it("B: a new near-twin row typed, sorted, then edited: its word is retold to the existing item", () => {
    const before = [
      ["r_a", "Widget", 1, 2, 1000],
      ["r_b", "Gadget", 2, 2, 1000],
      ["r_c", "Gizmo", 3, 2, 1000],
      ["r_d", "Sprocket", 4, 2, 1000],
    ];
    const s0 = scan(before, null, undefined, 1000).snapshot;
    // Typed: Gadget 2 price 3 (no id yet); sort by price desc (visible columns); then the new
    // row's qty 2 -> 8, in r_a's row.
    const now = [
      ["r_a", "Gadget", 8, 3, 1000],
      ["r_b", "Widget", 1, 2, 1000],
      ["r_c", "Gadget", 2, 2, 1000],
      ["r_d", "Gizmo", 3, 2, 1000],
      ["", "Sprocket", 4, 2, ""],
    ];
    const word = withWord(
      null,
      "qty",
      8,
      1500,
      { digest: rowDigest(header, now[0]!), fieldsHash: header.fieldsHash },
      "2",
    );
    const blind = scan(now, s0, undefined, 2000);
    const told = scan(now, s0, entryFor({ r_a: word }), 2000);
    console.log(
      "blind",
      idsOf(blind, now),
      "told",
      idsOf(told, now),
      "upserts",
      told.upserts.map((u) => [u.id, JSON.stringify(u.fields)]),
    );
    assert.deepEqual(idsOf(told, now), idsOf(blind, now));
  });
});
