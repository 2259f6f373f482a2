import type { BatchResponse } from "../../../contract/src/wire";
import { encodeBody, splitBatch, type Batch, type Envelope } from "./payload";

export interface WebhookResponse {
  readonly status: number;
  readonly body: string;
}

/** What came back for one request: a response, or why there was none. */
export type PostResult = WebhookResponse | { readonly networkError: string };

export interface SendReport {
  /** Rows the server took (applied, duplicate or stale): done. */
  readonly accepted: Set<string>;
  /** Rows the server refused on their own, with its reason: set aside, not retried. */
  readonly rejected: Map<string, string>;
  /** Rows holding another id's item (content a sort moved): id → that id. Done once moved. */
  readonly moved: Map<string, string>;
  /** What the server asked to show a person (e.g. a header text it cannot use). */
  readonly warnings: string[];
  /** Rows not sent or not answered. */
  readonly failedRows: number;
  readonly errors: string[];
  /** True when every batch was answered. */
  readonly complete: boolean;
}

const describe = (response: WebhookResponse): string => {
  const detail = response.body.length > 300 ? `${response.body.slice(0, 300)}…` : response.body;
  return `HTTP ${response.status}${detail ? `: ${detail}` : ""}`;
};

/**
 * Sends batches in order, as a generator: it yields each request body and
 * is resumed with what came back, so the script (synchronous UrlFetchApp) and
 * the model test (asynchronous) drive the same logic. A 413 halves the batch;
 * any other failure stops the run (the server is unwell; the rest waits for
 * the next flush). Nothing is dropped: unanswered rows stay in the outbox.
 */
export function* sendBatches(
  envelope: Envelope,
  batches: readonly Batch[],
): Generator<string, SendReport, PostResult> {
  const accepted = new Set<string>();
  const rejected = new Map<string, string>();
  const moved = new Map<string, string>();
  const warnings: string[] = [];
  const errors: string[] = [];
  let failedRows = 0;
  const rowsOf = (b: Batch): number => b.changes.length + b.deletes.length;
  const queue = [...batches];

  while (queue.length > 0) {
    const batch = queue.shift()!;
    const result: PostResult = yield encodeBody(envelope, batch);
    if ("networkError" in result) {
      errors.push(`Request failed: ${result.networkError}`);
      failedRows += rowsOf(batch) + queue.reduce((n, b) => n + rowsOf(b), 0);
      break;
    }
    if (result.status === 200) {
      const reply = parseReply(result.body);
      const ids = [...batch.deletes.map((d) => d.id), ...batch.changes.map((c) => c.id)];
      const outcome = new Map((reply?.results ?? []).map((r) => [r.id, r]));
      for (const id of ids) {
        const r = outcome.get(id);
        if (r?.outcome === "rejected") rejected.set(id, r.reason ?? "refused by the server");
        else if (r?.outcome === "moved" && typeof r.holds === "string") moved.set(id, r.holds);
        else accepted.add(id);
      }
      for (const w of reply?.warnings ?? []) if (!warnings.includes(w)) warnings.push(w);
      continue;
    }
    if (result.status === 413) {
      const halves = splitBatch(batch);
      if (halves) {
        queue.unshift(...halves);
        continue;
      }
      // One row too large on its own: set it aside and carry on with the others.
      const id = batch.changes[0]?.id ?? batch.deletes[0]?.id ?? "?";
      rejected.set(id, "the row is too large to send (HTTP 413)");
      continue;
    }
    errors.push(describe(result));
    failedRows += rowsOf(batch) + queue.reduce((n, b) => n + rowsOf(b), 0);
    break;
  }
  return {
    accepted,
    rejected,
    moved,
    warnings,
    failedRows,
    errors,
    complete: failedRows === 0,
  };
}

function parseReply(body: string): Partial<BatchResponse> | null {
  try {
    const reply = JSON.parse(body) as Partial<BatchResponse>;
    return reply && typeof reply === "object" ? reply : null;
  } catch {
    return null;
  }
}

/** Runs the generator with a synchronous post (UrlFetchApp). */
export function sendAll(
  envelope: Envelope,
  batches: readonly Batch[],
  post: (body: string) => PostResult,
): SendReport {
  const steps = sendBatches(envelope, batches);
  let step = steps.next();
  while (!step.done) step = steps.next(post(step.value));
  return step.value;
}
