/**
 * Which Sheets API failures are worth retrying. Transient ones throw so
 * Cloud Tasks retries with backoff; permanent ones are recorded and the task
 * is acknowledged (retrying a missing tab or a revoked share forever helps no one).
 * Only errors of Sheets API calls are classified here: a Firestore error in a
 * flush (UNAVAILABLE, ABORTED, DEADLINE_EXCEEDED) carries a gRPC code, not an
 * HTTP status, and is always retried.
 */
export type ErrorClass = "transient" | "permanent";

/** An error thrown by a Sheets API call; `cause` is the client's error. */
export class SheetsApiError extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "SheetsApiError";
  }
}

export interface ClassifiedError {
  kind: ErrorClass;
  status: number | null;
  reason: string;
}

export function classifySheetsError(err: unknown): ClassifiedError {
  const e = err as {
    status?: unknown;
    code?: unknown;
    response?: { status?: unknown };
    message?: unknown;
  };
  const statusRaw =
    e?.status ?? e?.response?.status ?? (typeof e?.code === "number" ? e.code : undefined);
  const status =
    typeof statusRaw === "number"
      ? statusRaw
      : Number.isFinite(Number(statusRaw))
        ? Number(statusRaw)
        : null;
  const message = typeof e?.message === "string" ? e.message : String(err);
  if (status === null) {
    // No HTTP answer at all: network trouble, DNS, a reset connection.
    return { kind: "transient", status: null, reason: `network: ${message}` };
  }
  if (status === 429) return { kind: "transient", status, reason: `quota: ${message}` };
  if (status === 408 || status >= 500)
    return { kind: "transient", status, reason: `server: ${message}` };
  if (status === 403)
    return {
      kind: "permanent",
      status,
      reason: `no permission (share the spreadsheet with the functions' service account): ${message}`,
    };
  if (status === 404)
    return { kind: "permanent", status, reason: `spreadsheet not found: ${message}` };
  if (status === 400 && /Unable to parse range|not found/i.test(message)) {
    return { kind: "permanent", status, reason: `tab not found: ${message}` };
  }
  return { kind: "permanent", status, reason: message };
}
