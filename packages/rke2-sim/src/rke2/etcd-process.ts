// The node's etcd: a real etcd child process (RKE2 runs it as a static pod). Data in
// <data-dir>/server/db/etcd, member name = node name, client URLs on node-ip and loopback, peer URL
// on node-ip, /health on the loopback metrics listener (docs/rke2-behaviour.md). Its log goes to a file beside
// the data, so rke2's own log stays readable.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import type { Knobs } from "./env.ts";
import { healthy } from "./etcd-client.ts";
import { killStale, removePid, writePid } from "./pids.ts";

export interface EtcdOptions {
  name: string;
  dataDir: string;
  nodeIP: string;
  loopback: string;
  exposeMetrics: boolean;
  /** "name=peerURL,..." and "new" | "existing"; ignored by etcd once the data dir is initialised. */
  initialCluster: string;
  initialState: "new" | "existing";
  /** Extra etcd flags (cluster reset: --force-new-cluster). */
  extraArgs?: string[];
}

export interface Etcd {
  clientURL: string;
  localEndpoints: string[];
  metricsURL: string;
  peerURL: string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export const etcdDir = (dataDir: string) => path.join(dataDir, "server", "db", "etcd");
export const isInitialised = (dataDir: string) => existsSync(path.join(etcdDir(dataDir), "member"));
export const peerURLFor = (ip: string) => `http://${ip}:2380`;
export const clientURLFor = (ip: string) => `http://${ip}:2379`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startEtcd(opts: EtcdOptions, knobs: Knobs): Promise<Etcd> {
  if (killStale(opts.dataDir, "etcd")) await sleep(300);
  const dir = etcdDir(opts.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const clientURL = clientURLFor(opts.nodeIP);
  const localURL = clientURLFor(opts.loopback);
  const listenClient = [...new Set([clientURL, localURL])].join(",");
  const metrics = [`http://${opts.loopback}:2381`];
  if (opts.exposeMetrics && opts.nodeIP !== opts.loopback) metrics.push(`http://${opts.nodeIP}:2381`);
  const args = [
    `--name=${opts.name}`,
    `--data-dir=${dir}`,
    `--listen-client-urls=${listenClient}`,
    `--advertise-client-urls=${clientURL}`,
    `--listen-peer-urls=${peerURLFor(opts.nodeIP)}`,
    `--initial-advertise-peer-urls=${peerURLFor(opts.nodeIP)}`,
    `--initial-cluster=${opts.initialCluster}`,
    `--initial-cluster-state=${opts.initialState}`,
    `--listen-metrics-urls=${metrics.join(",")}`,
    `--heartbeat-interval=${knobs.etcdHeartbeatMs}`,
    `--election-timeout=${knobs.etcdElectionMs}`,
    "--snapshot-count=10000",
    "--logger=zap",
    "--log-outputs=stderr",
    ...(opts.extraArgs ?? []),
  ];
  const logFd = openSync(path.join(opts.dataDir, "server", "db", "etcd.log"), "a");
  // etcd sends READY=1 itself when it finds NOTIFY_SOCKET: in real RKE2 it runs in a pod and never sees
  // the unit's socket, so it must not here either, or `systemctl start` would return before rke2 is ready.
  const { NOTIFY_SOCKET: _, ...env } = process.env;
  // Same process group as rke2: stopping the unit (or killing the group) takes etcd with it.
  const child: ChildProcess = spawn(knobs.etcdBin, args, { stdio: ["ignore", logFd, logFd], env });
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.on("error", () => resolve(127));
  });
  if (child.pid) writePid(opts.dataDir, "etcd", child.pid);
  void exited.then(() => removePid(opts.dataDir, "etcd"));
  let stopped = false;
  return {
    clientURL,
    localEndpoints: [localURL],
    metricsURL: metrics[0]!,
    peerURL: peerURLFor(opts.nodeIP),
    exited,
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill("SIGTERM");
      // etcd may hang in shutdown without quorum; don't let that block the service stop.
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Waits until etcd answers /health (it has a leader), or etcd exits. */
export async function waitHealthy(etcd: Etcd, timeoutMs: number): Promise<boolean> {
  let dead = false;
  void etcd.exited.then(() => {
    dead = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (!dead && Date.now() < deadline) {
    if (await healthy(etcd.metricsURL)) return true;
    await sleep(250);
  }
  return false;
}
