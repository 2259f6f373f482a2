import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadBundle, userEdit, type BundleGlobals, type FakeAppsScript } from "./fakes";
import { expectedSignature, installSheet, parseBody } from "./helpers";

const ROOT = join(__dirname, "..");
const ENTRY_POINTS = [
  "onOpen",
  "handleEdit",
  "handleChange",
  "flushOutbox",
  "setUp",
  "syncNow",
  "showStatus",
] as const;

describe("dist/Code.js (the bundle clasp pushes)", function () {
  this.timeout(30_000);
  let fakes: FakeAppsScript;
  let code: BundleGlobals;

  before(() => {
    // Test what the current source builds to, not a stale dist/.
    execFileSync(process.execPath, [join(ROOT, "build.mjs")], { cwd: ROOT, stdio: "pipe" });
  });

  beforeEach(() => {
    // The fakes are passed to the vm context only, never installed on this realm.
    fakes = installSheet([
      ["name", "qty"],
      ["Widget", 3],
    ]);
    fakes.uninstall();
    code = loadBundle(fakes);
  });

  it("declares the global functions Apps Script triggers and menus call", () => {
    for (const name of ENTRY_POINTS) assert.equal(typeof code[name], "function", name);
    const source = readFileSync(join(ROOT, "dist", "Code.js"), "utf8");
    for (const name of ENTRY_POINTS) assert.match(source, new RegExp(`^function ${name}\\(`, "m"));
    assert.doesNotMatch(source, /[\u0080-\uffff]/, "ASCII only, whatever the editor's charset");
    const manifest = JSON.parse(readFileSync(join(ROOT, "dist", "appsscript.json"), "utf8"));
    assert.equal(manifest.runtimeVersion, "V8");
  });

  it("turns an edit through handleEdit into a signed webhook request", () => {
    code.setUp();
    fakes.urlFetch.requests.splice(0);
    code.handleEdit(userEdit(fakes.sheet, 2, 3, [[4]]));
    assert.equal(fakes.urlFetch.requests.length, 1);
    const request = fakes.urlFetch.requests[0];
    assert.ok(request);
    assert.equal(request.headers["X-Sheet-Sync-Signature"], expectedSignature(request));
    const body = parseBody(request);
    assert.deepEqual(body.header, ["_id", "name", "qty", "_modified", "_rev"]);
    assert.deepEqual(
      body.changes.map((c) => [c.values, c.fields]),
      [[{ name: "Widget", qty: 4 }, ["qty"]]],
    );
    code.onOpen();
    assert.equal(fakes.spreadsheetApp.ui.menus[0]?.caption, "Sheet Sync");
  });
});
