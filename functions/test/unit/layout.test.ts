import assert from "node:assert/strict";
import type { DocumentSnapshot } from "firebase-admin/firestore";
import { emptyRowState, type RowState } from "../../src/core/rowState.js";
import { readState, stateData } from "../../src/store/layout.js";

const META = { collection: "items", rowId: "r_a", sheetKey: "sheet" };
const stored = (data: Record<string, unknown>) =>
  ({ exists: true, data: () => data }) as unknown as DocumentSnapshot;

describe("row state as stored in Firestore", () => {
  it("keeps what a webhook read under a write in flight, dates included, through a store and a load", () => {
    const due = new Date(Date.UTC(2026, 11, 7));
    const state: RowState = {
      ...emptyRowState(),
      rev: 2,
      inFlight: {
        rev: 2,
        cells: { name: "Gizmo", due },
        since: 100,
        unread: { name: { at: 300, value: "Widget" }, due: { at: 310, value: due } },
      },
    };
    const loaded = readState(stored(stateData(state, META, null)), 0);
    assert.deepEqual(loaded?.inFlight, state.inFlight);
  });

  it("leaves out a stored read without its value (kept before values were), for the cell's webhook", () => {
    const data = stateData({ ...emptyRowState(), rev: 2 }, META, null);
    const old = {
      ...data,
      inFlight: { rev: 2, cells: { name: "Gizmo" }, since: 100, unread: { name: 300 } },
    };
    assert.deepEqual(readState(stored(old), 0)?.inFlight, {
      rev: 2,
      cells: { name: "Gizmo" },
      since: 100,
    });
  });
});
