/**
 * The Sheets API, through the generated v4 client alone (@googleapis/sheets:
 * ~60 ms to import against ~600 ms for all of googleapis). In production it
 * authenticates as the functions' service account (Application Default
 * Credentials); the spreadsheet must be shared with that account as editor.
 * With SHEETS_API_ROOT_URL set it talks to that server with no credentials
 * (the local emulator).
 */
import { auth, sheets, type sheets_v4 } from "@googleapis/sheets";

export type SheetsApi = sheets_v4.Sheets;

let cached: { rootUrl: string; api: SheetsApi } | null = null;

export function sheetsApi(rootUrl: string): SheetsApi {
  if (cached?.rootUrl === rootUrl) return cached.api;
  // No client-side retries: a failure throws so Cloud Tasks retries the whole flush with backoff.
  const common = { version: "v4" as const, retry: false, timeout: 60_000 };
  const api = rootUrl
    ? sheets({ ...common, rootUrl })
    : sheets({
        ...common,
        auth: new auth.GoogleAuth({ scopes: ["https://www.googleapis.com/auth/spreadsheets"] }),
      });
  cached = { rootUrl, api };
  return api;
}
