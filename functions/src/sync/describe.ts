/**
 * Answers a script about rows it has not scanned since the flush wrote them (see DescribeRequest
 * in the contract): one read of those rows' records, nothing written.
 */
import type { DescribedRow } from "../../../contract/src/wire.js";
import { describedRow } from "../core/rowState.js";
import type { SyncStore } from "./ports.js";

export async function describeRows(
  store: SyncStore,
  ids: readonly string[],
): Promise<DescribedRow[]> {
  const records = await store.read([...new Set(ids)]);
  return [...records].flatMap(([id, record]) => describedRow(id, record.state) ?? []);
}
