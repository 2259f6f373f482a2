/** The sync's fixed numbers (deploy settings are in ../config.ts). */

/** Rows per Firestore transaction (each row writes up to 4 documents; 500 writes a commit). */
export const ROWS_PER_COMMIT = 100;
/** Stay below Firestore's 10 MiB request: rows also go by size into a commit. */
export const BYTES_PER_COMMIT = 6 * 1024 * 1024;
/** Transactions in flight at once while ingesting one request or reconciling. */
export const COMMITS_IN_FLIGHT = 4;

/** Changes within one window share one flush task (the task id is per sheet and window). */
export const FLUSH_WINDOW_MS = 2_000;
/** A flush waits until no row changed for this long... */
export const FLUSH_QUIET_MS = 1_000;
/** ...but never delays a row more than this: a long burst flushes every 15 s. */
export const FLUSH_MAX_WAIT_MS = 15_000;
/** Rows one flush takes; more wait for the next (they stay in the outbox). */
export const FLUSH_MAX_ROWS = 5_000;
/** A row whose id is on two sheet rows waits this long for the script to re-key the copy. */
export const SHARED_ID_RETRY_MS = 20_000;

/**
 * A flush that set rows aside (they held another item's content: a sort of the visible columns,
 * or an edit of the same cell on its way) asks for a reconcile this much later: after the
 * script's minute scan has moved the ids, so the rows are written rather than left for the
 * scheduled run.
 */
export const PARKED_RECHECK_MS = 120_000;
