// The real coordinator (`muster-coordinator serve`) running in the world's coordinator machine, with a
// unix-socket forwarder so host-side tests reach its API over real, verified TLS.
import { readFile } from "node:fs/promises";
import { ApiClient } from "@muster/lab/world/api-client";
import { REPO_ROOT } from "@muster/lab/world/mounts";
import type { WorldNode } from "@muster/lab/world/world";

const PORT = 9443;
export const STATE_DIR = "/var/lib/muster";

export class CoordinatorProcess {
  readonly machine: WorldNode;
  #proc: ReturnType<WorldNode["spawn"]> | null = null;
  #forward: ReturnType<WorldNode["spawn"]> | null = null;
  #api: ApiClient | null = null;
  log = "";

  constructor(machine: WorldNode) {
    this.machine = machine;
  }

  get url(): string {
    return `https://${this.machine.ip}:${PORT}`;
  }

  get api(): ApiClient {
    if (!this.#api) throw new Error("coordinator not started");
    return this.#api;
  }

  async start(): Promise<void> {
    const m = this.machine;
    const proc = m.spawn(
      process.execPath,
      [
        "packages/coordinator/src/server/cli.ts",
        "serve",
        "--state-dir",
        STATE_DIR,
        "--listen",
        `${m.ip}:${PORT}`,
        "--config",
        "/etc/muster/cluster.yaml",
      ],
      { buffer: false, cwd: REPO_ROOT, env: { MUSTER_LOG_LEVEL: "info" } },
    );
    proc.stdout?.on("data", (c: Buffer) => {
      this.log += c.toString();
    });
    proc.stderr?.on("data", (c: Buffer) => {
      this.log += c.toString();
    });
    this.#proc = proc;
    // After a restart the log still holds the previous process's line: look only at this one's.
    const from = this.log.length;
    await waitUntil(
      () => this.log.includes("muster coordinator serving", from),
      30_000,
      () => `coordinator did not start:\n${this.log}`,
    );
    if (!this.#forward) {
      this.#forward = m.spawn(
        process.execPath,
        ["packages/lab/src/world/forward-main.ts", "/tmp/api.sock", `${m.ip}:${PORT}`],
        { buffer: false, cwd: REPO_ROOT },
      );
      let out = "";
      this.#forward.stdout?.on("data", (c: Buffer) => {
        out += c.toString();
      });
      await waitUntil(
        () => out.includes("forward:"),
        10_000,
        () => "API forwarder did not start",
      );
    }
    this.#api = new ApiClient({
      socketPath: m.path("/tmp/api.sock"),
      servername: m.ip,
      ca: await readFile(m.path(`${STATE_DIR}/tls/ca.crt`)),
      adminToken: (await readFile(m.path(`${STATE_DIR}/admin-token`), "utf8")).trim(),
    });
  }

  /** kill -9: no graceful shutdown, exactly what a crash looks like. */
  async kill(): Promise<void> {
    const p = this.#proc;
    if (!p) return;
    p.kill("SIGKILL");
    await p.catch(() => {});
    this.#proc = null;
  }

  async stop(): Promise<void> {
    const p = this.#proc;
    this.#forward?.kill("SIGTERM");
    this.#forward = null;
    if (!p) return;
    p.kill("SIGTERM");
    await p.catch(() => {});
    this.#proc = null;
  }
}

async function waitUntil(ok: () => boolean, timeoutMs: number, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 100));
  }
}
