import { encodeBody, splitBatch, type Batch, type Envelope } from "./payload";

export interface WebhookResponse {
  readonly status: number;
  readonly body: string;
}

/** Sends one signed body; throws on network failure. */
export type PostBody = (body: string) => WebhookResponse;

export interface SendReport {
  /** Ids the server accepted (any 200 covers the whole batch). */
  readonly accepted: Set<string>;
  /** Batches that were not sent or not accepted. */
  readonly failedRows: number;
  readonly errors: string[];
  /** True when every batch was accepted. */
  readonly complete: boolean;
}

const describe = (response: WebhookResponse): string => {
  const detail = response.body.length > 300 ? `${response.body.slice(0, 300)}…` : response.body;
  return `HTTP ${response.status}${detail ? `: ${detail}` : ""}`;
};

/**
 * Sends batches in order. A 413 halves the batch and retries each half; any
 * other failure stops the run (the server is unwell; the rest waits for the
 * next flush). Nothing is dropped: unaccepted rows stay in the outbox.
 */
export function sendBatches(
  envelope: Envelope,
  batches: readonly Batch[],
  post: PostBody,
): SendReport {
  const accepted = new Set<string>();
  const errors: string[] = [];
  let failedRows = 0;
  let stopped = false;
  const rowsOf = (b: Batch): number => b.changes.length + b.deletes.length;

  const sendOne = (batch: Batch): void => {
    if (stopped) {
      failedRows += rowsOf(batch);
      return;
    }
    let response: WebhookResponse;
    try {
      response = post(encodeBody(envelope, batch));
    } catch (error) {
      errors.push(`Request failed: ${error instanceof Error ? error.message : String(error)}`);
      failedRows += rowsOf(batch);
      stopped = true;
      return;
    }
    if (response.status === 200) {
      for (const item of batch.deletes) accepted.add(item.id);
      for (const item of batch.changes) accepted.add(item.id);
      return;
    }
    if (response.status === 413) {
      const halves = splitBatch(batch);
      if (halves) {
        halves.forEach(sendOne);
        return;
      }
      // One row too large on its own: report it and carry on with the others.
      const id = batch.changes[0]?.id ?? batch.deletes[0]?.id ?? "?";
      errors.push(`Row ${id} is too large to send (HTTP 413)`);
      failedRows += 1;
      return;
    }
    errors.push(describe(response));
    failedRows += rowsOf(batch);
    stopped = true;
  };

  batches.forEach(sendOne);
  return { accepted, failedRows, errors, complete: failedRows === 0 };
}
