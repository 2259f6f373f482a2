/**
 * Last write wins, per row, in a total order so that any delivery order of
 * the same changes ends in the same state:
 *   1. the later `modifiedAt` wins;
 *   2. at the same ms, a delete beats an update (a deleted row must not come back);
 *   3. at the same ms between two updates, the larger content hash wins
 *      (arbitrary but the same everywhere).
 * Equal versions are the same change delivered again: nothing to do.
 */
export interface RowVersion {
  modifiedAt: number;
  deleted: boolean;
  /** Content hash of an update; "" for a delete. */
  hash: string;
}

export function compareVersions(a: RowVersion, b: RowVersion): number {
  if (a.modifiedAt !== b.modifiedAt) return a.modifiedAt < b.modifiedAt ? -1 : 1;
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  if (a.hash !== b.hash) return a.hash < b.hash ? -1 : 1;
  return 0;
}

export function laterOf(a: RowVersion | null, b: RowVersion | null): RowVersion | null {
  if (!a) return b;
  if (!b) return a;
  return compareVersions(a, b) >= 0 ? a : b;
}
