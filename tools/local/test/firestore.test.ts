import assert from "node:assert/strict";
import { createServer } from "node:net";
import { chooseFirestore, parseJavaVersion } from "../src/firestore.js";
import { assertPortsFree } from "../src/ports.js";

describe("choosing the Firestore emulator", () => {
  it("reads Java's major version from `java -version` output, old and new styles", () => {
    assert.equal(parseJavaVersion('openjdk version "17.0.15" 2025-04-15'), 17);
    assert.equal(parseJavaVersion('openjdk version "21" 2023-09-19'), 21);
    assert.equal(parseJavaVersion('java version "1.8.0_401"'), 8);
    assert.equal(parseJavaVersion("bash: java: command not found"), null);
  });

  it("uses the real emulator with Java 21+, the stand-in otherwise, and obeys SHEET_SYNC_FIRESTORE", () => {
    assert.equal(chooseFirestore({}, 21).kind, "real");
    assert.equal(chooseFirestore({}, 17).kind, "standin");
    assert.match(chooseFirestore({}, 17).why, /Java 17 < 21/);
    assert.equal(chooseFirestore({}, null).kind, "standin");
    assert.equal(chooseFirestore({ SHEET_SYNC_FIRESTORE: "standin" }, 21).kind, "standin");
    assert.equal(chooseFirestore({ SHEET_SYNC_FIRESTORE: "real" }, 17).kind, "real");
    assert.throws(
      () => chooseFirestore({ SHEET_SYNC_FIRESTORE: "yes" }, 21),
      /must be "real" or "standin"/,
    );
  });
});

describe("port check", () => {
  it("names the busy port and the setting that moves it", async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as { port: number }).port;
    try {
      await assert.rejects(
        assertPortsFree([
          { name: "Functions emulator", port, setting: "firebase.json emulators.functions.port" },
        ]),
        new RegExp(
          `port ${port} \\(Functions emulator\\) is already in use; change it in firebase.json emulators.functions.port`,
        ),
      );
    } finally {
      srv.close();
    }
    await assertPortsFree([{ name: "free now", port, setting: "x" }]);
  });
});

describe("starting the local stack", () => {
  it("refuses a busy page/Sheets port before starting anything, naming the setting", async () => {
    const { prepareStack } = await import("../src/stack.js");
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(4100, "127.0.0.1", () => r()));
    try {
      await assert.rejects(
        prepareStack(),
        /port 4100 \(Sheets API emulator and page\) is already in use; change it in SHEETS_API_ROOT_URL in functions\/\.env\.demo-sheet-sync/,
      );
    } finally {
      srv.close();
    }
  });
});
