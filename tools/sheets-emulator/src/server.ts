// Standalone server: the emulator mounted on its own port, JSON 404 for anything else.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createSheetsEmulator,
  type SheetsEmulator,
  type SheetsEmulatorOptions,
} from "./emulator.js";

export interface StartOptions extends SheetsEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4100; 0 picks a free port. */
  port?: number;
}

export interface RunningSheetsEmulator {
  /** Base URL to pass as `rootUrl` to the client, e.g. http://127.0.0.1:4100/ */
  url: string;
  port: number;
  emulator: SheetsEmulator;
  server: Server;
  close(): Promise<void>;
}

export async function startSheetsEmulator(
  options: StartOptions = {},
): Promise<RunningSheetsEmulator> {
  const { host = "127.0.0.1", port = 4100, ...rest } = options;
  const emulator = createSheetsEmulator(rest);
  const server = createServer((req, res) => {
    if (emulator.handle(req, res)) return;
    const body = JSON.stringify({
      error: { code: 404, message: "Not found", status: "NOT_FOUND" },
    });
    res.writeHead(404, { "content-type": "application/json; charset=UTF-8" });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${hostPart}:${actual}/`,
    port: actual,
    emulator,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets from the client would otherwise hold close() open.
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
