// HTTP plumbing shared by handle() and request(): routing Google's URL layout, query and body
// validation with Google's messages, error bodies (quota, injected faults) and admin JSON.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ResponseOptions } from "./api.js";
import type { Fault } from "./emulator.js";
import { ApiError, invalid } from "./model.js";
import type { DateTimeRenderOption, ValueInputOption, ValueRenderOption } from "./values.js";

export type Kind = "read" | "write";

export interface Route {
  method: string;
  kind: Kind;
  httpMethod: string;
  spreadsheetId: string;
  range?: string;
  params: readonly string[];
}

export const SYSTEM_PARAMS = new Set([
  "fields",
  "alt",
  "prettyPrint",
  "key",
  "quotaUser",
  "$.xgafv",
  "callback",
  "access_token",
  "oauth_token",
  "upload_protocol",
  "uploadType",
]);

export const READ_PARAMS = ["majorDimension", "valueRenderOption", "dateTimeRenderOption"] as const;
export const WRITE_PARAMS = [
  "valueInputOption",
  "includeValuesInResponse",
  "responseValueRenderOption",
  "responseDateTimeRenderOption",
] as const;

export function route(httpMethod: string, path: string): Route | undefined {
  const m = /^\/v4\/spreadsheets\/([^/:]+)(.*)$/.exec(path);
  if (!m) return undefined;
  const id = decodeURIComponent(m[1] ?? "");
  const rest = m[2] ?? "";
  const r = (
    method: string,
    kind: Kind,
    verb: string,
    params: readonly string[],
    range?: string,
  ) =>
    httpMethod === verb
      ? {
          method,
          kind,
          httpMethod: verb,
          spreadsheetId: id,
          params,
          ...(range === undefined ? {} : { range }),
        }
      : undefined;
  if (rest === "")
    return r("spreadsheets.get", "read", "GET", [
      "ranges",
      "includeGridData",
      "excludeTablesInBandedRanges",
    ]);
  if (rest === ":batchUpdate") return r("spreadsheets.batchUpdate", "write", "POST", []);
  if (rest === "/values:batchGet")
    return r("values.batchGet", "read", "GET", ["ranges", ...READ_PARAMS]);
  if (rest === "/values:batchUpdate") return r("values.batchUpdate", "write", "POST", []);
  if (rest === "/values:batchClear") return r("values.batchClear", "write", "POST", []);
  const v = /^\/values\/([^/]+)$/.exec(rest);
  if (!v) return undefined;
  // The client percent-encodes the range, so a literal ':' can only be the custom verb.
  const raw = v[1] ?? "";
  const decode = (s: string) => decodeURIComponent(s);
  if (raw.endsWith(":append")) {
    return r(
      "values.append",
      "write",
      "POST",
      [...WRITE_PARAMS, "insertDataOption"],
      decode(raw.slice(0, -7)),
    );
  }
  if (raw.endsWith(":clear"))
    return r("values.clear", "write", "POST", [], decode(raw.slice(0, -6)));
  if (httpMethod === "PUT") return r("values.update", "write", "PUT", WRITE_PARAMS, decode(raw));
  return r("values.get", "read", "GET", READ_PARAMS, decode(raw));
}

export const ENUMS: Record<string, { type: string; values: string[] }> = {
  majorDimension: { type: "Dimension", values: ["ROWS", "COLUMNS", "DIMENSION_UNSPECIFIED"] },
  valueRenderOption: {
    type: "ValueRenderOption",
    values: ["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"],
  },
  responseValueRenderOption: {
    type: "ValueRenderOption",
    values: ["FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"],
  },
  dateTimeRenderOption: {
    type: "DateTimeRenderOption",
    values: ["SERIAL_NUMBER", "FORMATTED_STRING"],
  },
  responseDateTimeRenderOption: {
    type: "DateTimeRenderOption",
    values: ["SERIAL_NUMBER", "FORMATTED_STRING"],
  },
  valueInputOption: {
    type: "ValueInputOption",
    values: ["RAW", "USER_ENTERED", "INPUT_VALUE_OPTION_UNSPECIFIED"],
  },
  insertDataOption: { type: "InsertDataOption", values: ["OVERWRITE", "INSERT_ROWS"] },
};

export const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Reads an enum from the query or body with Google's "Invalid value at" error. */
export function enumParam(name: string, raw: unknown, where = snake(name)): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  const spec = ENUMS[name];
  if (!spec || typeof raw !== "string" || !spec.values.includes(raw)) {
    throw invalid(
      `Invalid value at '${where}' (type.googleapis.com/google.apps.sheets.v4.${spec?.type ?? name}), ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}

export function boolParam(name: string, raw: unknown): boolean {
  if (raw === undefined || raw === null) return false;
  if (raw === true || raw === "true") return true;
  if (raw === false || raw === "false") return false;
  throw invalid(`Invalid value at '${snake(name)}' (TYPE_BOOL), ${JSON.stringify(raw)}`);
}

export function valueInputOption(raw: unknown, requiredMessage: string): ValueInputOption {
  const v = enumParam("valueInputOption", raw);
  if (v === undefined) throw invalid(requiredMessage);
  if (v === "INPUT_VALUE_OPTION_UNSPECIFIED") {
    throw invalid("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED");
  }
  return v as ValueInputOption;
}

export function responseOptions(get: (name: string) => unknown): ResponseOptions {
  return {
    includeValuesInResponse: boolParam("includeValuesInResponse", get("includeValuesInResponse")),
    render: {
      valueRenderOption: (enumParam(
        "responseValueRenderOption",
        get("responseValueRenderOption"),
      ) ?? "FORMATTED_VALUE") as ValueRenderOption,
      dateTimeRenderOption: (enumParam(
        "responseDateTimeRenderOption",
        get("responseDateTimeRenderOption"),
      ) ?? "SERIAL_NUMBER") as DateTimeRenderOption,
    },
  };
}

export function checkBodyKeys(body: Record<string, unknown>, allowed: string[], where = ""): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) {
      const at = where ? ` at '${where}'` : "";
      throw invalid(`Invalid JSON payload received. Unknown name "${k}"${at}: Cannot find field.`);
    }
  }
}

export const VALUE_RANGE_KEYS = ["range", "majorDimension", "values"];

export function errorBody(e: ApiError) {
  return {
    error: {
      code: e.code,
      message: e.message,
      status: e.status,
      ...(e.details ? { details: e.details } : {}),
    },
  };
}

export function quotaError(kind: Kind, limit: number): ApiError {
  const metric = kind === "read" ? "Read requests" : "Write requests";
  return new ApiError(
    429,
    "RESOURCE_EXHAUSTED",
    `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.`,
    [
      {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        reason: "RATE_LIMIT_EXCEEDED",
        domain: "googleapis.com",
        metadata: {
          quota_metric: `sheets.googleapis.com/${kind}_requests`,
          quota_limit:
            kind === "read" ? "ReadRequestsPerMinutePerUser" : "WriteRequestsPerMinutePerUser",
          quota_limit_value: String(limit),
          quota_location: "global",
          consumer: "projects/000000000000",
          service: "sheets.googleapis.com",
        },
      },
      {
        "@type": "type.googleapis.com/google.rpc.Help",
        links: [
          {
            description: "Request a higher quota limit.",
            url: "https://cloud.google.com/docs/quotas/help/request_increase",
          },
        ],
      },
    ],
  );
}

export function faultError(fault: Fault, kind: Kind, limit: number): ApiError {
  const custom = (code: number, status: string, message: string) =>
    new ApiError(code, status, fault.message ?? message);
  switch (fault.status) {
    case 429:
      return fault.message
        ? custom(429, "RESOURCE_EXHAUSTED", fault.message)
        : quotaError(kind, limit);
    case 500:
      return custom(500, "INTERNAL", "Internal error encountered.");
    case 503:
      return custom(503, "UNAVAILABLE", "The service is currently unavailable.");
    case 403:
      return custom(403, "PERMISSION_DENIED", "The caller does not have permission");
    case 404:
      return custom(404, "NOT_FOUND", "Requested entity was not found.");
    default:
      return custom(400, "INVALID_ARGUMENT", "Request contains an invalid argument.");
  }
}

/** Admin JSON encodes dates as {"$date": iso}. */
export function reviveDates(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reviveDates);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (typeof o["$date"] === "string" && Object.keys(o).length === 1) return new Date(o["$date"]);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, reviveDates(x)]));
  }
  return v;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export const BASE_URL = "http://emulator.local";

export const isEmulatorPath = (path: string) =>
  path.startsWith("/v4/") || path === "/__emulator" || path.startsWith("/__emulator/");

/** A request as the emulator sees it once the body has been read. */
export interface Incoming {
  httpMethod: string;
  url: URL;
  text: string;
  authorization: string | undefined;
}

export interface Reply {
  status: number;
  body: unknown;
}

export const reply = (status: number, body: unknown): Reply => ({ status, body });

export type QueryValue = string | number | boolean;

/** An HTTP request for SheetsEmulator.request(), without a socket. */
export interface EmulatorRequest {
  /** HTTP verb; GET when absent. */
  method?: string;
  /**
   * Path as on the wire, e.g. `/v4/spreadsheets/ID/values:batchGet`, optionally with a query
   * string; a range in the path is percent-encoded as the client does it.
   */
  path: string;
  /** Query parameters; an array repeats the parameter (`ranges`). */
  query?: URLSearchParams | Record<string, QueryValue | QueryValue[] | undefined>;
  /** JSON body: an object (serialized as the client would) or the raw text. */
  body?: unknown;
  /** The Authorization header keys the quota when there is no `quotaUser`. */
  headers?: { authorization?: string };
}

export interface EmulatorResponse {
  status: number;
  /** The parsed JSON body (Google's error object for failures). */
  body: unknown;
}

export function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, {
    "content-type": "application/json; charset=UTF-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
