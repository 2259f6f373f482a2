/**
 * The Firestore triggers the Functions emulator has loaded, read from its
 * `GET /backends` listing.
 */
import { compilePattern, type PathPattern } from "./patterns.js";

export const FIRESTORE_EVENT_PREFIX = "google.cloud.firestore.document.v1.";

export type ChangeKind = "create" | "update" | "delete";

export interface FirestoreTrigger {
  /** `<region>-<name>`, the key the emulator routes by (plus `-<generation>`). */
  id: string;
  name: string;
  eventType: string;
  /** Which changes the trigger gets; firebase-functions does not check ce-type itself. */
  kinds: ReadonlySet<ChangeKind>;
  withAuthContext: boolean;
  database: string;
  pattern: PathPattern;
  /** `eventTrigger.retry` (firebase-functions omits it when false). */
  retry: boolean;
}

const KINDS: Record<string, ChangeKind[]> = {
  written: ["create", "update", "delete"],
  created: ["create"],
  updated: ["update"],
  deleted: ["delete"],
};

interface BackendTrigger {
  id?: string;
  name?: string;
  entryPoint?: string;
  eventTrigger?: {
    eventType?: string;
    eventFilters?: Record<string, string>;
    eventFilterPathPatterns?: Record<string, string>;
    retry?: boolean;
  };
}

export interface BackendsListing {
  /** Every loaded function of every codebase (HTTP ones too). */
  functionCount: number;
  firestore: FirestoreTrigger[];
  /** Firestore functions skipped: an event type or path pattern this delivery does not know. */
  skipped: string[];
}

export function parseBackends(body: unknown): BackendsListing {
  const backends = (body as { backends?: { functionTriggers?: BackendTrigger[] }[] }).backends;
  const listing: BackendsListing = { functionCount: 0, firestore: [], skipped: [] };
  for (const backend of backends ?? []) {
    for (const t of backend.functionTriggers ?? []) {
      listing.functionCount++;
      const eventType = t.eventTrigger?.eventType;
      if (!t.id || !eventType?.startsWith(FIRESTORE_EVENT_PREFIX)) continue;
      const [op, suffix] = eventType.slice(FIRESTORE_EVENT_PREFIX.length).split(".", 2);
      const kinds = KINDS[op ?? ""];
      const filters = t.eventTrigger?.eventFilters ?? {};
      const document = t.eventTrigger?.eventFilterPathPatterns?.document ?? filters.document;
      if (!kinds || (suffix !== undefined && suffix !== "withAuthContext") || !document) {
        listing.skipped.push(`${t.id} (${eventType})`);
        continue;
      }
      let pattern: PathPattern;
      try {
        pattern = compilePattern(document);
      } catch (err) {
        listing.skipped.push(`${t.id} (${(err as Error).message})`);
        continue;
      }
      listing.firestore.push({
        id: t.id,
        name: t.name ?? t.entryPoint ?? t.id,
        eventType,
        kinds: new Set(kinds),
        withAuthContext: suffix === "withAuthContext",
        database: filters.database ?? "(default)",
        pattern,
        retry: t.eventTrigger?.retry === true,
      });
    }
  }
  return listing;
}

export async function fetchBackends(
  origin: string,
  signal?: AbortSignal,
): Promise<BackendsListing> {
  const res = await fetch(`${origin}/backends`, {
    signal: signal
      ? AbortSignal.any([signal, AbortSignal.timeout(5000)])
      : AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`GET ${origin}/backends: HTTP ${res.status}`);
  return parseBackends(await res.json());
}
