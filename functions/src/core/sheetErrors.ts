/**
 * Which Sheets API failures are worth retrying. Transient ones throw so
 * Cloud Tasks retries with backoff; permanent ones are recorded and the task
 * is acknowledged (retrying a missing tab or a revoked share forever helps no one).
 */
export type ErrorClass = "transient" | "permanent";

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
