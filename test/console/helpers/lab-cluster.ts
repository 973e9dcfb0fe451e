// The browser test's cluster from the lab: nodes are network namespaces running the simulated RKE2,
// the real coordinator runs in the world's coordinator machine, and a pasted join command runs
// inside a fresh node exactly as an operator would run it there. The coordinator listens only inside
// its namespace; the lab already relays its API to a unix socket on the shared filesystem, and this
// helper offers that socket on the host's loopback (forward-main.ts, port 0) so Chromium can reach it.
// TLS stays end to end (the browser sees the coordinator's own certificate).
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { STATE_DIR } from "@muster/lab/cluster/coordinator-process";
import { type ClusterOptions, FAST, TestCluster } from "@muster/lab/cluster/test-cluster";
import { canRunWorld } from "@muster/lab/world/world";
import type { ClusterSource } from "./fake-cluster.ts";

const FORWARD = fileURLToPath(new URL("../../../packages/lab/src/world/forward-main.ts", import.meta.url));

/** Why a lab cluster cannot run here (not root, no ip/netns...), or null. */
export function labMissing(): string | null {
  const can = canRunWorld();
  return can.ok ? null : can.reason;
}

export interface LabSource extends ClusterSource {
  lab: TestCluster;
  /** Every pasted command's run, to check its exit code once the cluster formed. */
  bootstraps: Array<{
    name: string;
    /** The pasted command (it carries the join token the output must never show). */
    command: string;
    run: Promise<{ exitCode?: number; all?: string }>;
    /** Each output line as it was printed, with when it arrived (ms since the epoch). */
    lines: Array<{ at: number; line: string }>;
  }>;
}

/** A host loopback port relaying to a unix socket; resolves with it once listening. */
function forward(socketPath: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [FORWARD, "127.0.0.1:0", socketPath], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += String(d);
      const m = /forward: 127\.0\.0\.1:(\d+) ->/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.stderr!.on("data", (d) => (out += String(d)));
    child.once("exit", (code) => reject(new Error(`forwarder exited ${code}: ${out}`)));
  });
}

export async function startLabCluster(opts: Pick<ClusterOptions, "servers" | "agents">): Promise<LabSource> {
  const lab = await TestCluster.start({ ...opts, durations: FAST });
  let relay: ChildProcess | null = null;
  try {
    const { child, port } = await forward(lab.world.coordinator.path("/tmp/api.sock"));
    relay = child;
    await lab.watchMembership();
    const adminToken = readFileSync(lab.world.coordinator.path(`${STATE_DIR}/admin-token`), "utf8").trim();
    const bootstraps: LabSource["bootstraps"] = [];
    return {
      lab,
      bootstraps,
      url: `https://127.0.0.1:${port}`,
      adminToken,
      async api(p, method = "GET", body) {
        const r = await lab.api.request(method, p, body);
        if (r.status < 200 || r.status >= 300)
          throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body;
      },
      async addNode(name, command) {
        // The command names the coordinator's advertised address (inside the lab), not the relay.
        if (!command.includes(`${lab.coordinator.url}/v1/bootstrap.sh`))
          throw new Error(`not this coordinator's join command: ${command}`);
        const lines: Array<{ at: number; line: string }> = [];
        const run = lab.bootstrap(lab.world.node(name), command, "", (line) =>
          lines.push({ at: Date.now(), line }),
        );
        bootstraps.push({ name, command, run, lines });
      },
      logs: () => lab.coordinator.log.slice(-8000),
      async close() {
        relay?.kill("SIGTERM");
        await lab.down();
      },
    };
  } catch (err) {
    relay?.kill("SIGTERM");
    await lab.down();
    throw err;
  }
}
