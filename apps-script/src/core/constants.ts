/** Header texts of the two hidden bookkeeping columns. */
export const ID_HEADER = "_id";
export const MODIFIED_HEADER = "_modified";

/** Ids the webhook accepts; anything else in the `_id` column is re-keyed. */
export const ROW_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** Webhook request caps (the server's hard limit is 10 MiB; stay far below it). */
export const MAX_ROWS_PER_REQUEST = 500;
export const MAX_BODY_BYTES = 1_000_000;

/**
 * PropertiesService allows 9 KB per value and 500 KB per store. Chunks are pure
 * ASCII, so characters are bytes; both budgets leave headroom whether Google
 * means 1000 or 1024 and whether keys count.
 */
export const PROPERTY_CHUNK_CHARS = 8_000;
export const PROPERTY_STORE_BUDGET_BYTES = 450_000;
