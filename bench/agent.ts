import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { spkiPinFromCert } from "@muster/shared";
import { WebSocketServer } from "ws";
import { AGENT_NODE_FLAGS } from "../scripts/lib/agent-bundle.ts";
import { bundleJs } from "../scripts/lib/pack.ts";
import { selfSignedCert } from "../test/helpers/self-signed-cert.ts";
import { cpuSeconds, memoryMiB } from "./lib/proc.ts";

// npm run bench:agent [-- --json --seconds 60 --check-runs 7 --entry both|bundle|source --node-flags="..."]
// The real agent daemon (`muster-agent run`, its own process) against a tiny loopback wss stub that
// answers enrol with a welcome and then only receives heartbeats. Measures idle RSS (and the
// anonymous part: RSS also counts the node binary's shared code pages) and CPU over the window,
// then the median wall time of `muster-agent check --json`. "bundle" is what nodes run (the esbuild
// bundle scripts/build.ts ships); "source" is the TypeScript entry (adds Node's type stripper).
// An empty Node process of the same binary is measured too: the floor. `--json`: the last line is
// {"idleRssMiB","emptyNodeRssMiB","idleCpuPercent","checkMedianMs"}, of the first entry measured
// (the bundle unless --entry source). Goals: idle <= 60 MiB RSS, ~0% CPU, check <= 300 ms.

const ROOT = join(import.meta.dirname, "..");
const SOURCE = join(ROOT, "packages/agent/src/cli.ts");
const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    "check-runs": { type: "string", default: "7" },
    entry: { type: "string", default: "both" },
    // What bin/muster-agent runs node with, unless told otherwise (--node-flags="" for none).
    "node-flags": { type: "string", default: AGENT_NODE_FLAGS.join(" ") },
    /** The last line is {"idleRssMiB","emptyNodeRssMiB","idleCpuPercent","checkMedianMs"} (bundle entry). */
    json: { type: "boolean", default: false },
  },
});
const seconds = Math.min(600, Math.max(5, Number(args.seconds) || 60));
const checkRuns = Math.min(50, Math.max(1, Number(args["check-runs"]) || 7));
const nodeFlags = args["node-flags"].split(" ").filter(Boolean);
if (!["both", "bundle", "source"].includes(args.entry))
  throw new Error("--entry must be both, bundle or source");

async function stub() {
  // A throwaway self-signed serving cert; the agent trusts it by pin, as in production.
  const { cert, key } = selfSignedCert();
  const server = https.createServer({ cert, key });
  const wss = new WebSocketServer({ server, path: "/v1/agent" });
  const seen = { heartbeats: 0, connections: 0 };
  wss.on("connection", (ws) => {
    seen.connections++;
    // Like the coordinator: a ping every heartbeat interval (the agent drops a silent coordinator).
    const pinger = setInterval(() => ws.ping(), 5000);
    ws.on("close", () => clearInterval(pinger));
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as { type: string };
      const welcome = { type: "welcome", node: "bench", heartbeatSeconds: 5 };
      if (frame.type === "enrol")
        ws.send(JSON.stringify({ ...welcome, credential: "bench-credential-0123456789abcdef" }));
      else if (frame.type === "hello") ws.send(JSON.stringify(welcome));
      else if (frame.type === "heartbeat") seen.heartbeats++;
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((r) => wss.close(() => server.close(() => r())));
  return { url, pin: spkiPinFromCert(cert), seen, close };
}

/** RSS of an empty Node process of the same binary and flags, idle: the floor for the agent's. */
async function emptyNodeRss(): Promise<number> {
  const child = spawn(process.execPath, [...nodeFlags, "-e", "setInterval(() => {}, 60_000)"], {
    stdio: "ignore",
  });
  await new Promise((r) => setTimeout(r, 2000));
  const rss = memoryMiB(child.pid!).now;
  child.kill("SIGKILL");
  return Number(rss.toFixed(1));
}

async function measure(label: string, entry: string, dir: string) {
  const s = await stub();
  const config = join(dir, `${label}.yaml`);
  const yaml = `coordinatorUrl: ${s.url}\npin: "${s.pin}"\njoinToken: abcdef.0123456789abcdef\nstateDir: ${join(dir, `${label}-state`)}\n`;
  await writeFile(config, yaml, { mode: 0o600 });
  const agent = spawn(process.execPath, [...nodeFlags, entry, "run", "--config", config], {
    stdio: "ignore",
    env: { ...process.env, MUSTER_LOG_LEVEL: "warn" },
  });
  const exited = new Promise<number | null>((r) => agent.on("exit", (c) => r(c)));
  const pid = agent.pid!;
  await new Promise((r) => setTimeout(r, 3000)); // start, enrol, settle
  const cpu0 = cpuSeconds(pid);
  let peak = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    peak = Math.max(peak, memoryMiB(pid).now);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const rss = memoryMiB(pid).now;
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  const anon = Number(/^Anonymous:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) / 1024;
  agent.kill("SIGTERM");
  const sigtermExit = await exited;
  await s.close();

  const walls: number[] = [];
  for (let i = 0; i < checkRuns; i++) {
    const start = performance.now();
    const r = spawnSync(process.execPath, [...nodeFlags, entry, "check", "--json"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    walls.push(performance.now() - start);
    JSON.parse(r.stdout); // valid JSON every time, or the bench fails
  }
  walls.sort((a, b) => a - b);
  const round1 = (n: number) => Number(n.toFixed(1));
  return {
    entry: label,
    idleSeconds: Math.round(elapsed),
    idleRssMiB: round1(rss),
    idlePeakRssMiB: round1(peak),
    idleAnonMiB: round1(anon),
    idleCpuPercent: Number(((cpu / elapsed) * 100).toFixed(3)),
    heartbeats: s.seen.heartbeats,
    connections: s.seen.connections,
    sigtermExit,
    checkRuns,
    checkMedianMs: Math.round(walls[Math.floor(walls.length / 2)]!),
    checkMaxMs: Math.round(walls[walls.length - 1]!),
  };
}

const dir = await mkdtemp(join(tmpdir(), "muster-bench-agent-"));
try {
  const entries: Array<[string, string]> = [];
  if (args.entry !== "source") {
    const bundle = join(dir, "muster-agent.mjs");
    await writeFile(bundle, await bundleJs(SOURCE));
    entries.push(["bundle", bundle]);
  }
  if (args.entry !== "bundle") entries.push(["source", SOURCE]);
  const results = [];
  for (const [label, entry] of entries) {
    const f = await measure(label, entry, dir);
    results.push(f);
    console.log(
      `${label}: idle ${f.idleSeconds}s RSS ${f.idleRssMiB} MiB (peak ${f.idlePeakRssMiB}, anonymous ${f.idleAnonMiB}), ` +
        `CPU ${f.idleCpuPercent}% (${f.heartbeats} heartbeats, ${f.connections} connection(s)), SIGTERM exit ${f.sigtermExit}; ` +
        `check --json median ${f.checkMedianMs} ms (max ${f.checkMaxMs}, ${checkRuns} runs)`,
    );
    const met = (ok: boolean) => (ok ? "met" : "MISSED");
    console.log(
      `${label}: goals: RSS <= 60 MB ${met(f.idleRssMiB <= 60)}; CPU ~0% ${met(f.idleCpuPercent < 1)}; check <= 300 ms ${met(f.checkMedianMs <= 300)}`,
    );
  }
  const emptyNodeRssMiB = await emptyNodeRss();
  const loadavg = (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
  console.log(`empty node process: RSS ${emptyNodeRssMiB} MiB; load average ${loadavg}`);
  const main = results[0]!;
  if (args.json)
    console.log(
      JSON.stringify({
        idleRssMiB: main.idleRssMiB,
        emptyNodeRssMiB,
        idleCpuPercent: main.idleCpuPercent,
        checkMedianMs: main.checkMedianMs,
      }),
    );
  else console.log(JSON.stringify({ nodeFlags, emptyNodeRssMiB, loadavg, results }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
