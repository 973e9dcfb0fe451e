import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { EventsPage } from "@muster/shared";
import { api } from "./lib/pinned.ts";
import { cpuSeconds, memoryMiB, percentile } from "./lib/proc.ts";

// npm run bench:coordinator [-- --baseline] [--json] [--agents K] [--concurrency C] [--domain real|stub]: one real
// coordinator (`muster-coordinator serve`, its own process, loopback, temp state dir) and a separate
// fleet process (bench/lib/fleet.ts) of K fake agents over TLS + pin, at most C enrolling at once.
// Reports enrol rate, join latency, coordinator peak RSS and CPU seconds. `--domain stub` runs the
// same transports over an O(1) in-memory domain (bench/lib/stub-server.ts) to separate their cost.
// `--baseline` first runs the floor, a bare https + ws server exchanging the same frames
// (bench/lib/baseline-server.ts), with the same fleet, and prints muster / baseline ratios; the load
// average is printed too (the machine is shared: compare ratios from one run, not absolute figures).
// KiB per agent: the server's RSS growth from before the first agent to all agents connected.
// `--json`: the last line is {"agents","muster":{...},"baseline":{...},"ratios":{...}}.
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
    /** Also run the floor (bench/lib/baseline-server.ts) with the same fleet, and print ratios. */
    baseline: { type: "boolean", default: false },
    /** The last line is the JSON object (agents, muster, baseline, ratios). */
    json: { type: "boolean", default: false },
  },
});
const K = Number(args.agents);
if (!Number.isInteger(K) || K < 1 || K > 100_000) throw new Error("--agents must be an integer 1..100000");
const timeoutSeconds = Number(args["timeout-seconds"] ?? (120 + Math.ceil(K / 20)) * (args.baseline ? 2 : 1));

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

type Kind = "real" | "stub" | "baseline";
interface Run {
  kind: Kind;
  ok: boolean;
  enrolRate: number;
  enrolSeconds: number;
  welcomeP99Ms: number;
  joinLatencyMs: { p50: number; p99: number; max: number } | null;
  /** RSS growth from before the first agent to every agent connected and joined, per agent. */
  kibPerAgent: number;
  rssMiB: { beforeAgents: number; allConnected: number; peak: number };
  cpuSeconds: { total: number; agentsPhase: number };
  fleet: Record<string, unknown>;
}

async function main(): Promise<void> {
  const hardLimit = Number(execFileSync("/bin/sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim());
  if (hardLimit < K + 200)
    fail(
      `the open-files hard limit (${hardLimit}) is below ${K + 200}; raise it first (as root: ulimit -Hn ${K + 1000})`,
    );
  const stop = setTimeout(() => fail(`timed out after ${timeoutSeconds} s`), timeoutSeconds * 1000);
  try {
    const kind = args.domain as Kind;
    if (!["real", "stub"].includes(kind)) fail("--domain must be real or stub");
    // The floor first, so muster never runs on a machine warmed by itself only.
    const floor = args.baseline ? await runOne("baseline") : null;
    const muster = await runOne(kind);
    const loadavg = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
    for (const r of floor ? [floor, muster] : [muster]) print(r);
    const ratios = floor
      ? {
          memoryPerAgent: round2(muster.kibPerAgent / floor.kibPerAgent),
          enrolRate: round2(muster.enrolRate / floor.enrolRate),
        }
      : null;
    if (ratios)
      console.log(
        `ratios (muster / baseline): memory per agent ${ratios.memoryPerAgent} (goal <= 1.2), ` +
          `enrol rate ${ratios.enrolRate} (goal >= 0.8); load average ${loadavg}`,
      );
    else console.log(`load average ${loadavg}`);
    if (args.json)
      console.log(
        JSON.stringify({
          agents: K,
          muster: {
            kibPerAgent: muster.kibPerAgent,
            enrolPerSecond: muster.enrolRate,
            p99Ms: muster.joinLatencyMs?.p99 ?? null,
            peakRssMiB: muster.rssMiB.peak,
          },
          baseline: floor ? { kibPerAgent: floor.kibPerAgent, enrolPerSecond: floor.enrolRate } : null,
          ratios,
        }),
      );
    else console.log(JSON.stringify({ agents: K, loadavg, muster, baseline: floor }));
    process.exitCode = muster.ok && (floor?.ok ?? true) ? 0 : 1;
  } finally {
    clearTimeout(stop);
  }
}

function print(r: Run): void {
  const label = { real: "muster", stub: "[stub domain] muster", baseline: "[baseline] bare https + ws" }[
    r.kind
  ];
  const latency = r.joinLatencyMs
    ? `join latency (node.join.started -> node.join.succeeded) p50 ${r.joinLatencyMs.p50} ms, p99 ${r.joinLatencyMs.p99} ms; `
    : "";
  console.log(
    `${label}, agents ${K}: enrol ${r.enrolRate}/s (${r.enrolSeconds} s); ${latency}` +
      `${r.kibPerAgent} KiB/agent (RSS ${r.rssMiB.beforeAgents} -> ${r.rssMiB.allConnected} MiB, peak ${r.rssMiB.peak}), ` +
      `CPU ${r.cpuSeconds.total} s (${r.cpuSeconds.agentsPhase} s for the agents)`,
  );
}

/** One server (muster, the stub domain or the bare floor) and one fleet against it, then both stopped. */
async function runOne(kind: Kind): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), "muster-bench-"));
  tempDir = dir;
  try {
    // Agents may all join at once; the fleet's checks always pass, so minimums are moot.
    await writeFile(join(dir, "cluster.yaml"), `name: bench\nagents:\n  concurrency: ${K}\n`);
    // The whole fleet comes from one address: lift the per-source front-door limits (a real fleet
    // spreads over many addresses).
    await writeFile(
      join(dir, "limits.yaml"),
      "pendingAgentSocketsPerSource: 100000\nrateLimit:\n  agent: { max: 1000000, windowMs: 60000 }\n",
    );
    // BENCH_COORDINATOR_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") goes to the coordinator only.
    const coordOptions = process.env["BENCH_COORDINATOR_NODE_OPTIONS"];
    const env: Record<string, string> = coordOptions ? { NODE_OPTIONS: coordOptions } : {};
    const state = join(dir, "state");
    const coord =
      kind === "baseline"
        ? node("bench/lib/baseline-server.ts", ["--state-dir", state], env)
        : kind === "stub"
          ? node("bench/lib/stub-server.ts", ["--state-dir", state], env)
          : node(
              "packages/coordinator/src/server/cli.ts",
              [
                "serve",
                "--state-dir",
                state,
                "--listen",
                "127.0.0.1:0",
                "--config",
                join(dir, "cluster.yaml"),
                "--limits",
                join(dir, "limits.yaml"),
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
    const admin =
      kind === "baseline" ? "baseline" : (await readFile(join(state, "admin-token"), "utf8")).trim();
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
    let rssBefore = 0;
    const result = await waitLine(fleet, (l) => {
      if (l["event"] === "agents-start") {
        cpuAtStart = cpuSeconds(pid);
        rssBefore = memoryMiB(pid).now;
      }
      if (l["event"] === "progress") lastProgress = l;
      if (l["event"] === "failed") fail(`fleet failed: ${JSON.stringify(l)}`);
      return l["event"] === "done";
    });
    // Every agent is still connected: the fleet holds its sockets until SIGTERM.
    const cpuTotal = cpuSeconds(pid);
    const mem = memoryMiB(pid);
    fleet.kill("SIGTERM");
    await new Promise((r) => fleet.once("exit", r));
    const latencies = kind === "baseline" ? null : await joinLatencies(url, pin, admin);
    coord.kill("SIGTERM");
    await new Promise((r) => coord.once("exit", r));
    return {
      kind,
      ok: result["ok"] === true && (latencies === null || latencies.length === K),
      enrolRate: Math.round(Number(result["enrolRate"])),
      enrolSeconds: round(Number(result["enrolSeconds"])),
      welcomeP99Ms: round(Number(result["welcomeP99"])),
      joinLatencyMs: latencies && {
        p50: round(percentile(latencies, 50)),
        p99: round(percentile(latencies, 99)),
        max: round(latencies.at(-1) ?? 0),
      },
      kibPerAgent: round(((mem.now - rssBefore) * 1024) / K),
      rssMiB: { beforeAgents: round(rssBefore), allConnected: round(mem.now), peak: round(mem.peak) },
      cpuSeconds: { total: round(cpuTotal), agentsPhase: round(cpuTotal - cpuAtStart) },
      fleet: {
        welcomed: result["welcomed"],
        plansDone: result["plansDone"],
        errors: result["errors"],
        closes: result["closes"],
      },
    };
  } finally {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
    coordPid = 0;
    await rm(dir, { recursive: true, force: true });
    tempDir = "";
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
const round2 = (n: number) => Math.round(n * 100) / 100;

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
