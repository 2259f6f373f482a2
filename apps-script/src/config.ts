/** Script properties an admin sets (Project Settings → Script properties). */
export const PROPERTY = {
  sheetName: "SHEET_SYNC_SHEET_NAME",
  webhookUrl: "SHEET_SYNC_WEBHOOK_URL",
  secret: "SHEET_SYNC_SECRET",
} as const;

export const DEFAULT_SHEET_NAME = "Sheet1";

/** Keys of the script's own state (prefixed so they never clash with settings). */
export const STATE_KEY = {
  outbox: "sheetSync.outbox",
  status: "sheetSync.status",
  flushLease: "sheetSync.flushLease",
  deadLetters: "sheetSync.deadLetters",
  /** In document properties: a separate 500 KB store from the outbox. */
  snapshot: "sheetSync.snapshot",
  /** In document properties, one key per onEdit that missed the lock: `<prefix>.<uuid>`. */
  missedPaste: "sheetSync.missedPaste",
} as const;

/** Names of the global functions triggers and menu items call. */
export const HANDLER = {
  edit: "handleEdit",
  change: "handleChange",
  timer: "flushOutbox",
  setUp: "setUp",
  syncNow: "syncNow",
  status: "showStatus",
} as const;

export interface Config {
  readonly sheetName: string;
  readonly webhookUrl: string;
  readonly secret: string;
}

export function readConfig(properties: Record<string, string>): Config {
  return {
    sheetName: properties[PROPERTY.sheetName]?.trim() || DEFAULT_SHEET_NAME,
    webhookUrl: properties[PROPERTY.webhookUrl]?.trim() ?? "",
    secret: properties[PROPERTY.secret] ?? "",
  };
}
