import { toAsciiJson } from "../../../contract/src/cells";

export interface DeadLetter {
  readonly reason: string;
  readonly at: number;
}

/**
 * Rows the server refused on their own (a date Firestore cannot store, a row
 * too big for a document): set aside so they never hold up the others, shown
 * in Status and as a note on the row, and sent again when the row changes.
 */
export class DeadLetters {
  private readonly rows = new Map<string, DeadLetter>();

  get size(): number {
    return this.rows.size;
  }

  has(id: string): boolean {
    return this.rows.has(id);
  }

  entries(): [string, DeadLetter][] {
    return [...this.rows].sort((a, b) => b[1].at - a[1].at);
  }

  add(id: string, reason: string, at: number): void {
    this.rows.delete(id);
    this.rows.set(id, { reason, at });
  }

  /** True when the row was set aside before (its note must go). */
  remove(id: string): boolean {
    return this.rows.delete(id);
  }

  /** Keeps the `keep` most recent (storage is limited; the notes on the rows stay). */
  trim(keep: number): void {
    for (const [id] of this.entries().slice(keep)) this.rows.delete(id);
  }

  serialize(): string {
    return toAsciiJson({ v: 1, r: Object.fromEntries(this.rows) });
  }

  static parse(text: string | null): DeadLetters {
    const letters = new DeadLetters();
    if (!text) return letters;
    const stored = JSON.parse(text) as { v: number; r: Record<string, DeadLetter> };
    for (const [id, letter] of Object.entries(stored.r ?? {})) letters.rows.set(id, letter);
    return letters;
  }
}
