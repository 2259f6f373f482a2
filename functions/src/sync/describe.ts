/**
 * Answers a script about rows it has not scanned since the flush wrote them (see DescribeRequest
 * in the contract): one read of those rows' records, nothing written.
 */
import { toWire, type WireCell } from "../../../contract/src/cells.js";
import type { DescribedRow } from "../../../contract/src/wire.js";
import { describedRow } from "../core/rowState.js";
import type { SyncStore } from "./ports.js";

export async function describeRows(
  store: SyncStore,
  ids: readonly string[],
): Promise<DescribedRow[]> {
  const records = await store.read([...new Set(ids)]);
  const rows: DescribedRow[] = [];
  for (const [id, record] of records) {
    const described = describedRow(record.state);
    if (!described) continue;
    const values: Record<string, WireCell> = {};
    for (const [column, value] of Object.entries(described.values)) values[column] = toWire(value);
    rows.push({ id, rev: described.rev, values });
  }
  return rows;
}
