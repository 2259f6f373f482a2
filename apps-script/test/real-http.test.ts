import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import * as main from "../src/main";
import { realHttpTransport, userEdit, type FakeAppsScript } from "./fakes";
import { installSheet, scriptState } from "./helpers";

// A webhook in another process: realHttpTransport blocks this one, as UrlFetchApp does.
const SERVER = `
const http = require("node:http");
const { createHmac } = require("node:crypto");
const secret = process.argv[1];
let calls = 0;
http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    calls++;
    const ts = req.headers["x-sheet-sync-timestamp"];
    const sig = "v1=" + createHmac("sha256", secret).update(ts + "." + body).digest("hex");
    if (req.headers["x-sheet-sync-signature"] !== sig) { res.writeHead(401).end(); return; }
    if (calls === 1) { res.writeHead(503).end("warming up"); return; }
    const parsed = JSON.parse(body);
    process.stdout.write(JSON.stringify(parsed.changes.map((c) => c.values)) + "\\n");
    res.writeHead(200, { "content-type": "application/json" }).end('{"results":[]}');
  });
}).listen(0, "127.0.0.1", function () { process.stdout.write("port " + this.address().port + "\\n"); });
`;

describe("realHttpTransport", function () {
  this.timeout(20_000);
  let server: ChildProcess;
  let fakes: FakeAppsScript;
  const lines: string[] = [];

  before(async () => {
    server = spawn(process.execPath, ["-e", SERVER, "secret-é"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    server.stdout
      ?.setEncoding("utf8")
      .on("data", (chunk: string) => lines.push(...chunk.trim().split("\n")));
    while (!lines.some((l) => l.startsWith("port "))) await once(server.stdout ?? server, "data");
  });
  after(() => {
    fakes?.uninstall();
    server.kill();
  });

  it("delivers signed requests to a real server and retries after a 503", async () => {
    const port = lines.find((l) => l.startsWith("port "))?.slice(5);
    fakes = installSheet([["name"], ["Grüße"]], {
      webhookUrl: `http://127.0.0.1:${port}/hook`,
      secret: "secret-é",
      transport: realHttpTransport({ timeoutMs: 5_000 }),
    });
    main.setUp(); // first request: 503, kept in the outbox
    assert.equal(scriptState().loadOutbox().isEmpty, false);
    main.handleEdit(userEdit(fakes.sheet, 2, 2, [["Grüße 😀"]]));
    assert.ok(scriptState().loadOutbox().isEmpty);
    await new Promise((resolve) => setTimeout(resolve, 100)); // let stdout arrive
    assert.deepEqual(JSON.parse(lines.at(-1) ?? "null"), [{ name: "Grüße 😀" }]);
  });

  it("turns a refused connection into a UrlFetchApp-style exception", () => {
    const transport = realHttpTransport({ timeoutMs: 5_000 });
    assert.throws(
      () => transport({ url: "http://127.0.0.1:1/", method: "POST", headers: {}, body: "{}" }),
      /Address unavailable/,
    );
  });
});
