/**
 * PropertiesService allows 9 KB per value and 500 KB per store. Chunks are pure
 * ASCII, so characters are bytes; both budgets leave headroom whether Google
 * means 1000 or 1024 and whether keys count.
 */
export const PROPERTY_CHUNK_CHARS = 8_000;
export const PROPERTY_STORE_BUDGET_BYTES = 450_000;
