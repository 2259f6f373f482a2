import { createServer } from "node:net";

export interface PortUse {
  name: string;
  port: number;
  /** Where a person changes it. */
  setting: string;
}

/** Fails with a message naming every busy port and the setting that moves it. */
export async function assertPortsFree(ports: PortUse[], host = "127.0.0.1"): Promise<void> {
  const busy: PortUse[] = [];
  for (const p of ports) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once("error", () => resolve(false));
      srv.listen(p.port, host, () => srv.close(() => resolve(true)));
    });
    if (!free) busy.push(p);
  }
  if (busy.length) {
    const lines = busy.map(
      (p) => `  port ${p.port} (${p.name}) is already in use; change it in ${p.setting}`,
    );
    throw new Error(
      `Cannot start the local stack:\n${lines.join("\n")}\nStop whatever is using it (lsof -i :PORT), or change the setting.`,
    );
  }
}
