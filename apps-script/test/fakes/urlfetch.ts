import { execFileSync } from "node:child_process";

/** What the fake UrlFetchApp hands to a transport. */
export interface HttpRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/** Synchronous, like UrlFetchApp.fetch. Throw to simulate a network failure. */
export type Transport = (request: HttpRequest) => HttpResponse;

interface FetchParams {
  method?: string;
  contentType?: string;
  headers?: Record<string, string>;
  payload?: unknown;
  muteHttpExceptions?: boolean;
  followRedirects?: boolean;
}

class FakeHttpResponse {
  constructor(private readonly response: HttpResponse) {}
  getResponseCode(): number {
    return this.response.status;
  }
  getContentText(): string {
    return this.response.body;
  }
  getHeaders(): Record<string, string> {
    return { ...this.response.headers };
  }
  getAllHeaders(): Record<string, string> {
    return { ...this.response.headers };
  }
}

export class FakeUrlFetchApp {
  /** Every request made, in order (including those that failed), but describe requests. */
  readonly requests: HttpRequest[] = [];
  /** Describe requests (POST …/describe), kept apart from the batches tests count. */
  readonly describeRequests: HttpRequest[] = [];
  /** Read reports (a batch without rows, from an idle run), kept apart too. */
  readonly readReports: HttpRequest[] = [];
  /** The webhook's answer to a describe request: by default it knows none of the rows. */
  describe: Transport = () => ({ status: 200, body: JSON.stringify({ rows: [] }) });

  constructor(public transport: Transport) {}

  fetch(url: string, params: FetchParams = {}): FakeHttpResponse {
    if (params.payload !== undefined && typeof params.payload !== "string") {
      throw new Error("Fake UrlFetchApp supports string payloads only");
    }
    const headers: Record<string, string> = { ...params.headers };
    if (params.payload !== undefined) {
      headers["Content-Type"] = params.contentType ?? "application/x-www-form-urlencoded";
    }
    const request: HttpRequest = {
      url,
      method: (params.method ?? "get").toUpperCase(),
      headers,
      body: params.payload ?? "",
    };
    const describing = url.replace(/\/+$/, "").endsWith("/describe");
    (describing
      ? this.describeRequests
      : isReadReport(request.body)
        ? this.readReports
        : this.requests
    ).push(request);
    const response = (describing ? this.describe : this.transport)(request);
    if (response.status >= 400 && !params.muteHttpExceptions) {
      // Google's wording, so code matching on it behaves the same.
      throw new Error(
        `Request failed for ${url} returned code ${response.status}. Truncated server response: ${response.body.slice(0, 100)} (use muteHttpExceptions option to examine full response)`,
      );
    }
    return new FakeHttpResponse(response);
  }
}

function isReadReport(body: string): boolean {
  try {
    const b = JSON.parse(body) as { changes?: unknown[]; deletes?: unknown[] };
    return b.changes?.length === 0 && b.deletes?.length === 0;
  } catch {
    return false;
  }
}

/** The default reply of a healthy webhook: every row applied. */
export function acceptAll(request: HttpRequest): HttpResponse {
  const body = JSON.parse(request.body || "{}") as {
    changes?: { id: string }[];
    deletes?: { id: string }[];
  };
  const results = [
    ...(body.changes ?? []).map((c) => ({ id: c.id, op: "upsert", outcome: "applied" })),
    ...(body.deletes ?? []).map((d) => ({ id: d.id, op: "delete", outcome: "applied" })),
  ];
  return { status: 200, body: JSON.stringify({ results }) };
}

export type ScriptedStep = HttpResponse | Error | ((request: HttpRequest) => HttpResponse);

/**
 * Replies from a queue (a response, an Error to throw as a network failure,
 * or a function of the request), then with `fallback` (default: acceptAll).
 */
export class ScriptedTransport {
  readonly steps: ScriptedStep[] = [];

  constructor(public fallback: Transport = acceptAll) {}

  enqueue(...steps: ScriptedStep[]): this {
    this.steps.push(...steps);
    return this;
  }

  readonly handle: Transport = (request) => {
    const step = this.steps.shift();
    if (step === undefined) return this.fallback(request);
    if (step instanceof Error) throw step;
    if (typeof step === "function") return step(request);
    return step;
  };
}

export function networkError(url = "the webhook"): Error {
  return new Error(`Exception: Address unavailable: ${url}`);
}

// Runs in a child process: reads the request on stdin, prints the response.
const CHILD = `
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", async () => {
  const r = JSON.parse(input);
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      body: r.method === "GET" || r.method === "HEAD" ? undefined : r.body,
      redirect: "manual",
      signal: AbortSignal.timeout(r.timeoutMs),
    });
    const headers = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    process.stdout.write(JSON.stringify({ status: res.status, headers, body: await res.text() }));
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: String((e && e.cause && e.cause.message) || e) }));
  }
});
`;

/**
 * A transport that performs a real HTTP request, synchronously (the caller
 * blocks as UrlFetchApp.fetch does) by running Node's fetch in a child process.
 */
export function realHttpTransport(options: { timeoutMs?: number } = {}): Transport {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return (request) => {
    const output = execFileSync(process.execPath, ["-e", CHILD], {
      input: JSON.stringify({ ...request, timeoutMs }),
      encoding: "utf8",
      timeout: timeoutMs + 5_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const result = JSON.parse(output) as HttpResponse & { error?: string };
    if (result.error !== undefined) {
      throw new Error(`Exception: Address unavailable: ${request.url} (${result.error})`);
    }
    return { status: result.status, body: result.body, headers: result.headers ?? {} };
  };
}
