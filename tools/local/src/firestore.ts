/**
 * Which Firestore the local stack runs on. The real emulator is a Java 21 jar
 * that firebase-tools downloads on first use; where Java 21 is missing (or
 * there is no internet to fetch the jar) the Node stand-in
 * @firestore-emulator/server takes its place. SHEET_SYNC_FIRESTORE=real|standin
 * forces a choice.
 */
import { spawnSync } from "node:child_process";
import { FirestoreServer } from "@firestore-emulator/server";
import { ServerCredentials, type Server } from "@grpc/grpc-js";

export type FirestoreChoice = { kind: "real" | "standin"; why: string };

export function javaMajorVersion(): number | null {
  // `java -version` prints to stderr.
  const out = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (out.error) return null;
  return parseJavaVersion(`${out.stderr}${out.stdout}`);
}

export function parseJavaVersion(text: string): number | null {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return null;
  const major = Number(m[1]);
  return major === 1 && m[2] ? Number(m[2]) : major;
}

export function chooseFirestore(env = process.env, java = javaMajorVersion()): FirestoreChoice {
  const forced = env.SHEET_SYNC_FIRESTORE;
  if (forced === "real") return { kind: "real", why: "SHEET_SYNC_FIRESTORE=real" };
  if (forced === "standin") return { kind: "standin", why: "SHEET_SYNC_FIRESTORE=standin" };
  if (forced) throw new Error(`SHEET_SYNC_FIRESTORE must be "real" or "standin", not "${forced}"`);
  if (java !== null && java >= 21) return { kind: "real", why: `Java ${java} found` };
  return {
    kind: "standin",
    why:
      java === null
        ? "no Java found (the real emulator needs Java 21+)"
        : `Java ${java} < 21 (the real emulator needs 21+)`,
  };
}

/** The stand-in, bound to loopback only (its own start() binds 0.0.0.0). */
export async function startStandIn(host: string, port: number): Promise<FirestoreServer> {
  const server = new FirestoreServer();
  const grpc = (server as unknown as { server: Server }).server;
  await new Promise<void>((resolve, reject) =>
    grpc.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
  return server;
}
