/** For tests in another process than the local stack: wait on its trigger delivery over HTTP. */
import type { TriggerStats } from "./delivery.js";

/**
 * Resolves with the delivery stats once every Firestore trigger event (and the
 * cascade of writes the functions made) has been handled; rejects after about
 * `timeoutMs` or when the stack is unreachable.
 */
export async function waitForTriggersIdle(
  baseUrl = "http://127.0.0.1:4100",
  timeoutMs = 30_000,
): Promise<TriggerStats> {
  const url = `${baseUrl.replace(/\/+$/, "")}/__stack/triggers/idle?timeoutMs=${timeoutMs}`;
  // The server answers 504 at timeoutMs itself; the extra margin covers the round trip.
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs + 5000) });
  const text = await res.text();
  let body: { idle?: boolean; error?: string; stats?: TriggerStats };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`GET ${url}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  if (res.status !== 200 || !body.idle || !body.stats) {
    throw new Error(body.error ?? `GET ${url}: HTTP ${res.status}`);
  }
  return body.stats;
}
