import { parseArgs } from "node:util";
import type { ClusterView, CoordinatorFrame, NodeFacts } from "@muster/shared";
import type { WebSocket } from "ws";
import { startFakeRke2 } from "./fake-rke2.ts";
import { api, pinnedWebSocket } from "./pinned.ts";
import { percentile } from "./proc.ts";

// The bench's agent fleet, in its own process so its CPU is not the coordinator's: one fake init
// server, then K fake agents over TLS + pin. Each agent enrols with its own machine id and hostname,
// passes its checks and reports its plan done the moment it arrives. Progress and the result are
// JSON lines on stdout for bench/coordinator.ts. Bounded by --deadline-seconds.

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    pin: { type: "string" },
    "server-token": { type: "string" },
    "agent-token": { type: "string" },
    agents: { type: "string", default: "2000" },
    "rke2-address": { type: "string", default: "127.0.0.2" },
    concurrency: { type: "string", default: "64" },
    "deadline-seconds": { type: "string", default: "600" },
  },
});
const URL_ = args.url!;
const PIN = args.pin!;
const ADMIN = process.env["MUSTER_TOKEN"]!;
const K = Number(args.agents);
const WS_URL = `${URL_.replace(/^https/, "wss")}/v1/agent`;

const emit = (event: string, data: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...data })}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const deadline = setTimeout(() => {
  emit("failed", { reason: `deadline of ${args["deadline-seconds"]} s passed`, ...counters() });
  process.exit(1);
}, Number(args["deadline-seconds"]) * 1000);

function facts(i: number, hostname: string, address: string): NodeFacts {
  return {
    hostname,
    machineId: (0xb0000000 + i).toString(16).padStart(32, "0"),
    os: { platform: "linux", distro: "Ubuntu", release: "24.04", kernel: "6.8.0", arch: "x64" },
    cpus: 4,
    memoryBytes: 8 * 2 ** 30,
    diskFreeBytes: 300 * 2 ** 30,
    swapBytes: 0,
    interfaces: [{ name: "eth0", up: true, mac: "", ipv4: [{ address, prefix: 8 }] }],
    address,
    rke2: { installed: false },
  };
}

const sockets: WebSocket[] = [];
let welcomed = 0;
let plansDone = 0;
let errors = 0;
const closes = new Map<number, number>();
const welcomeMs: number[] = [];
let heartbeatSeconds = 15;
const counters = () => ({ welcomed, plansDone, errors, closes: Object.fromEntries(closes) });

/** One fake agent: resolves at its welcome; answers checks and plans until the fleet stops. */
function runAgent(
  hostname: string,
  frame: Record<string, unknown>,
  onPlan?: (checksum: string, ws: WebSocket) => void,
) {
  return new Promise<void>((resolve, reject) => {
    const started = performance.now();
    const ws = pinnedWebSocket(WS_URL, PIN);
    sockets.push(ws);
    ws.on("open", () => ws.send(JSON.stringify(frame)));
    ws.on("error", (err) => {
      errors += 1;
      reject(err);
    });
    ws.on("close", (code) => {
      closes.set(code, (closes.get(code) ?? 0) + 1);
      reject(new Error(`${hostname} closed with ${code}`));
    });
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as CoordinatorFrame;
      if (msg.type === "welcome") {
        welcomed += 1;
        heartbeatSeconds = msg.heartbeatSeconds;
        welcomeMs.push(performance.now() - started);
        resolve();
      } else if (msg.type === "checks.run") {
        const results = [{ name: "bench", status: "pass", message: "fake agent" }];
        ws.send(JSON.stringify({ type: "checks.result", requestId: msg.requestId, results }));
      } else if (msg.type === "plan.apply") {
        if (onPlan) onPlan(msg.plan.checksum, ws);
        ws.send(JSON.stringify({ type: "plan.done", checksum: msg.plan.checksum, ok: true }));
        plansDone += 1;
      } else if (msg.type === "error") errors += 1;
    });
  });
}

async function waitCluster(what: string, ok: (c: ClusterView) => boolean): Promise<void> {
  emit("waiting", { for: what });
  for (;;) {
    const cluster = await api<ClusterView>(URL_, PIN, ADMIN, "GET", "/v1/cluster");
    if (ok(cluster)) return;
    await sleep(200);
  }
}

async function main(): Promise<void> {
  const rke2 = await startFakeRke2(args["rke2-address"]);
  // Heartbeats for every open socket from one timer (the coordinator drops silent agents).
  const beat = setInterval(() => {
    for (const ws of sockets) if (ws.readyState === 1) ws.send('{"type":"heartbeat"}');
  }, heartbeatSeconds * 500);

  // The init server captures the token of the fake RKE2 whose CA the registration probe will see.
  await runAgent(
    "bench-init",
    {
      type: "enrol",
      joinToken: args["server-token"],
      facts: facts(0, "bench-init", rke2.address),
      agentVersion: "bench",
    },
    (checksum, ws) => ws.send(JSON.stringify({ type: "token.captured", checksum, token: rke2.token })),
  );
  await waitCluster("init joined, registration healthy", (c) => c.phase === "ready");
  emit("agents-start");
  const progress = setInterval(() => emit("progress", counters()), 5000);

  const t0 = performance.now();
  let next = 1;
  const worker = async () => {
    while (next <= K) {
      const i = next++;
      const name = `bench-agent-${String(i).padStart(5, "0")}`;
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const frame = {
        type: "enrol",
        joinToken: args["agent-token"],
        facts: facts(i, name, address),
        agentVersion: "bench",
      };
      await runAgent(name, frame).catch(() => {});
    }
  };
  await Promise.all(Array.from({ length: Number(args.concurrency) }, worker));
  const enrolSeconds = (performance.now() - t0) / 1000;
  emit("enrolled", { enrolSeconds, ...counters() });

  await waitCluster("agents joined", (c) => c.agents.ready >= K || welcomed < K + 1);
  const sorted = welcomeMs.slice(1).sort((a, b) => a - b);
  clearInterval(beat);
  clearInterval(progress);
  clearTimeout(deadline);
  emit("done", {
    ok: welcomed === K + 1 && plansDone === K + 1,
    agents: K,
    enrolSeconds,
    enrolRate: K / enrolSeconds,
    welcomeP50: percentile(sorted, 50),
    welcomeP99: percentile(sorted, 99),
    ...counters(),
  });
  // Sockets stay open until the bench has read the server's memory with every agent connected.
  process.once("SIGTERM", () => {
    for (const ws of sockets) ws.terminate();
    void rke2.close().then(() => process.exit(0));
  });
}

main().catch((err) => {
  emit("failed", { reason: (err as Error).message, ...counters() });
  process.exit(1);
});
