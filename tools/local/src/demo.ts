/**
 * The demo spreadsheet `npm start` seeds: a small shop's inventory, with the
 * hidden `_id`, `_modified` and `_rev` columns already filled (as after Set up) and a
 * formula column, so the formula protection is visible from the first minute.
 */
import { createHash } from "node:crypto";
import type { SeedSpreadsheet } from "@sheet-sync/sheets-emulator";

export const DEMO = {
  spreadsheetId: "demo-spreadsheet",
  sheetName: "Sheet1",
  timeZone: "Europe/Berlin",
} as const;

export const DEMO_HEADER = [
  "_id",
  "sku",
  "item",
  "category",
  "qty",
  "price",
  "total",
  "restock_on",
  "active",
  "_modified",
  "_rev",
] as const;

// [sku, item, category, qty, price, restock in days (null: none), active]
const ITEMS: [string, string, string, number, number, number | null, boolean][] = [
  ["TEA-001", "Assam breakfast tea, 250 g", "Tea", 42, 6.9, null, true],
  ["TEA-002", "Darjeeling first flush, 100 g", "Tea", 8, 12.5, 6, true],
  ["TEA-003", "Sencha, 100 g", "Tea", 23, 8.4, null, true],
  ["TEA-004", "Rooibos vanilla, 200 g", "Tea", 0, 5.6, 3, true],
  ["TEA-005", "Earl Grey, 250 g", "Tea", 31, 7.2, null, true],
  ["TEA-006", "Jasmine pearls, 50 g", "Tea", 5, 14.9, 10, true],
  ["COF-001", "Espresso beans, 1 kg", "Coffee", 17, 21.0, null, true],
  ["COF-002", "Filter coffee, ground, 500 g", "Coffee", 26, 9.8, null, true],
  ["COF-003", "Decaf beans, 500 g", "Coffee", 4, 11.4, 7, true],
  ["COF-004", "Cold brew pack, 6 × 50 g", "Coffee", 12, 13.5, null, true],
  ["ACC-001", "Glass teapot, 1 l", "Accessories", 9, 24.0, null, true],
  ["ACC-002", "Tea strainer, steel", "Accessories", 64, 3.5, null, true],
  ["ACC-003", "French press, 8 cups", "Accessories", 6, 29.9, 14, true],
  ["ACC-004", "Hand grinder, ceramic burr", "Accessories", 3, 39.0, 21, true],
  ["ACC-005", "Milk frother", "Accessories", 0, 18.5, null, false],
  ["ACC-006", "Travel mug, 350 ml", "Accessories", 38, 15.0, null, true],
  ["ACC-007", "Tea caddy, tin", "Accessories", 21, 8.0, null, true],
  ["SNK-001", "Shortbread, 200 g", "Snacks", 48, 3.2, null, true],
  ["SNK-002", "Dark chocolate 70 %, 100 g", "Snacks", 55, 2.9, null, true],
  ["SNK-003", "Almond biscotti, 150 g", "Snacks", 14, 4.4, 5, true],
  ["SNK-004", "Honey, acacia, 500 g", "Snacks", 11, 7.9, null, true],
  ["SNK-005", "Ginger cookies, 250 g", "Snacks", 0, 3.8, 2, true],
  ["GFT-001", "Gift box: tea tasting", "Gifts", 7, 34.0, 12, true],
  ["GFT-002", "Gift box: coffee lover", "Gifts", 5, 42.0, 12, true],
  ["GFT-003", "Gift card, 25 €", "Gifts", 100, 25.0, null, true],
  ["GFT-004", "Advent calendar, tea", "Gifts", 0, 29.0, 30, false],
  ["COF-005", "Single-origin Ethiopia, 250 g", "Coffee", 19, 10.9, null, true],
  ["TEA-007", "Chai spice blend, 200 g", "Tea", 27, 6.4, null, true],
  ["ACC-008", "Pour-over dripper", "Accessories", 13, 16.5, null, true],
  ["SNK-006", "Oat cookies, vegan, 200 g", "Snacks", 22, 3.6, null, true],
];

/** Stable, script-shaped ids (`r_` + 12 hex), so restarts give the same documents. */
const idFor = (sku: string) =>
  `r_${createHash("sha256").update(`demo:${sku}`).digest("hex").slice(0, 12)}`;

/** The seed for the Sheets emulator; `now` dates the rows' last edits and restock days. */
export function demoSpreadsheet(now = Date.now()): SeedSpreadsheet {
  const day = 86_400_000;
  const midnight = new Date(now - (now % day));
  const rows = ITEMS.map(([sku, item, category, qty, price, restockIn, active], i) => {
    const n = i + 2;
    const restock =
      restockIn === null
        ? ""
        : new Date(midnight.getTime() + restockIn * day).toISOString().slice(0, 10);
    // Edited over the last days, newest last: modifiedAt is ms since epoch, as the script writes.
    const modified = now - (ITEMS.length - i) * 3_600_000;
    return [
      idFor(sku),
      sku,
      item,
      category,
      qty,
      price,
      `=E${n}*F${n}`,
      restock,
      active,
      modified,
      "",
    ];
  });
  return {
    title: "Sheet Sync demo: inventory",
    timeZone: DEMO.timeZone,
    sheets: [{ title: DEMO.sheetName, rows: [[...DEMO_HEADER], ...rows] }],
  };
}
