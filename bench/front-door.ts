import { type ChildProcess, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { connect as tlsConnect } from "node:tls";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { api, pinnedWebSocket } from "./lib/pinned.ts";
import { memoryMiB } from "./lib/proc.ts";

// npm run bench:front-door [-- --json] [--sockets N] [--frames N] [--slowloris N] [--events N]: the
// front-door figures of one real coordinator (`muster-coordinator serve`, its own process, loopback,
// temp state dir, default limits), all from one source address:
//  - idle: N unauthenticated WebSockets that never send a frame: how many were let in (the rest get
//    429 before the handshake) and the longest one was held before the coordinator closed it;
//  - frames: N unauthenticated sockets each sending a 1 MiB first frame at once: the coordinator's
//    VmRSS before, at its peak and after;
//  - slowloris: N connections trickling header bytes: when the last was closed;
//  - events: one enrolled agent sends N install.prepared frames: the database's growth.
// The machine is shared: the load average is printed with the figures. `--json`: the last line is
// one JSON object with every figure.

const ROOT = join(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    sockets: { type: "string", default: "3000" },
    frames: { type: "string", default: "300" },
    slowloris: { type: "string", default: "500" },
    events: { type: "string", default: "10000" },
    json: { type: "boolean", default: false },
  },
});
const count = (k: keyof typeof args) => {
  const n = Number(args[k]);
  if (!Number.isInteger(n) || n < 0 || n > 100_000) throw new Error(`--${k} must be an integer 0..100000`);
  return n;
};
const loadavg = async () => (await readFile("/proc/loadavg", "utf8")).split(" ").slice(0, 3).join(" ");
const log = (s: string) => {
  if (!args.json) console.log(s);
};

function serve(state: string): Promise<{ child: ChildProcess; url: string; pin: string }> {
  const child = spawn(
    "/bin/sh",
    [
      "-c",
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"',
      process.execPath,
      join(ROOT, "packages/coordinator/src/server/cli.ts"),
      "serve",
      "--state-dir",
      state,
      "--listen",
      "127.0.0.1:0",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise((resolve, reject) => {
    child.on("exit", (code) => reject(new Error(`serve exited ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const l = JSON.parse(line) as Record<string, unknown>;
      if (typeof l["url"] === "string" && typeof l["pin"] === "string")
        resolve({ child, url: l["url"], pin: l["pin"] });
    });
  });
}

/** Opens `n` unauthenticated sockets at once; resolves with how each ended and when. */
function unauthenticated(url: string, n: number, frame: string | null) {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<{ code: number; status?: number; heldMs: number }>((resolve) => {
          const ws = new WebSocket(url, { rejectUnauthorized: false, perMessageDeflate: false });
          let status: number | undefined;
          let opened = 0;
          ws.on("unexpected-response", (_req, res) => {
            status = res.statusCode;
            res.resume();
            ws.terminate();
          });
          ws.on("open", () => {
            opened = performance.now();
            if (frame !== null) ws.send(frame);
          });
          ws.on("error", () => {});
          ws.on("close", (code) =>
            resolve({
              code,
              heldMs: opened ? performance.now() - opened : 0,
              ...(status === undefined ? {} : { status }),
            }),
          );
        }),
    ),
  );
}

function slowloris(port: number, n: number) {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<number>((resolve) => {
          const t0 = performance.now();
          const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
            s.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
          });
          const drip = setInterval(() => {
            if (s.writable) s.write("X-a: b\r\n");
          }, 1000);
          const done = () => {
            clearInterval(drip);
            resolve(performance.now() - t0);
          };
          s.on("error", () => {});
          s.on("close", done);
          s.resume();
        }),
    ),
  );
}

/** The database file and its write-ahead log, bytes (the WAL is reused after each checkpoint). */
function dbBytes(state: string): { db: number; wal: number } {
  const size = (f: string) => {
    try {
      return statSync(join(state, f)).size;
    } catch {
      return 0;
    }
  };
  return { db: size("muster.db"), wal: size("muster.db-wal") };
}

const dir = await mkdtemp(join(tmpdir(), "muster-front-door-"));
const state = join(dir, "state");
const { child, url, pin } = await serve(state);
const cleanup = async () => {
  child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
};
process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));
try {
  const pid = child.pid!;
  const wsUrl = `${url.replace(/^https/, "wss")}/v1/agent`;
  const port = Number(new URL(url).port);
  const out: Record<string, unknown> = { loadavgStart: await loadavg() };

  const idle = await unauthenticated(wsUrl, count("sockets"), null);
  const admitted = idle.filter((e) => e.status === undefined);
  out["idle"] = {
    sockets: idle.length,
    admitted: admitted.length,
    refused429: idle.filter((e) => e.status === 429).length,
    maxHeldSeconds: Math.max(0, ...admitted.map((e) => e.heldMs)) / 1000,
  };
  log(`idle unauthenticated WS: ${JSON.stringify(out["idle"])}`);

  const frame = "x".repeat(1024 * 1024);
  for (let i = 0; i < 5; i++) await unauthenticated(wsUrl, 1, frame);
  const before = memoryMiB(pid).now;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memoryMiB(pid).now);
  }, 20);
  const framed = await unauthenticated(wsUrl, count("frames"), frame);
  clearInterval(sampler);
  const after = memoryMiB(pid).now;
  out["frames"] = {
    sockets: framed.length,
    closed4400: framed.filter((e) => e.code === 4400).length,
    refused429: framed.filter((e) => e.status === 429).length,
    rssBeforeMiB: Math.round(before),
    rssPeakMiB: Math.round(peak),
    rssAfterMiB: Math.round(after),
  };
  log(`1 MiB unauthenticated frames: ${JSON.stringify(out["frames"])}`);

  const loris = await slowloris(port, count("slowloris"));
  out["slowloris"] = { connections: loris.length, lastClosedSeconds: Math.max(0, ...loris) / 1000 };
  log(`slowloris: ${JSON.stringify(out["slowloris"])}`);

  const admin = (await readFile(join(state, "admin-token"), "utf8")).trim();
  const { token } = await api<{ token: string }>(url, pin, admin, "POST", "/v1/join-tokens", {
    role: "agent",
  });
  const ws = pinnedWebSocket(wsUrl, pin);
  await new Promise<void>((resolve, reject) => {
    ws.on("error", reject);
    ws.on("open", () =>
      ws.send(
        JSON.stringify({
          type: "enrol",
          joinToken: token,
          agentVersion: "bench",
          facts: {
            hostname: "bench-events",
            machineId: "e".repeat(32),
            os: { platform: "linux", distro: "Ubuntu", release: "24.04", kernel: "6.8.0", arch: "x64" },
            cpus: 4,
            memoryBytes: 8 * 2 ** 30,
            diskFreeBytes: 300 * 2 ** 30,
            swapBytes: 0,
            interfaces: [{ name: "eth0", up: true, mac: "", ipv4: [{ address: "10.9.9.9", prefix: 8 }] }],
            address: "10.9.9.9",
            rke2: { installed: false },
          },
        }),
      ),
    );
    ws.on("message", (d) => {
      if (JSON.parse(String(d)).type === "welcome") resolve();
    });
  });
  type Page = { events: Array<{ message: string }>; next: number };
  const page = (after: number) => api<Page>(url, pin, admin, "GET", `/v1/events?after=${after}&limit=1000`);
  let cursor = 0;
  for (let p = await page(0); p.events.length > 0; p = await page(cursor)) cursor = p.next;
  const dbBefore = dbBytes(state);
  const n = count("events");
  const t0 = performance.now();
  for (let i = 0; i < n; i++)
    ws.send(JSON.stringify({ type: "install.prepared", ok: true, message: `staged ${i}` }));
  // Frames are applied in order and seq counts every event: the last one is at or after cursor + n.
  const last = `staged ${n - 1}`;
  while (n > 0 && !(await page(cursor + n - 1)).events.some((e) => e.message.includes(last))) {
    if (performance.now() - t0 > 300_000) throw new Error("events did not arrive in 300 s");
    await new Promise((r) => setTimeout(r, 200));
  }
  ws.close();
  const dbAfter = dbBytes(state);
  out["events"] = {
    frames: n,
    seconds: (performance.now() - t0) / 1000,
    dbBeforeKiB: Math.round(dbBefore.db / 1024),
    dbAfterKiB: Math.round(dbAfter.db / 1024),
    walBeforeKiB: Math.round(dbBefore.wal / 1024),
    walAfterKiB: Math.round(dbAfter.wal / 1024),
  };
  log(`events: ${JSON.stringify(out["events"])}`);
  out["loadavgEnd"] = await loadavg();
  log(`loadavg ${out["loadavgStart"]} -> ${out["loadavgEnd"]}`);
  if (args.json) console.log(JSON.stringify(out));
} finally {
  await cleanup();
}
