/**
 * What the randomized stack test does, drawn from a seeded generator: a
 * person's edits in the sheet, an app's writes to Firestore, Sheets API
 * faults. Each operation runs against the stack as it is at that moment and
 * is logged as it ran (the row it hit, the id it resolved to), so a failure
 * prints what happened; the same seed draws the same choices again.
 *
 * Values written are unique per operation, so where a value ends up says
 * which write it was, and no write can look like an undo of another.
 */
import { FieldPath, Timestamp, type Firestore } from "firebase-admin/firestore";
import type { CellValue } from "../../../../../functions/src/core/values.js";
import { COLLECTION } from "../../../src/localStack.js";
import { flushQuiet, pageState, person, sheetGrid, sheetsFaults } from "./stackClient.js";

/** mulberry32: small, seedable, good enough to pick operations. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One change the test made to a row, in the order made: what the checker holds the sync to. */
export type Truth =
  | {
      /** Which operation: `r<run>o<n>`. */
      op: string;
      side: "sheet" | "firestore";
      kind: "write";
      id: string;
      field: string;
      value: CellValue;
    }
  | { op: string; side: "sheet" | "firestore"; kind: "delete"; id: string };

/** An operation as it ran, for the failure report. */
export type Ran = { op: number; waitMs: number; what: string } & Record<string, unknown>;

/** Columns a person types into: each gets a value no other operation writes. */
const PERSON_FIELDS = ["sku", "item", "category", "qty", "price"] as const;
/** Fields an app writes: the person's, plus a boolean, a date and (rarely) the formula's column. */
const APP_FIELDS = [...PERSON_FIELDS, "active", "restock_on", "total"] as const;
const SORT_FIELDS = ["sku", "item", "category", "qty", "price", "restock_on", "active"] as const;
const FAULT_METHODS = [
  "values.batchGet",
  "spreadsheets.get",
  "values.batchUpdate",
  "values.append",
  "spreadsheets.batchUpdate",
];

type Kind =
  | "sheet-edit"
  | "sheet-add-row"
  | "sheet-delete-row"
  | "sheet-insert-blank"
  | "sheet-sort"
  | "app-set"
  | "app-create"
  | "app-delete"
  | "sheets-fault";

/**
 * Weights of the mix. Not here, for lack of a cheap way to cause them on the stack: webhook
 * faults (the script's worker sends real HTTP with no fault hook), Firestore faults (neither
 * emulator injects them), lost or duplicated trigger events (the stand-in's delivery is in
 * order and exactly once), a busy script lock and clock skew. The model test covers those.
 */
const MIX: [Kind, number][] = [
  ["sheet-edit", 24],
  ["sheet-add-row", 7],
  ["sheet-delete-row", 7],
  ["sheet-insert-blank", 4],
  ["sheet-sort", 5],
  ["app-set", 28],
  ["app-create", 8],
  ["app-delete", 7],
  ["sheets-fault", 5],
];

export interface Runner {
  truth: Truth[];
  ran: Ran[];
  /** Runs operation `op` after a short random wait; returns what it did. */
  step(op: number): Promise<Ran>;
}

export interface RunnerOptions {
  /** 1, 2, …: keeps this run's values apart from every other run's. */
  run: number;
  maxWaitMs: number;
  /**
   * "after-flush": a sort, a row deleted or a blank row inserted waits until the flush has
   * nothing to write. "race": they may land while a flush is between its read of the rows and
   * its write by row number, the window README's Known limits names ("a row moved in that
   * moment can shift a write by a row"); on this stack the window is the whole flush, some
   * 100 to 500 ms, and the shifted write can lose an app's write with no conflict on record.
   */
  structure: "after-flush" | "race";
}

export function runner(db: Firestore, rand: () => number, options: RunnerOptions): Runner {
  const { run: runNumber, maxWaitMs } = options;
  const tag = `r${runNumber}`;
  /** Before a change that moves rows: see RunnerOptions.structure. */
  const beforeMovingRows = () =>
    options.structure === "race" ? Promise.resolve() : flushQuiet(db, 90_000);
  const truth: Truth[] = [];
  const ran: Ran[] = [];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const kindOf = () => {
    let r = rand() * MIX.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of MIX) if ((r -= w) < 0) return k;
    return MIX[0]![0];
  };
  // The stand-in's select() is unreliable (README, Testing on the stand-in): read whole documents.
  const documentIds = async () => (await db.collection(COLLECTION).get()).docs.map((d) => d.id);
  let counter = runNumber * 1_000_000;
  /** A value of `field` no other operation writes. */
  const fresh = (field: string, op: number): { text: string; value: CellValue } => {
    const n = ++counter;
    const t = `${tag}o${op}`;
    switch (field) {
      case "qty":
        return { text: String(1000 + n), value: 1000 + n };
      case "price":
      case "total":
        return { text: `${n}.25`, value: n + 0.25 };
      case "active":
        return { text: "", value: rand() < 0.5 };
      case "restock_on":
        return { text: "", value: new Date(Date.UTC(2027, 0, 1, 9, 0, n)) };
      case "sku":
        return { text: `SKU-${t}`, value: `SKU-${t}` };
      default:
        return { text: `${field} ${t}`, value: `${field} ${t}` };
    }
  };

  /** Data rows with an id, as sheet row numbers. */
  async function idRows() {
    const { header, rows } = await sheetGrid();
    const idAt = header.indexOf("_id");
    const withId = rows
      .map((r, i) => ({ rowNumber: i + 2, id: String(r[idAt] ?? "") }))
      .filter((r) => r.id);
    const last = rows.reduce((m, r, i) => (r.some((v) => v !== "" && v !== null) ? i + 2 : m), 1);
    return { header, rows, withId, last };
  }

  /** The id of the row whose `field` cell holds `value` (where a person's typing landed). */
  async function landedOn(field: string, value: CellValue): Promise<string | null> {
    const { header, rows } = await sheetGrid();
    const [at, idAt] = [header.indexOf(field), header.indexOf("_id")];
    const hits = rows.filter((r) => r[at] === value);
    return hits.length === 1 ? String(hits[0]![idAt] ?? "") || null : null;
  }

  async function run(kind: Kind, op: number): Promise<Record<string, unknown>> {
    switch (kind) {
      case "sheet-edit": {
        const { header, withId } = await idRows();
        if (!withId.length) return { skipped: "no row with an id" };
        const target = pick(withId);
        const field = pick(PERSON_FIELDS);
        const { text, value } = fresh(field, op);
        await person.edit(target.rowNumber, header.indexOf(field) + 1, text);
        // A flush may have moved rows between the read and the edit: the unique value says where it went.
        const id = (await landedOn(field, value)) ?? target.id;
        truth.push({ op: `${tag}o${op}`, side: "sheet", kind: "write", id, field, value });
        return { row: target.rowNumber, aimedAt: target.id, id, field, value };
      }
      case "sheet-add-row": {
        const { header, last } = await idRows();
        const { text, value } = fresh("sku", op);
        await person.edit(last + 1, header.indexOf("sku") + 1, text);
        const id = await landedOn("sku", value);
        if (!id) throw new Error(`the new row ${text} got no id from the script`);
        truth.push({ op: `${tag}o${op}`, side: "sheet", kind: "write", id, field: "sku", value });
        return { row: last + 1, id, sku: value };
      }
      case "sheet-delete-row": {
        await beforeMovingRows();
        const { withId } = await idRows();
        if (!withId.length) return { skipped: "no row with an id" };
        const target = pick(withId);
        await person.deleteRow(target.rowNumber);
        // The rows Undo would bring back: what the delete really removed.
        const id = (await pageState()).sheet.undo?.ids[0] || target.id;
        truth.push({ op: `${tag}o${op}`, side: "sheet", kind: "delete", id });
        return { row: target.rowNumber, aimedAt: target.id, id };
      }
      case "sheet-insert-blank": {
        await beforeMovingRows();
        const { last } = await idRows();
        const row = 2 + Math.floor(rand() * Math.max(1, last - 1));
        await person.insertRow(row);
        return { row };
      }
      case "sheet-sort": {
        await beforeMovingRows();
        const { header } = await idRows();
        const field = pick(SORT_FIELDS);
        const ascending = rand() < 0.5;
        await person.sort(header.indexOf(field) + 1, ascending);
        return { field, ascending };
      }
      case "app-set": {
        const ids = await documentIds();
        if (!ids.length) return { skipped: "no document" };
        const id = pick(ids);
        const field = rand() < 0.05 ? "total" : pick(APP_FIELDS.filter((f) => f !== "total"));
        const { value } = fresh(field, op);
        try {
          await db
            .collection(COLLECTION)
            .doc(id)
            .update(
              new FieldPath(field),
              value instanceof Date ? Timestamp.fromDate(value) : value,
            );
        } catch (e) {
          // The sync deleted it between the read and the write: the app's update fails, as it would.
          if ((e as { code?: number }).code === 5) return { id, field, skipped: "document gone" };
          throw e;
        }
        truth.push({ op: `${tag}o${op}`, side: "firestore", kind: "write", id, field, value });
        return { id, field, value };
      }
      case "app-create": {
        const ref = db.collection(COLLECTION).doc();
        const fields: Record<string, CellValue> = {};
        for (const f of ["sku", "item", "category", "qty", "price", "active"]) {
          fields[f] = fresh(f, op).value;
        }
        await ref.create(fields);
        for (const [field, value] of Object.entries(fields)) {
          truth.push({
            op: `${tag}o${op}`,
            side: "firestore",
            kind: "write",
            id: ref.id,
            field,
            value,
          });
        }
        return { id: ref.id, fields };
      }
      case "app-delete": {
        const ids = await documentIds();
        if (!ids.length) return { skipped: "no document" };
        const id = pick(ids);
        await db.collection(COLLECTION).doc(id).delete();
        truth.push({ op: `${tag}o${op}`, side: "firestore", kind: "delete", id });
        return { id };
      }
      case "sheets-fault": {
        const fault = { status: pick([429, 500, 503]), count: 1, methods: [pick(FAULT_METHODS)] };
        await sheetsFaults.inject(fault);
        return { fault };
      }
    }
  }

  return {
    truth,
    ran,
    async step(op) {
      // Mostly short, so operations pile up; now and then long enough for a flush to run between two.
      const waitMs = Math.floor(rand() < 0.15 ? 1_500 + rand() * 3_500 : rand() * maxWaitMs);
      const kind = kindOf();
      // Part of the interleaving (flushes, triggers and the script's timer run meanwhile), not a wait for anything.
      await new Promise((r) => setTimeout(r, waitMs));
      const entry: Ran = { op, waitMs, what: kind, ...(await run(kind, op)) };
      ran.push(entry);
      return entry;
    },
  };
}
