// Where the browser test's cluster comes from: the real coordinator (`muster-coordinator serve` on
// loopback, its own state dir) and real agent processes on fake hosts (test/agent/fake-host-agent.ts:
// the real daemon, pinned TLS and phases; RKE2's endpoints faked on the node's loopback IP). Nodes
// really enrol, pass checks, get plans and join in the coordinator's order.
//
// The one function to swap for the lab (packages/lab) once it lands: a lab source would run the
// pasted command on a new machine (`npm run lab -- exec ID NODE -- sh -c COMMAND`), as root.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { selfSignedCert } from "../../helpers/self-signed-cert.ts";

const COORDINATOR = fileURLToPath(
  new URL("../../../packages/coordinator/src/server/cli.ts", import.meta.url),
);
const FAKE_AGENT = fileURLToPath(new URL("../../agent/fake-host-agent.ts", import.meta.url));
// Loopback addresses of their own (the agent integration test uses 127.77.0.x).
const NODE_IP = (i: number) => `127.78.0.${10 + i}`;

/** Whether this source needs root (namespaces): the fake hosts do not; the lab will. */
export const NEEDS_ROOT = false;

export interface ClusterSource {
  /** https://host:port of the coordinator; its certificate is self-signed. */
  url: string;
  adminToken: string;
  /** A REST call as the admin, trusting the coordinator's own CA; rejects unless 2xx. */
  api(path: string, method?: string, body?: unknown): Promise<unknown>;
  /** A new machine runs the join command as pasted from the console. */
  addNode(name: string, command: string): Promise<void>;
  /** The coordinator's and agents' output, for a failure message. */
  logs(): string;
  close(): Promise<void>;
}

export async function startCluster(dir: string): Promise<ClusterSource> {
  const children: ChildProcess[] = [];
  const out: string[] = [];
  const stateDir = path.join(dir, "coordinator");
  const coordinator = spawn(
    process.execPath,
    [COORDINATOR, "serve", "--state-dir", stateDir, "--listen", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, MUSTER_LOG_LEVEL: "info" } },
  );
  children.push(coordinator);
  const { url, pin } = await new Promise<{ url: string; pin: string }>((resolve, reject) => {
    coordinator.stderr!.on("data", (d) => out.push(String(d)));
    coordinator.stdout!.on("data", (d) => {
      for (const line of String(d).split("\n").filter(Boolean)) {
        out.push(line);
        try {
          const j = JSON.parse(line) as { url?: string; pin?: string };
          if (j.url && j.pin) resolve({ url: j.url, pin: j.pin });
        } catch {}
      }
    });
    coordinator.once("exit", (code) => reject(new Error(`coordinator exited ${code}: ${out.join("\n")}`)));
  });
  const adminToken = readFileSync(path.join(stateDir, "admin-token"), "utf8").trim();
  // The fake RKE2 endpoints' CA: one for every node, like a real cluster's.
  const ips = Array.from({ length: 16 }, (_, i) => NODE_IP(i));
  const ca = selfSignedCert("rke2-server-ca", ips);
  writeFileSync(path.join(dir, "rke2-ca.crt"), ca.cert);
  writeFileSync(path.join(dir, "rke2-ca.key"), ca.key, { mode: 0o600 });
  const coordinatorCa = readFileSync(path.join(stateDir, "tls/ca.crt"));
  let nodes = 0;

  return {
    url,
    adminToken,
    api: (p, method = "GET", body) =>
      new Promise((resolve, reject) => {
        const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
        if (body !== undefined) headers["content-type"] = "application/json";
        https
          .request(`${url}${p}`, { method, ca: coordinatorCa, headers }, (res) => {
            let text = "";
            res.on("data", (c) => (text += c));
            res.on("end", () => {
              const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
              if (ok) resolve(text ? JSON.parse(text) : null);
              else reject(new Error(`${method} ${p}: ${res.statusCode} ${text}`));
            });
          })
          .on("error", reject)
          .end(body === undefined ? undefined : JSON.stringify(body));
      }),
    async addNode(name, command) {
      // What the bootstrap would write from the pasted line: the coordinator and pin it names, the token.
      const token = /--token\s+(\S+)/.exec(command)?.[1];
      const pinned = /--pinnedpubkey\s+'([^']+)'/.exec(command)?.[1];
      if (!token || pinned !== pin || !command.includes(`${url}/v1/bootstrap.sh`))
        throw new Error(`not this coordinator's join command: ${command}`);
      const i = nodes++;
      const root = path.join(dir, name);
      mkdirSync(path.join(root, "etc/muster"), { recursive: true });
      const yaml = `coordinatorUrl: ${url}\npin: "${pinned}"\njoinToken: ${token}\nnodeName: ${name}\n`;
      writeFileSync(path.join(root, "etc/muster/agent.yaml"), yaml, { mode: 0o600 });
      const machineId = (i + 1).toString(16).padStart(32, "a");
      const agent = spawn(
        process.execPath,
        [
          FAKE_AGENT,
          ...["--config", "/etc/muster/agent.yaml", "--root", root, "--node-ip", NODE_IP(i)],
          ...["--hostname", name, "--machine-id", machineId],
          ...["--ca-cert", path.join(dir, "rke2-ca.crt"), "--ca-key", path.join(dir, "rke2-ca.key")],
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      agent.stdout!.on("data", (d) => out.push(String(d)));
      agent.stderr!.on("data", (d) => out.push(String(d)));
      children.push(agent);
    },
    logs: () => out.join("\n").slice(-8000),
    async close() {
      await Promise.all(
        children.reverse().map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once("exit", () => resolve());
              c.kill("SIGTERM");
              setTimeout(() => c.kill("SIGKILL"), 5000).unref();
            }),
        ),
      );
    },
  };
}
