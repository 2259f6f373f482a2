/**
 * The newcomer's path in a real browser: `npm start`'s stack (started here
 * as a child process, as a person would), the page at 127.0.0.1:4100, and
 * Firestore checked through the Admin SDK. Debian's Chromium, driven by
 * playwright-core; never a downloaded browser.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deleteApp, initializeApp, type App } from "firebase-admin/app";
import { getFirestore, type Firestore } from "firebase-admin/firestore";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { waitFor } from "../helpers.js";

const CHROMIUM = process.env.SHEET_SYNC_CHROMIUM ?? "/usr/bin/chromium";
const ROOT = resolve(fileURLToPath(import.meta.url), "../../../../..");
const ARTIFACTS = join(ROOT, "test-artifacts", "e2e");
const PAGE = "http://127.0.0.1:4100/";
const DEMO_ROWS = 30;

/** Resolves with the exit code, or null if it did not exit within the deadline. */
function exitWithin(child: ChildProcess, ms: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((res) => {
    const timer = setTimeout(() => res(null), ms);
    child.once("exit", (code) => {
      clearTimeout(timer);
      res(code);
    });
  });
}

const portFree = async (port: number) => {
  const { createServer } = await import("node:net");
  return new Promise<boolean>((res) => {
    const s = createServer();
    s.once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });
};

describe("npm start: the page in a browser", function () {
  this.timeout(300_000);
  let stack: ChildProcess | null = null;
  let output = "";
  let browser: BrowserContext | null = null;
  let page: Page;
  let app: App;
  let db: Firestore;
  let profile: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const line = `browser test not run: ${CHROMIUM} not found; apt-get install -y chromium`;
      if (process.env.SHEET_SYNC_REQUIRE_BROWSER === "1") throw new Error(line);
      console.log(line);
      this.skip();
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    // Its own process group, so the stop below reaches firebase-tools and its emulators.
    stack = spawn(process.execPath, ["--import", "tsx", "tools/local/src/start.ts"], {
      cwd: ROOT,
      // A short local schedule, so the run of scheduledReconcile shows within the test.
      env: { ...process.env, FORCE_COLOR: "0", SHEET_SYNC_LOCAL_RECONCILE_MS: "30000" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    stack.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    stack.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    await waitFor(
      "the stack to be ready (demo rows in Firestore)",
      async () => {
        if (stack!.exitCode !== null) throw new Error(`npm start exited:\n${output.slice(-3000)}`);
        return output.includes("[sheet-sync] ready:") ? true : undefined;
      },
      240_000,
    );
    process.env.FIRESTORE_EMULATOR_HOST = "127.0.0.1:8080";
    app = initializeApp({ projectId: "demo-sheet-sync" }, "e2e");
    db = getFirestore(app);
    await waitFor("the demo rows in Firestore", async () =>
      (await db.collection("rows").get()).size === DEMO_ROWS ? true : undefined,
    );

    profile = mkdtempSync(join(tmpdir(), "sheet-sync-chromium-"));
    // A fresh profile (--user-data-dir) each run: nothing carries over between runs.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1600, height: 1000 },
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(PAGE);
    await page.getByTestId("connection").filter({ hasText: "live" }).waitFor({ timeout: 30_000 });
    await page.getByTestId(`sheet-row-${DEMO_ROWS + 1}`).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, "01-start.png") });
  });

  after(async function () {
    this.timeout(60_000);
    if (page && !page.isClosed())
      await page.screenshot({ path: join(ARTIFACTS, "99-end.png") }).catch(() => {});
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (app) await deleteApp(app);
    if (stack && stack.exitCode === null) {
      process.kill(-stack.pid!, "SIGINT"); // Ctrl-C reaches the whole foreground group
      const code = await exitWithin(stack, 40_000);
      if (code === null) {
        process.kill(-stack.pid!, "SIGKILL");
        assert.fail(`npm start did not stop within 40 s of Ctrl-C:\n${output.slice(-2000)}`);
      }
      assert.equal(code, 0, `npm start exited with ${code} on Ctrl-C:\n${output.slice(-2000)}`);
      // Nothing of the stack's process group may outlive it (function workers included).
      const groupGone = () => {
        try {
          process.kill(-stack!.pid!, 0);
          return undefined;
        } catch {
          return true;
        }
      };
      await waitFor("every process of npm start to exit", async () => groupGone(), 10_000);
      for (const port of [4100, 5001, 8080, 9499]) {
        assert.ok(
          await waitFor(
            `port ${port} to be released`,
            async () => ((await portFree(port)) ? true : undefined),
            10_000,
          ),
        );
      }
    }
  });

  /** The grid's cells as shown, row 1 = header. */
  const gridTexts = () =>
    page.$$eval('[data-testid="sheet-grid"] tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    );

  /** The sheet row (1-based) whose `sku` cell reads `sku`, and column numbers by header. */
  async function locate(sku: string) {
    const grid = await gridTexts();
    const header = grid[0] ?? [];
    const col = (name: string) => header.indexOf(name) + 1;
    const index = grid.findIndex((r) => r[col("sku") - 1] === sku);
    assert.ok(index > 0, `no row with sku ${sku}`);
    return { row: index + 1, col };
  }

  async function idOf(row: number, col: (n: string) => number) {
    return (await page.getByTestId(`cell-${row}-${col("_id")}`).textContent()) ?? "";
  }

  /** The sync's record of a row (functions/src/store/layout.ts). */
  const stateOf = async (id: string) =>
    (await db.collection("syncRows").doc(`rows:${id}`).get()).data();

  /** Every document shown "in sync" on the page (syncRows and syncOutbox agree). */
  const allInSync = () =>
    waitFor("every document in sync on the page", async () => {
      const kinds = await page.$$eval('[data-testid^="sync-r_"]', (tds) =>
        tds.map((td) => (td as HTMLElement).dataset.kind),
      );
      return kinds.length > 0 && kinds.every((k) => k === "in-sync") ? kinds.length : undefined;
    });

  /** Every document's fields, by id. */
  const contents = async () =>
    new Map((await db.collection("rows").get()).docs.map((d) => [d.id, d.data()]));

  it("shows the seeded sheet and the matching documents, already in sync", async () => {
    assert.equal(
      await page.locator('[data-testid^="doc-r_"][data-testid$="-sku"]').count(),
      DEMO_ROWS,
    );
    assert.equal(await allInSync(), DEMO_ROWS);
    const { row, col } = await locate("TEA-002");
    const id = await idOf(row, col);
    const doc = await db.collection("rows").doc(id).get();
    assert.equal(doc.get("item"), "Darjeeling first flush, 100 g");
    // The formula's value reached Firestore as a number.
    assert.equal(doc.get("total"), 100);
    // Documents hold the row's columns only; the sync's memory of the row is in syncRows.
    const header = (await gridTexts())[0] ?? [];
    for (const field of Object.keys(doc.data()!)) assert.ok(header.includes(field), field);
    const state = await stateOf(id);
    assert.equal(state?.inSheet, true);
    assert.equal(state?.base?.item, "Darjeeling first flush, 100 g");
    assert.match((await page.getByTestId("firestore-kind").textContent()) ?? "", /Firestore/);
    assert.match(
      (await page.getByTestId("schedule").textContent()) ?? "",
      /next scheduled reconcile in \d+:\d\d .*every 30 s locally, deployed: every 60 minutes/,
    );
  });

  it("a cell edited in the grid changes the document in Firestore, with no Sheets API request", async () => {
    const writesBefore = Number(await page.getByTestId("stat-writes").textContent());
    const { row, col } = await locate("COF-003");
    const id = await idOf(row, col);
    await page.getByTestId(`cell-${row}-${col("qty")}`).click();
    await page.getByTestId("cell-input").fill("44");
    await page.getByTestId("cell-input").press("Enter");
    const doc = await waitFor("qty = 44 in Firestore", async () => {
      const d = await db.collection("rows").doc(id).get();
      return d.get("qty") === 44 ? d : undefined;
    });
    assert.equal(doc.get("total"), 44 * 11.4);
    // Both sides agree on the new value: it is the row's base now, with nothing left to send.
    const state = await stateOf(id);
    assert.equal(state?.base?.qty, 44);
    assert.deepEqual(state?.docEdits, {});
    await page
      .getByTestId("activity-entry")
      .filter({ hasText: "onEdit → webhook: 1 change → 1 applied" })
      .first()
      .waitFor({ timeout: 10_000 });
    assert.equal(
      Number(await page.getByTestId("stat-writes").textContent()),
      writesBefore,
      "typing in the sheet spent Sheets API quota",
    );
    await page.screenshot({ path: join(ARTIFACTS, "02-grid-edit.png") });
  });

  it("a new row typed into the grid gets an id and becomes a document", async () => {
    const grid = await gridTexts();
    // The first of the blank rows under the data.
    const blank = grid.findIndex((r, i) => i > 0 && r.every((t) => t === "")) + 1;
    const col = (name: string) => (grid[0] ?? []).indexOf(name) + 1;
    await page.getByTestId(`cell-${blank}-${col("sku")}`).click();
    await page.getByTestId("cell-input").fill("TEA-900");
    await page.getByTestId("cell-input").press("Enter");
    const id = await waitFor("the script to write an _id", async () => {
      const text = await page.getByTestId(`cell-${blank}-${col("_id")}`).textContent();
      return text && /^r_[0-9a-f]{12}$/.test(text) ? text : undefined;
    });
    await waitFor("the new document", async () =>
      (await db.collection("rows").doc(id).get()).get("sku") === "TEA-900" ? true : undefined,
    );
  });

  it("a document edited in the page shows up in the grid (trigger → task → Sheets API)", async () => {
    const { row, col } = await locate("ACC-004");
    const id = await idOf(row, col);
    const field = page.getByTestId(`doc-${id}-item`);
    await field.click();
    await page.getByTestId("cell-input").fill("Hand grinder, steel burr");
    await page.getByTestId("cell-input").press("Enter");
    await waitFor("the grid to show the new item", async () =>
      (await page.getByTestId(`cell-${row}-${col("item")}`).textContent()) ===
      "Hand grinder, steel burr"
        ? true
        : undefined,
    );
    // The flush wrote the row with the sync's write counter; then the row is in sync again.
    await waitFor("the row's _rev in the sheet", async () =>
      Number(await page.getByTestId(`cell-${row}-${col("_rev")}`).textContent()) > 0
        ? true
        : undefined,
    );
    await page
      .getByTestId(`sync-${id}`)
      .and(page.locator('[data-kind="in-sync"]'))
      .waitFor({ timeout: 20_000 });
    assert.ok(
      Number(await page.getByTestId("stat-writes").textContent()) > 0,
      "no Sheets API write counted",
    );
    await page
      .getByTestId("activity-entry")
      .filter({ hasText: "Sheets API values.batchUpdate → 200" })
      .first()
      .waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "03-doc-edit.png") });
  });

  it("a row deleted in the grid deletes the document, and Undo delete brings both back", async () => {
    const { row, col } = await locate("SNK-005");
    const id = await idOf(row, col);
    const before = (await db.collection("rows").doc(id).get()).data();
    assert.ok(before);
    await page.getByTestId(`row-num-${row}`).click();
    await page.getByTestId("delete-row").click();
    await waitFor("the document to be deleted", async () =>
      (await db.collection("rows").doc(id).get()).exists ? undefined : true,
    );
    await page.getByTestId(`doc-${id}`).waitFor({ state: "detached", timeout: 10_000 });
    const grid = await gridTexts();
    assert.ok(!grid.some((r) => r.includes("SNK-005")), "the row is still in the grid");
    // The sync remembers the delete, so a late edit of the row cannot bring it back.
    await page
      .getByTestId(`sync-${id}`)
      .filter({ hasText: "deleted in the sheet" })
      .waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, "04-row-deleted.png") });

    await page.getByTestId("undo-delete").click();
    const back = await waitFor("the document to come back", async () =>
      (await db.collection("rows").doc(id).get()).data(),
    );
    assert.deepEqual(back, before);
    assert.equal((await locate("SNK-005")).row, row);
    await page.getByTestId(`doc-${id}`).waitFor({ timeout: 10_000 });
  });

  it("Reconcile compares the whole tab with Firestore and finds every row in sync", async () => {
    const docs = await allInSync();
    const clicked = Date.now();
    await page.getByTestId("reconcile").click();
    const report = page.getByTestId("reconcile-report");
    await waitFor("the reconcile report on the page", async () =>
      (await report.getAttribute("data-trigger")) === "request" &&
      Number(await report.getAttribute("data-at")) >= clicked - 1_000
        ? true
        : undefined,
    );
    const rows = Number(await page.getByTestId("reconcile-rows").getAttribute("data-rows"));
    assert.ok(rows >= docs, `compared ${rows} rows, the page shows ${docs} documents`);
    const findings = await report
      .locator('[data-testid^="finding-"]')
      .evaluateAll((trs) =>
        trs.map((tr) => [
          (tr as HTMLElement).dataset.testid,
          Number((tr as HTMLElement).dataset.count),
        ]),
      );
    assert.deepEqual(findings, [["finding-in-sync", rows]]);
    assert.match(
      (await page.getByTestId("reconcile-cost").textContent()) ?? "",
      /Sheets API: \d+ reads, 0 writes · \d+ ms/,
    );
    await page.screenshot({ path: join(ARTIFACTS, "05-reconcile.png") });
  });

  it("sorting only the visible columns moves the ids after their content: no document changes", async () => {
    await allInSync();
    const before = await contents();
    const grid = await gridTexts();
    const header = grid[0] ?? [];
    const [skuAt, idAt] = [header.indexOf("sku"), header.indexOf("_id")];
    const idBySku = new Map(
      grid
        .slice(1)
        .filter((r) => r[skuAt])
        .map((r) => [r[skuAt], r[idAt]]),
    );
    const order = grid.map((r) => r[skuAt]).join();

    await page.getByTestId("sort-scope").selectOption("visible");
    await page.getByTestId("sort-column").selectOption({ label: "item" });
    // The page's request answers once the script's onChange run is over.
    const sorted = page.waitForResponse((r) => r.url().endsWith("/api/sheet/sort"));
    await page.getByTestId("sort-desc").click();
    assert.equal((await sorted).status(), 200);
    const after = await waitFor("every id to sit beside its own content again", async () => {
      const g = await gridTexts();
      const rows = g.slice(1).filter((r) => r[skuAt]);
      return g.map((r) => r[skuAt]).join() !== order &&
        rows.every((r) => r[idAt] === idBySku.get(r[skuAt]))
        ? g
        : undefined;
    });
    assert.equal(after.slice(1).filter((r) => r[skuAt]).length, idBySku.size);
    await fetch(`${PAGE}__stack/triggers/idle?timeoutMs=30000`).catch(() => {});
    await allInSync();
    assert.deepEqual(await contents(), before, "a document's content changed");
    await page.screenshot({ path: join(ARTIFACTS, "06-sorted-visible-columns.png") });
  });

  it("runs scheduledReconcile on the local schedule", async () => {
    await page
      .getByTestId("activity-entry")
      .filter({ hasText: /scheduled reconcile: ran scheduledReconcile in \d+ ms: schedule, / })
      .first()
      .waitFor({ timeout: 45_000 });
  });
});
