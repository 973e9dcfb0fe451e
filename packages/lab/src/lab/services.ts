// The long-running parts of a lab. Inside machines they are systemd units run by the simulator's
// systemctl stand-in (its supervisors are detached, so they outlive `lab up`; being members of the
// machine's namespaces, `down` and `kill` find them). The one host-side process is the loopback
// forwarder that lets `muster` on the host reach the coordinator (recorded in the manifest).
import { spawn } from "node:child_process";
import fs from "node:fs";
import { MIRROR_DIR, MIRROR_PORT } from "../cluster/setup.ts";
import { ApiClient } from "../world/api-client.ts";
import { processStartTime } from "../world/host.ts";
import { REPO_ROOT } from "../world/mounts.ts";
import type { WorldNode } from "../world/node.ts";
import { labFile, record } from "./state.ts";
import { waitFor } from "./wait.ts";

export const COORDINATOR_PORT = 9443;
export const STATE_DIR = "/var/lib/muster";
const API_SOCKET = "/tmp/api.sock";

function unit(description: string, execStart: string, env: Record<string, string> = {}): string {
  const envLines = Object.entries(env).map(([k, v]) => `Environment=${k}=${v}\n`);
  return `[Unit]\nDescription=${description}\n\n[Service]\nType=simple\nWorkingDirectory=${REPO_ROOT}\n${envLines.join("")}ExecStart=${execStart}\nRestart=always\nRestartSec=1\n\n[Install]\nWantedBy=multi-user.target\n`;
}

/** Writes a unit into the machine and starts it with the machine's systemctl. */
export async function startUnit(machine: WorldNode, name: string, text: string): Promise<void> {
  const dir = machine.path("/etc/systemd/system");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(`${dir}/${name}.service`, text);
  const r = await machine.sh(`systemctl daemon-reload && systemctl restart ${name}`, {
    reject: false,
    all: true,
  });
  if (r.exitCode !== 0) throw new Error(`lab: starting ${name} in ${machine.name} failed: ${r.all}`);
}

/** Mirror, coordinator and the API's unix-socket forwarder, as units in the coordinator machine. */
export async function startCoordinator(c: WorldNode): Promise<ApiClient> {
  const node = process.execPath;
  await startUnit(
    c,
    "muster-lab-mirror",
    unit(
      "lab mirror of the RKE2 installer and artifacts",
      `${node} packages/lab/src/world/mirror-main.ts ${MIRROR_DIR} --listen ${c.ip}:${MIRROR_PORT}`,
    ),
  );
  await startUnit(
    c,
    "muster-coordinator",
    unit(
      "muster coordinator",
      `${node} packages/coordinator/src/server/cli.ts serve --state-dir ${STATE_DIR} --listen ${c.ip}:${COORDINATOR_PORT} --config /etc/muster/cluster.yaml`,
      { MUSTER_LOG_LEVEL: "info" },
    ),
  );
  await startUnit(
    c,
    "muster-lab-api",
    unit(
      "the coordinator's API on a unix socket, for the host",
      `${node} packages/lab/src/world/forward-main.ts ${API_SOCKET} ${c.ip}:${COORDINATOR_PORT}`,
    ),
  );
  const ca = c.path(`${STATE_DIR}/tls/ca.crt`);
  const token = c.path(`${STATE_DIR}/admin-token`);
  await waitFor(
    "the coordinator to write its CA and admin token",
    async () => (fs.existsSync(ca) && fs.existsSync(token) ? true : undefined),
    60_000,
  );
  const api = apiClient(c);
  await waitFor(
    "the coordinator to answer /healthz",
    async () => ((await api.get<{ status: string }>("/healthz")).status === "ok" ? true : undefined),
    60_000,
  );
  return api;
}

/** A client for the coordinator's API through the unix socket, verifying TLS against its CA. */
export function apiClient(c: WorldNode): ApiClient {
  return new ApiClient({
    socketPath: c.path(API_SOCKET),
    servername: c.ip,
    ca: fs.readFileSync(c.path(`${STATE_DIR}/tls/ca.crt`)),
    adminToken: fs.readFileSync(c.path(`${STATE_DIR}/admin-token`), "utf8").trim(),
  });
}

/**
 * Offers the coordinator's API on 127.0.0.1:<free port> on the host (only loopback: the host
 * namespace gets no world address). Detached, so it outlives `up`; its pid is in the manifest.
 */
export async function startHostForwarder(id: string, c: WorldNode): Promise<number> {
  const log = labFile(id, "forward.log");
  record(id, { kind: "file", path: log });
  record(id, { kind: "process", name: "host-forward" });
  const out = fs.openSync(log, "w", 0o600);
  const child = spawn(
    process.execPath,
    [`${REPO_ROOT}/packages/lab/src/world/forward-main.ts`, "127.0.0.1:0", c.path(API_SOCKET)],
    { detached: true, stdio: ["ignore", out, out], cwd: "/" },
  );
  fs.closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error("lab: the host forwarder did not start");
  record(id, { kind: "process", name: "host-forward", pid, start: processStartTime(pid) ?? "" });
  child.unref();
  const line = await waitFor(
    "the host forwarder to listen",
    async () => /forward: 127\.0\.0\.1:(\d+)/.exec(fs.readFileSync(log, "utf8"))?.[1],
    15_000,
  );
  return Number(line);
}
