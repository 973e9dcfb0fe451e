// Test-only entry: a real muster agent process (the real daemon, pinned TLS, phases and state files)
// on a fake host. Files live under --root; the "installer" drops a fake rke2; `systemctl enable --now
// rke2-server` starts small HTTPS endpoints on the node IP that answer like RKE2 (:9345 ping, cacerts,
// db/info; :6443 readyz) with the cluster CA, and writes the generated token file on the init server;
// `rke2-agent` starts the kubelet's plain-HTTP health endpoint (:10248/healthz).
// Probes go over real TLS; "127.0.0.1" (this node's loopback) is mapped to the node IP so several
// fake nodes share one machine. Usage:
//   node fake-host-agent.ts --config /etc/muster/agent.yaml --root DIR --node-ip IP --hostname NAME
//     --machine-id HEX32 --ca-cert FILE --ca-key FILE
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import { parseArgs } from "node:util";
import { createFiles } from "@muster/agent/adapters/files";
import { createHttp } from "@muster/agent/adapters/http";
import { createPortProber } from "@muster/agent/adapters/ports";
import type { ExecResult, HostAdapters } from "@muster/agent/adapters/types";
import { Agent } from "@muster/agent/daemon/agent";
import { loadAgentConfig } from "@muster/agent/daemon/config-file";
import { AGENT_VERSION } from "@muster/agent/version";
import { createLogger, formatRke2Token } from "@muster/shared";
import { fakeDisk, fakeEtcd, fakeKubectl, sampleFacts } from "./helpers/fakes.ts";

const { values: a } = parseArgs({
  options: Object.fromEntries(
    ["config", "root", "node-ip", "hostname", "machine-id", "ca-cert", "ca-key"].map((k) => [
      k,
      { type: "string" },
    ]),
  ) as Record<string, { type: "string" }>,
});
const arg = (k: string) => {
  const v = a[k];
  if (typeof v !== "string") throw new Error(`fake-host-agent: --${k} is required`);
  return v;
};
const root = arg("root");
const nodeIp = arg("node-ip");
const hostname = arg("hostname");
const caPem = readFileSync(arg("ca-cert"), "utf8");
const caKey = readFileSync(arg("ca-key"), "utf8");
const ok = (stdout = ""): ExecResult => ({ exitCode: 0, stdout, stderr: "", timedOut: false });
const put = (p: string, content: string, mode: number) => {
  mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
  writeFileSync(path.join(root, p), content, { mode });
};

const files = createFiles(root);
const units = new Map<string, boolean>();
const servers: Array<http.Server | https.Server> = [];
let learnerPolls = 1; // the node is an etcd learner on its first /db/info poll, then a voter

function serve(port: number, routes: Record<string, () => string>): Promise<void> {
  const srv = https.createServer({ cert: caPem, key: caKey }, (req, res) => {
    const route = routes[new URL(req.url ?? "/", "https://x").pathname];
    if (!route) return res.writeHead(404).end("404 page not found\n");
    res.end(route());
  });
  servers.push(srv);
  return new Promise((resolve, reject) => srv.once("error", reject).listen(port, nodeIp, () => resolve()));
}

async function startRke2(unit: string): Promise<ExecResult> {
  if (!(await files.exists("/usr/local/bin/rke2")))
    return { exitCode: 5, stdout: "", stderr: `Unit ${unit}.service not found.`, timedOut: false };
  if (unit === "rke2-server" && !units.get(unit)) {
    const config = (await files.readTextIfExists("/etc/rancher/rke2/config.yaml")) ?? "";
    if (!/^token:/m.test(config))
      put(
        "/var/lib/rancher/rke2/server/token",
        `${formatRke2Token(caPem, "f4ke0000f4ke0000f4ke0000f4ke0000")}\n`,
        0o600,
      );
    await serve(9345, {
      "/ping": () => "pong",
      "/cacerts": () => caPem,
      "/db/info": () =>
        JSON.stringify({
          members: [
            {
              ID: 7,
              name: `${hostname}-1a2b3c4d`,
              peerURLs: [`https://${nodeIp}:2380`],
              ...(learnerPolls-- > 0 ? { isLearner: true } : {}),
            },
          ],
        }),
    });
    await serve(6443, { "/readyz": () => "ok" });
  }
  if (unit === "rke2-agent" && !units.get(unit)) {
    const kubelet = http.createServer((req, res) =>
      req.url === "/healthz" ? res.end("ok") : res.writeHead(404).end("404 page not found\n"),
    );
    servers.push(kubelet);
    await new Promise<void>((resolve, reject) =>
      kubelet.once("error", reject).listen(10248, nodeIp, resolve),
    );
  }
  units.set(unit, true);
  return ok();
}

const realHttp = createHttp();
const host: HostAdapters = {
  files,
  exec: {
    async run(cmd, args, opts = {}) {
      if (cmd === "sh") {
        put("/usr/local/bin/rke2", "#!/bin/sh\n", 0o755);
        put("/usr/local/lib/systemd/system/rke2-server.service", "[Unit]\n", 0o644);
        put("/usr/local/lib/systemd/system/rke2-agent.service", "[Unit]\n", 0o644);
        return ok(`[INFO]  fake install of rke2 ${opts.env?.["INSTALL_RKE2_TYPE"]}\n`);
      }
      if (cmd.endsWith("/bin/rke2") && args[0] === "--version")
        return ok("rke2 version v1.33.5+rke2r1 (fake)\n");
      return { exitCode: 127, stdout: "", stderr: `${cmd}: not found`, timedOut: false };
    },
  },
  systemd: {
    isActive: async (u) => units.get(u) === true,
    isEnabled: async (u) => units.get(u) === true,
    enableNow: (u) => startRke2(u),
    restart: (u) => startRke2(u),
    start: (u) => startRke2(u),
    stop: async (u) => {
      units.set(u, false);
      return ok();
    },
  },
  facts: {
    collect: async () =>
      sampleFacts({
        hostname,
        machineId: arg("machine-id"),
        interfaces: [
          { name: "eth0", up: true, mac: "02:00:00:00:00:01", ipv4: [{ address: nodeIp, prefix: 8 }] },
        ],
        defaultRoute: { interface: "eth0" },
        address: nodeIp,
        rke2: (await files.exists("/usr/local/bin/rke2"))
          ? { installed: true, version: "v1.33.5+rke2r1" }
          : { installed: false },
      }),
  },
  arp: {
    probeInUse: async () => ({ status: "silent", detail: "" }),
    probeReachable: async () => ({ status: "answered", detail: "" }),
    owners: async () => ({ ok: true, macs: [] }),
    neighbours: async () => new Map(),
  },
  http: {
    get: (url, opts) => realHttp.get(url.replace("//127.0.0.1:", `//${nodeIp}:`), opts),
    async download(_url, dest, opts = {}) {
      writeFileSync(dest, "#!/bin/sh\n# fake get.rke2.io\n", { mode: opts.mode ?? 0o600 });
      return { status: 200 };
    },
  },
  identity: { uid: 0 },
  etcd: fakeEtcd({ members: [], localId: "1", down: true }).etcd,
  kubectl: fakeKubectl(undefined, { presence: { kubectl: false, kubeconfig: false } }).kubectl,
  // Real probes: the fake RKE2 listens on its node IP, so the reachability matrix is measured.
  ports: createPortProber(),
  disk: fakeDisk().disk,
};

const log = createLogger({ name: `fake-agent-${hostname}` });
const configPath = arg("config");
const config = await loadAgentConfig(files, configPath);
const agent = new Agent({
  config,
  configPath,
  host,
  log,
  agentVersion: AGENT_VERSION,
  pollMs: 200,
  backoff: { baseMs: 100, capMs: 1000, refusedMs: 2000 },
});
agent.start();
process.once("SIGTERM", async () => {
  await agent.stop();
  for (const s of servers) s.close();
  process.exit(0);
});
