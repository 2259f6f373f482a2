/**
 * The built Apps Script bundle, on faked Apps Script services but with real
 * HTTP, against the real sheetWebhook on the running emulators: a person's
 * edits in the sheet end up in Firestore.
 */
import assert from "node:assert/strict";
import { getApps, initializeApp } from "firebase-admin/app";
import { getFirestore, Timestamp } from "firebase-admin/firestore";
import {
  changeEvent,
  createFakeAppsScript,
  loadBundle,
  realHttpTransport,
  userEdit,
  type BundleGlobals,
  type FakeAppsScript,
} from "../fakes";

const PROJECT = "demo-sheet-sync";
const WEBHOOK_URL = `http://127.0.0.1:5001/${PROJECT}/us-central1/sheetWebhook`;

function db() {
  if (!process.env.FIRESTORE_EMULATOR_HOST)
    throw new Error("run through `npm run test:integration` at the root");
  if (!getApps().length) initializeApp({ projectId: PROJECT });
  return getFirestore();
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  deadlineMs = 30_000,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("Apps Script bundle → sheetWebhook → Firestore", function () {
  this.timeout(120_000);
  let f: FakeAppsScript;
  let gs: BundleGlobals;
  const rows = () => db().collection("rows");

  /** The sheet as a person sees it, with the hidden columns found by header. */
  function table() {
    const values = f.sheet.getDataRange().getValues();
    const header = values[0]!.map(String);
    const col = (name: string) => header.indexOf(name);
    return {
      header,
      col,
      data: values.slice(1),
      idOf: (row: number) => String(values[row - 1]![col("_id")]),
    };
  }

  before(async () => {
    await waitFor(
      "the webhook to load",
      async () => ((await fetch(WEBHOOK_URL)).status === 405 ? true : undefined),
      60_000,
    );
    f = createFakeAppsScript({
      spreadsheetId: "demo-spreadsheet",
      rows: [
        ["name", "qty", "due", "done"],
        ["Widget", 3, new Date("2026-11-20T09:00:00.000Z"), false],
        ["Gadget", 12, "", true],
        ["Gizmo", 7, new Date("2026-12-01T00:00:00.000Z"), false],
        ["Café crème", 1, "", false],
      ],
      webhookUrl: WEBHOOK_URL,
      secret: "dev-secret",
      transport: realHttpTransport(),
    });
    gs = loadBundle(f);
  });

  it("Set up gives every row an id and sends them all", async () => {
    gs.setUp();
    const t = table();
    assert.ok(
      t.col("_id") >= 0 && t.col("_modified") >= 0,
      `hidden columns added: ${t.header.join(",")}`,
    );
    const ids = t.data.map((r) => String(r[t.col("_id")]));
    assert.equal(new Set(ids).size, 4);
    const snaps = await db().getAll(...ids.map((id) => rows().doc(id)));
    assert.deepEqual(
      snaps.map((s) => s.get("name")),
      ["Widget", "Gadget", "Gizmo", "Café crème"],
    );
    const widget = snaps[0]!;
    assert.equal(widget.get("qty"), 3);
    assert.ok(widget.get("due") instanceof Timestamp);
    assert.equal(
      (widget.get("due") as Timestamp).toDate().toISOString(),
      "2026-11-20T09:00:00.000Z",
    );
    assert.equal(widget.get("done"), false);
    assert.equal(snaps[1]!.get("due"), null);
    const state = await db()
      .collection("syncRows")
      .doc(`rows:${t.idOf(2)}`)
      .get();
    assert.equal(state.get("sheetAt"), Number(t.data[0]![t.col("_modified")]));
  });

  it("running Set up again resends every row as a duplicate that rewrites nothing", async () => {
    const ids = table().data.map((r) => String(r[table().col("_id")]));
    const before = await db().getAll(...ids.map((id) => rows().doc(id)));
    gs.setUp();
    const after = await db().getAll(...ids.map((id) => rows().doc(id)));
    assert.deepEqual(
      after.map((s) => s.updateTime!.toMillis()),
      before.map((s) => s.updateTime!.toMillis()),
    );
    assert.equal(
      new Set(table().data.map((r) => String(r[table().col("_id")]))).size,
      4,
      "ids kept",
    );
  });

  it("an edit of one cell updates that row's document", async () => {
    const t = table();
    gs.handleEdit(userEdit(f.sheet, 2, t.col("qty") + 1, [[4]]));
    const doc = await rows().doc(t.idOf(2)).get();
    assert.equal(doc.get("qty"), 4);
  });

  it("a paste over two rows and two columns updates both documents", async () => {
    const t = table();
    gs.handleEdit(
      userEdit(f.sheet, 3, t.col("name") + 1, [
        ["Gadget XL", 13],
        ["Gizmo Pro", 8],
      ]),
    );
    const [a, b] = await db().getAll(rows().doc(t.idOf(3)), rows().doc(t.idOf(4)));
    assert.deepEqual(
      [a!.get("name"), a!.get("qty"), b!.get("name"), b!.get("qty")],
      ["Gadget XL", 13, "Gizmo Pro", 8],
    );
  });

  it("a deleted row deletes its document and remembers the delete", async () => {
    const id = table().idOf(3);
    f.sheet.deleteRow(3);
    gs.handleChange(changeEvent(f.spreadsheet, "REMOVE_ROW"));
    assert.equal((await rows().doc(id).get()).exists, false);
    const state = await db().collection("syncRows").doc(`rows:${id}`).get();
    assert.equal(state.get("deleted.by"), "sheet");
  });

  it("sets aside a row the server refuses, with a note on it, and syncs it once fixed (sequence 12)", async () => {
    const t = table();
    const id = t.idOf(2);
    // A number typed into a date cell: a date in year 57373.
    gs.handleEdit(userEdit(f.sheet, 2, t.col("due") + 1, [[new Date(Date.UTC(57373, 0, 1))]]));
    gs.handleEdit(userEdit(f.sheet, 4, t.col("qty") + 1, [[70]]));
    assert.equal((await rows().doc(t.idOf(4)).get()).get("qty"), 70, "the other row went through");
    assert.match(
      f.sheet.getRange(2, t.col("name") + 1).getNote(),
      /Sheet Sync could not sync this row: .*years 1 to 9999/,
    );
    gs.showStatus();
    assert.match(
      f.spreadsheetApp.ui.alerts.at(-1)?.prompt ?? "",
      new RegExp(`${id}: .*years 1 to 9999`),
    );
    gs.handleEdit(userEdit(f.sheet, 2, t.col("due") + 1, [[new Date("2027-01-01T00:00:00.000Z")]]));
    assert.equal(
      ((await rows().doc(id).get()).get("due") as Timestamp).toDate().toISOString(),
      "2027-01-01T00:00:00.000Z",
    );
    assert.equal(f.sheet.getRange(2, t.col("name") + 1).getNote(), "", "the note went");
  });

  it("keeps an edit made while the webhook is unreachable and sends it on the next flush", async () => {
    const t = table();
    const id = t.idOf(2);
    f.scriptProperties.setProperty("SHEET_SYNC_WEBHOOK_URL", "http://127.0.0.1:9/unreachable");
    gs.handleEdit(userEdit(f.sheet, 2, t.col("qty") + 1, [[99]]));
    assert.equal((await rows().doc(id).get()).get("qty"), 4, "nothing could have been sent");

    f.scriptProperties.setProperty("SHEET_SYNC_WEBHOOK_URL", WEBHOOK_URL);
    gs.flushOutbox();
    assert.equal((await rows().doc(id).get()).get("qty"), 99);
  });

  it("a wrong secret is refused and the change waits in the outbox until the secret is fixed", async () => {
    const t = table();
    const id = t.idOf(4);
    const before = (await rows().doc(id).get()).get("qty");
    f.scriptProperties.setProperty("SHEET_SYNC_SECRET", "wrong");
    gs.handleEdit(userEdit(f.sheet, 4, t.col("qty") + 1, [[2]]));
    assert.equal((await rows().doc(id).get()).get("qty"), before);
    f.scriptProperties.setProperty("SHEET_SYNC_SECRET", "dev-secret");
    gs.flushOutbox();
    assert.equal((await rows().doc(id).get()).get("qty"), 2);
  });
});
