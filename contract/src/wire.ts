/**
 * The webhook: what the script sends (a batch of row changes) and what the
 * functions answer (one outcome per row). Types only, plus the encoding; the
 * functions validate bodies with ./schema.ts.
 */
import { toAsciiJson, type WireCell } from "./cells.js";

/** A row as the sheet shows it now. */
export interface ChangeItem {
  readonly id: string;
  /** When a person last changed the row (ms, the script's stamp): decides real conflicts. */
  readonly modifiedAt: number;
  /** The row's `_rev` cell read together with `values` (0 if empty): which sync writes they include. */
  readonly rev?: number;
  /** Keyed by header text; a data column left out is an empty cell. */
  readonly values: Record<string, WireCell>;
  /** The columns the edit touched, when the script knows them. */
  readonly fields?: readonly string[];
  /**
   * When each of `fields` was last changed, for those changed before `modifiedAt` (edits the
   * outbox merged while it could not send): each column is decided by its own time.
   */
  readonly fieldsAt?: Readonly<Record<string, number>>;
}

/** A row deleted from the sheet. */
export interface DeleteItem {
  readonly id: string;
  readonly modifiedAt: number;
  /**
   * Not a person's delete: the script's own matching after a sort of the visible columns gave
   * this id's row to another id, and its item's content is elsewhere (it never saw that item).
   * The server applies it only as the end of a chain of moves (see Envelope `chains`); else it
   * is left to the reconcile, which finds the item's row gone, or back.
   */
  readonly displaced?: boolean;
}

export interface Envelope {
  readonly spreadsheetId: string;
  readonly sheetName: string;
  /** Row 1 in sheet order. */
  readonly header: readonly string[];
  /** When the values were read (ms, the sender's clock); default: the request's timestamp. */
  readonly readAt?: number;
  /**
   * The sender moves ids when told a row holds another's item (the `moved` outcome). Without
   * it, such rows are merged as edits: a sender that does not know `moved` would drop them.
   */
  readonly moves?: boolean;
  /**
   * With `moves`: the sender also follows chains (a row new to the sync holds an item whose row
   * holds the next one's, and so on, to an item whose row is empty or gone), and takes
   * `holds: ""` for that last id: it leaves the sheet, its content is elsewhere.
   */
  readonly chains?: boolean;
}

export interface Batch {
  readonly changes: ChangeItem[];
  readonly deletes: DeleteItem[];
}

export interface WebhookBody extends Envelope, Batch {}

export function encodeBody(envelope: Envelope, batch: Batch): string {
  const body: WebhookBody = {
    spreadsheetId: envelope.spreadsheetId,
    sheetName: envelope.sheetName,
    header: envelope.header,
    ...(envelope.readAt === undefined ? {} : { readAt: envelope.readAt }),
    ...(envelope.moves ? { moves: true } : {}),
    ...(envelope.moves && envelope.chains ? { chains: true } : {}),
    changes: batch.changes,
    deletes: batch.deletes,
  };
  return toAsciiJson(body);
}

/**
 * What became of one row:
 * - applied: taken (some fields may have lost a conflict: `conflicts` counts them);
 * - duplicate: already known, nothing changed;
 * - stale: older than what the sheet already sent for this row, so ignored;
 * - rejected: the row cannot be stored (`reason` says why); the others are not held up;
 * - moved: the row holds exactly what the item `holds` last held in the sheet, and that item's
 *   row holds another's: content moved between rows the script had not scanned yet (a sort of
 *   the visible columns). Nothing is applied; the script moves the ids after the content.
 */
export type RowOutcome = "applied" | "duplicate" | "stale" | "rejected" | "moved";
export const ROW_OUTCOMES: readonly RowOutcome[] = [
  "applied",
  "duplicate",
  "stale",
  "rejected",
  "moved",
];

export interface RowResult {
  readonly id: string;
  readonly op: "upsert" | "delete";
  readonly outcome: RowOutcome;
  readonly conflicts?: number;
  readonly reason?: string;
  /** For "moved": the id whose item this row holds ("" for none: the id leaves the sheet). */
  readonly holds?: string;
}

export interface BatchResponse {
  readonly results: RowResult[];
  readonly counts: Record<RowOutcome, number>;
  /** Things the sender should show a person, e.g. a header text that cannot be a field name. */
  readonly warnings: string[];
}

export function countOutcomes(results: readonly RowResult[]): Record<RowOutcome, number> {
  const counts: Record<RowOutcome, number> = {
    applied: 0,
    duplicate: 0,
    stale: 0,
    rejected: 0,
    moved: 0,
  };
  for (const r of results) counts[r.outcome]++;
  return counts;
}

/** A request to compare the sheet with Firestore and repair what differs. */
export interface ReconcileRequest {
  readonly spreadsheetId: string;
  readonly sheetName: string;
}

/**
 * POST <webhook>/describe, signed like a batch: what the sync last wrote into rows the script has
 * not scanned since (rows the flush appended or wrote after the script's last scan). The script
 * asks before a scan that finds such rows, so content a sort of the visible columns moved out of
 * them is followed by content, like any row it scanned itself.
 */
export interface DescribeRequest {
  readonly spreadsheetId: string;
  readonly sheetName: string;
  readonly ids: readonly string[];
}

/**
 * A row as the sync last agreed on it with the sheet: `values` keyed by column (an empty cell is
 * left out), as of the write whose `_rev` is `rev`. A row the server cannot describe exactly
 * (unknown, deleted, or holding text kept only as a hash) is left out.
 */
export interface DescribedRow {
  readonly id: string;
  readonly rev: number;
  readonly values: Record<string, WireCell>;
}

export interface DescribeResponse {
  readonly rows: DescribedRow[];
}

export function encodeDescribe(request: DescribeRequest): string {
  return toAsciiJson({
    spreadsheetId: request.spreadsheetId,
    sheetName: request.sheetName,
    ids: request.ids,
  });
}
