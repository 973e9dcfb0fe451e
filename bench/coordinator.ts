import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { EventsPage } from "@muster/shared";
import { api } from "./lib/pinned.ts";
import { cpuSeconds, memoryMiB, percentile } from "./lib/proc.ts";

// npm run bench:coordinator [-- --agents K] [--concurrency C] [--domain real|stub]: one real
// coordinator (`muster-coordinator serve`, its own process, loopback, temp state dir) and a separate
// fleet process (bench/lib/fleet.ts) of K fake agents over TLS + pin, at most C enrolling at once.
// Reports enrol rate, join latency, coordinator peak RSS and CPU seconds. `--domain stub` runs the
// same transports over an O(1) in-memory domain (bench/lib/stub-server.ts) to separate their cost.
//
// Join latency is measured on the coordinator's clock, from each agent's `node.join.started` event
// (its plan was released) to its `node.join.succeeded` event (its plan.done was recorded): the
// release -> agent -> result round trip plus the coordinator's own work, as the events API shows it.
//
// Each process raises its soft open-files limit to the hard limit (`ulimit -n $(ulimit -Hn)`); K
// agents need about K+100 descriptors on each side. If the hard limit is lower, raise it first
// (as root: `ulimit -Hn 65536`, or LimitNOFILE= for a service). Stops by itself: on success, or
// after --timeout-seconds (default 120 + K/20), reporting how far it got.

const ROOT = join(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    agents: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "64" },
    "rke2-address": { type: "string", default: "127.0.0.2" },
    "timeout-seconds": { type: "string" },
    /** real: `muster-coordinator serve`; stub: the same transports over an O(1) in-memory domain. */
    domain: { type: "string", default: "real" },
  },
});
const K = Number(args.agents);
if (!Number.isInteger(K) || K < 1 || K > 100_000) throw new Error("--agents must be an integer 1..100000");
const timeoutSeconds = Number(args["timeout-seconds"] ?? 120 + Math.ceil(K / 20));

const children: ChildProcess[] = [];
let coordPid = 0;
let tempDir = "";
let lastProgress: Record<string, unknown> = {};
/** Runs node with the soft fd limit raised to the hard one (the limit is per process). */
function node(script: string, argv: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(
    "/bin/sh",
    [
      "-c",
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"',
      process.execPath,
      join(ROOT, script),
      ...argv,
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } },
  );
  children.push(child);
  return child;
}

function jsonLines(child: ChildProcess, onLine: (line: Record<string, unknown>) => void): void {
  createInterface({ input: child.stdout! }).on("line", (line) => {
    if (line.startsWith("{")) onLine(JSON.parse(line) as Record<string, unknown>);
  });
}

function waitLine(
  child: ChildProcess,
  match: (l: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    jsonLines(child, (l) => {
      if (match(l)) resolve(l);
    });
    child.once("exit", (code) => reject(new Error(`${child.spawnfile} exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const hardLimit = Number(execFileSync("/bin/sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim());
  if (hardLimit < K + 200)
    fail(
      `the open-files hard limit (${hardLimit}) is below ${K + 200}; raise it first (as root: ulimit -Hn ${K + 1000})`,
    );
  const dir = await mkdtemp(join(tmpdir(), "muster-bench-"));
  tempDir = dir;
  const stop = setTimeout(() => fail(`timed out after ${timeoutSeconds} s`), timeoutSeconds * 1000);
  try {
    // Agents may all join at once; the fleet's checks always pass, so minimums are moot.
    await writeFile(join(dir, "cluster.yaml"), `name: bench\nagents:\n  concurrency: ${K}\n`);
    // BENCH_COORDINATOR_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") goes to the coordinator only.
    const coordOptions = process.env["BENCH_COORDINATOR_NODE_OPTIONS"];
    const env: Record<string, string> = coordOptions ? { NODE_OPTIONS: coordOptions } : {};
    const coord =
      args.domain === "stub"
        ? node("bench/lib/stub-server.ts", ["--state-dir", join(dir, "state")], env)
        : node(
            "packages/coordinator/src/server/cli.ts",
            [
              "serve",
              "--state-dir",
              join(dir, "state"),
              "--listen",
              "127.0.0.1:0",
              "--config",
              join(dir, "cluster.yaml"),
            ],
            env,
          );
    coordPid = coord.pid!;
    const serving = await waitLine(
      coord,
      (l) => typeof l["url"] === "string" && typeof l["pin"] === "string",
    );
    // (waitLine's reader keeps draining the coordinator's log after this.)
    const url = String(serving["url"]);
    const pin = String(serving["pin"]);
    const pid = coordPid;
    const admin = (await readFile(join(dir, "state", "admin-token"), "utf8")).trim();
    const token = async (role: string) =>
      (await api<{ token: string }>(url, pin, admin, "POST", "/v1/join-tokens", { role })).token;

    const fleet = node(
      "bench/lib/fleet.ts",
      [
        "--url",
        url,
        "--pin",
        pin,
        "--agents",
        String(K),
        "--concurrency",
        String(args.concurrency),
        "--server-token",
        await token("server"),
        "--agent-token",
        await token("agent"),
        "--rke2-address",
        String(args["rke2-address"]),
        "--deadline-seconds",
        String(timeoutSeconds),
      ],
      { MUSTER_TOKEN: admin },
    );
    let cpuAtStart = 0;
    const result = await waitLine(fleet, (l) => {
      if (l["event"] === "agents-start") cpuAtStart = cpuSeconds(pid);
      if (l["event"] === "progress") lastProgress = l;
      if (l["event"] === "failed") fail(`fleet failed: ${JSON.stringify(l)}`);
      return l["event"] === "done";
    });
    const cpuTotal = cpuSeconds(pid);
    const mem = memoryMiB(pid);
    const latencies = await joinLatencies(url, pin, admin);
    const report = {
      domain: args.domain,
      ok: result["ok"] === true && latencies.length === K,
      agents: K,
      enrolRate: Math.round(Number(result["enrolRate"])),
      enrolSeconds: round(Number(result["enrolSeconds"])),
      welcomeP99Ms: round(Number(result["welcomeP99"])),
      joinLatencyMs: {
        p50: round(percentile(latencies, 50)),
        p99: round(percentile(latencies, 99)),
        max: round(latencies.at(-1) ?? 0),
      },
      coordinatorRssMiB: { peak: round(mem.peak), end: round(mem.now) },
      coordinatorCpuSeconds: { total: round(cpuTotal), agentsPhase: round(cpuTotal - cpuAtStart) },
      fleet: {
        welcomed: result["welcomed"],
        plansDone: result["plansDone"],
        errors: result["errors"],
        closes: result["closes"],
      },
    };
    console.log(
      `${args.domain === "stub" ? "[stub domain] " : ""}agents ${K}: enrol ${report.enrolRate}/s (${report.enrolSeconds} s); join latency (node.join.started -> ` +
        `node.join.succeeded) p50 ${report.joinLatencyMs.p50} ms, p99 ${report.joinLatencyMs.p99} ms; ` +
        `coordinator peak RSS ${report.coordinatorRssMiB.peak} MiB, CPU ${report.coordinatorCpuSeconds.total} s ` +
        `(${report.coordinatorCpuSeconds.agentsPhase} s for the agents)`,
    );
    console.log(JSON.stringify(report));
    process.exitCode = report.ok ? 0 : 1;
    coord.kill("SIGTERM");
    await new Promise((r) => coord.once("exit", r));
  } finally {
    clearTimeout(stop);
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
}

/** Per agent: node.join.started -> node.join.succeeded on the coordinator's clock, sorted. */
async function joinLatencies(url: string, pin: string, admin: string): Promise<number[]> {
  const started = new Map<string, number>();
  const out: number[] = [];
  for (let after = 0; ; ) {
    const page = await api<EventsPage>(url, pin, admin, "GET", `/v1/events?after=${after}&limit=1000`);
    for (const e of page.events) {
      if (!e.node?.startsWith("bench-agent-")) continue;
      if (e.type === "node.join.started") started.set(e.node, Date.parse(e.time));
      if (e.type === "node.join.succeeded" && started.has(e.node))
        out.push(Date.parse(e.time) - started.get(e.node)!);
    }
    if (page.events.length === 0 || page.next === after) break;
    after = page.next;
  }
  return out.sort((a, b) => a - b);
}

const round = (n: number) => Math.round(n * 10) / 10;

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function fail(message: string): never {
  console.error(`bench: ${message}`);
  // Whatever was reached, so a run that does not finish still says how far it got and at what cost.
  if (coordPid && lastProgress["event"]) {
    const usage = safe(() => ({
      rssMiB: round(memoryMiB(coordPid).peak),
      cpuSeconds: round(cpuSeconds(coordPid)),
    }));
    const { event: _event, at: _at, ...progress } = lastProgress;
    console.error(`bench: reached ${JSON.stringify({ ...progress, ...usage })}`);
  }
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  process.exit(1);
}

main().catch((err) => fail((err as Error).message));
