// Helpers for the simulator's own tests: run simulated nodes on loopback addresses (127.87.x.y, so they
// stay clear of anything else on the host), each in its own process group so teardown kills its etcd too.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import https from "node:https";
import path from "node:path";
import { nodeBinary, SIM_DIR } from "@muster/rke2-sim/paths";
import { stringify } from "yaml";

export function commandExists(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const isRoot = () => process.getuid?.() === 0;

/** Fast knobs for tests (see README.md). */
export const FAST_ENV: Record<string, string> = {
  RKE2_SIM_INIT_SECONDS: "0",
  RKE2_SIM_JOIN_SECONDS: "0",
  RKE2_SIM_AGENT_SECONDS: "0",
  RKE2_SIM_PROMOTE_INTERVAL: "1",
  RKE2_SIM_HEARTBEAT_SECONDS: "5",
  RKE2_SIM_CONTROLLER_LEASE_SECONDS: "4",
  RKE2_SIM_POD_BACKOFF_SECONDS: "1",
};

export interface NodeSpec {
  role: "server" | "agent";
  name: string;
  /** Directory under the test root (default: the name); reuse it to restart a node on its data. */
  dir?: string;
  ip: string;
  config?: Record<string, unknown>;
  env?: Record<string, string>;
}

// Every node still running; killed when the test process ends however it ends, so a test runner
// timeout can never leave etcd members holding the test addresses.
const live = new Set<SimNode>();
process.on("exit", () => {
  for (const n of live) {
    n.kill();
    n.killContainers();
  }
});
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    for (const n of live) n.kill();
    process.exit(128);
  });
}

/** Removes a test's directory, or keeps it (and says where) when something failed, for the logs. */
export function removeUnlessFailed(
  t: { passing(): boolean; comment(msg: string): void },
  root: string,
): void {
  if (t.passing()) rmSync(root, { recursive: true, force: true });
  else t.comment(`kept ${root} for inspection`);
}

/** Thrown from a waitFor probe to stop waiting at once (e.g. the process under test died). */
export class GiveUp extends Error {}

export class SimNode {
  readonly spec: NodeSpec;
  readonly dataDir: string;
  readonly logFile: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;
  #logStart = 0;

  constructor(root: string, spec: NodeSpec) {
    this.spec = spec;
    const dir = path.join(root, spec.dir ?? spec.name);
    mkdirSync(dir, { recursive: true });
    this.dataDir = path.join(dir, "data");
    this.logFile = path.join(dir, `rke2-${spec.role}.log`);
    const configFile = path.join(dir, "config.yaml");
    const config = { "node-name": spec.name, "node-ip": spec.ip, "data-dir": this.dataDir, ...spec.config };
    if (spec.role === "server") Object.assign(config, { "bind-address": spec.ip, ...spec.config });
    writeFileSync(configFile, stringify(config), { mode: 0o600 });
    this.#logStart = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
    const log = openSync(this.logFile, "a");
    this.proc = spawn(nodeBinary(), [path.join(SIM_DIR, "rke2.ts"), spec.role, "--config", configFile], {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, ...FAST_ENV, ...spec.env },
    });
    live.add(this);
    this.exited = new Promise((resolve) =>
      this.proc.on("exit", (code) => {
        this.exitCode = code;
        live.delete(this);
        resolve(code);
      }),
    );
  }

  /** What this process logged (a node restarted on its directory appends to the same file). */
  log(): string {
    return readFileSync(this.logFile).subarray(this.#logStart).toString();
  }

  /** SIGKILL to the whole process group: rke2 and its etcd. */
  kill(): void {
    try {
      if (this.proc.pid) process.kill(-this.proc.pid, "SIGKILL");
    } catch {}
  }

  token(): string {
    return readFileSync(path.join(this.dataDir, "server", "token"), "utf8").trim();
  }

  /** The node's <data-dir>/bin/kubectl with its admin kubeconfig, as an operator on the server runs it. */
  kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const bin = path.join(this.dataDir, "bin", "kubectl");
    const env = { ...process.env, KUBECONFIG: path.join(this.dataDir, "rke2.yaml") };
    return new Promise((resolve) => {
      execFile(bin, args, { env, timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  /** SIGKILL to the node's kube-vip and other containers, which live outside its process group. */
  killContainers(): void {
    const dir = path.join(this.dataDir, "sim", "pids");
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.startsWith("pod-"));
    } catch {}
    for (const f of files) {
      try {
        process.kill(Number(readFileSync(path.join(dir, f), "utf8").split(" ")[0]), "SIGKILL");
      } catch {}
    }
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ""}`,
  );
}

export interface Fetched {
  status: number;
  body: string;
}

/** GET over HTTPS, verifying against `ca` when given; never throws on HTTP status. */
export function get(
  url: string,
  opts: { ca?: string; user?: string; password?: string } = {},
): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.user)
      headers["authorization"] = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString("base64")}`;
    const req = https.get(
      url,
      { headers, ca: opts.ca, rejectUnauthorized: opts.ca !== undefined, timeout: 5000 },
      (res) => {
        let body = "";
        res.on("data", (d) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** Waits until the node logs "is up and running"; rejects with its log if it exits first. */
export function whenUp(n: SimNode, timeoutMs = 90_000): Promise<true> {
  return waitFor(
    `${n.spec.name} up`,
    () => {
      if (n.exitCode !== undefined) throw new GiveUp(`${n.spec.name} exited ${n.exitCode}:\n${n.log()}`);
      return n.log().includes("is up and running");
    },
    timeoutMs,
  );
}

// etcd's own refusals of a join that a later attempt gets past (another learner still joining, or
// voters connected for less than 5 s): what systemd's Restart=always retries in real RKE2 too.
const RETRYABLE_JOIN =
  /etcd cluster join failed: etcdserver: (too many learner members in cluster|unhealthy cluster)/;

/** Starts a joining server as Restart=always would: again after a retryable etcd refusal. */
export async function startJoined(
  start: (spec: NodeSpec) => SimNode,
  spec: NodeSpec,
  attempts = 8,
): Promise<SimNode> {
  for (let i = 1; ; i++) {
    const n = start(spec);
    const up = await Promise.race([whenUp(n).then(() => true), n.exited.then(() => false)]).catch(
      () => false,
    );
    if (up) return n;
    if (i >= attempts || !RETRYABLE_JOIN.test(n.log()))
      throw new Error(`${spec.name} did not join:\n${n.log()}`);
    await new Promise((r) => setTimeout(r, 1000)); // RestartSec
  }
}
