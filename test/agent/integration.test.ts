// The real coordinator (its CLI, on loopback) and two real agent processes on fake hosts
// (fake-host-agent.ts): server 1 initialises the cluster and its token is captured; server 2,
// started while server 1 is still joining, joins only after server 1 passed the readiness gate.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { fileURLToPath } from "node:url";
import t from "tap";
import { parse } from "yaml";
import { selfSignedCert } from "../helpers/self-signed-cert.ts";

// biome-ignore lint/suspicious/noExplicitAny: REST responses are read loosely here; assertions check them.
type Json = any;
const COORDINATOR = fileURLToPath(new URL("../../packages/coordinator/src/server/cli.ts", import.meta.url));
const FAKE_AGENT = fileURLToPath(new URL("./fake-host-agent.ts", import.meta.url));
const NODES = [
  { name: "server-1", ip: "127.77.0.11", machineId: "11111111111111111111111111111111" },
  { name: "server-2", ip: "127.77.0.12", machineId: "22222222222222222222222222222222" },
];

function startCoordinator(
  stateDir: string,
): Promise<{ child: ChildProcess; url: string; pin: string; logs: string[] }> {
  const child = spawn(
    process.execPath,
    [COORDINATOR, "serve", "--state-dir", stateDir, "--listen", "127.0.0.1:0"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const logs: string[] = [];
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (d) => logs.push(String(d)));
    child.stdout!.on("data", (d) => {
      for (const line of String(d).split("\n").filter(Boolean)) {
        logs.push(line);
        const j = JSON.parse(line) as { url?: string; pin?: string };
        if (j.url && j.pin) resolve({ child, url: j.url, pin: j.pin, logs });
      }
    });
    child.on("exit", (code) => reject(new Error(`coordinator exited ${code}: ${logs.join("")}`)));
  });
}

/** REST call trusting the coordinator by its pin only (self-signed CA). */
function api(
  url: string,
  token: string,
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${url}${p}`,
      {
        method,
        rejectUnauthorized: false,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (c) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

t.test("init flow then a serialised server join, real coordinator + real agent processes", async (t) => {
  const dir = t.testdir();
  const coordinator = await startCoordinator(path.join(dir, "coordinator"));
  t.teardown(() => coordinator.child.kill("SIGKILL"));
  const admin = readFileSync(path.join(dir, "coordinator", "admin-token"), "utf8").trim();
  const ca = selfSignedCert(
    "rke2-server-ca",
    NODES.map((n) => n.ip),
  );
  writeFileSync(path.join(dir, "ca.crt"), ca.cert);
  writeFileSync(path.join(dir, "ca.key"), ca.key, { mode: 0o600 });

  const agents: ChildProcess[] = [];
  const exits: Array<Promise<number | null>> = [];
  const agentLogs: string[] = [];
  const startNode = async (n: (typeof NODES)[number]) => {
    const jt = await api(coordinator.url, admin, "POST", "/v1/join-tokens", { role: "server" });
    t.equal(jt.status, 201);
    const root = path.join(dir, n.name);
    mkdirSync(path.join(root, "etc/muster"), { recursive: true });
    const yaml = `coordinatorUrl: ${coordinator.url}\npin: "${coordinator.pin}"\njoinToken: ${jt.body.token}\nnodeName: ${n.name}\n`;
    writeFileSync(path.join(root, "etc/muster/agent.yaml"), yaml, { mode: 0o600 });
    const child = spawn(
      process.execPath,
      [
        FAKE_AGENT,
        "--config",
        "/etc/muster/agent.yaml",
        "--root",
        root,
        "--node-ip",
        n.ip,
        "--hostname",
        n.name,
        "--machine-id",
        n.machineId,
        "--ca-cert",
        path.join(dir, "ca.crt"),
        "--ca-key",
        path.join(dir, "ca.key"),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout!.on("data", (d) => agentLogs.push(String(d)));
    child.stderr!.on("data", (d) => agentLogs.push(String(d)));
    agents.push(child);
    exits.push(new Promise((r) => child.on("exit", (code) => r(code))));
    t.teardown(() => child.kill("SIGKILL"));
    return root;
  };
  const node = async (name: string) => (await api(coordinator.url, admin, "GET", `/v1/nodes/${name}`)).body;

  const root1 = await startNode(NODES[0]!);
  await waitFor("server-1 to join the plan", async () =>
    ["joining", "joined"].includes((await node("server-1"))?.state),
  );
  const root2 = await startNode(NODES[1]!); // enrols while server-1 may still be joining
  try {
    await waitFor(
      "both servers joined",
      async () =>
        (await node("server-1"))?.state === "joined" && (await node("server-2"))?.state === "joined",
      90_000,
    );
  } catch (err) {
    t.comment(agentLogs.join("").slice(-4000));
    t.comment(coordinator.logs.join("\n").slice(-4000));
    throw err;
  }

  const events = (await api(coordinator.url, admin, "GET", "/v1/events?after=0&limit=1000")).body
    .events as Array<{ seq: number; type: string; node?: string }>;
  const at = (type: string, n: string) => events.find((e) => e.type === type && e.node === n)?.seq ?? -1;
  t.ok(at("cluster.token.captured", "server-1") > 0, "the init server's token was captured");
  t.ok(at("node.join.succeeded", "server-1") > 0);
  t.ok(
    at("node.join.started", "server-2") > at("node.join.succeeded", "server-1"),
    "server-2 released only after server-1 was ready",
  );
  t.ok(at("node.join.succeeded", "server-2") > at("node.join.started", "server-2"));
  const cluster = (await api(coordinator.url, admin, "GET", "/v1/cluster")).body;
  t.equal(cluster.servers.ready, 2);
  t.equal(cluster.registrationAddress, NODES[0]!.ip);
  t.notOk(JSON.stringify(events).includes("f4ke0000f4ke0000"), "the token is in no event");

  // On disk: credentials replaced the join tokens; config.yaml 0600; server-2 joins via server-1.
  for (const root of [root1, root2]) {
    const cfg = parse(readFileSync(path.join(root, "etc/muster/agent.yaml"), "utf8"));
    t.ok(cfg.credential && !cfg.joinToken, "agent.yaml: credential, no join token");
    t.equal(statSync(path.join(root, "etc/rancher/rke2/config.yaml")).mode & 0o777, 0o600);
    t.ok(readFileSync(path.join(root, "var/lib/muster/agent/applied.json"), "utf8").includes("checksum"));
  }
  const c1 = parse(readFileSync(path.join(root1, "etc/rancher/rke2/config.yaml"), "utf8"));
  const c2 = parse(readFileSync(path.join(root2, "etc/rancher/rke2/config.yaml"), "utf8"));
  t.notOk("server" in c1, "the init server has no server: key");
  t.equal(c2.server, `https://${NODES[0]!.ip}:9345`);
  t.match(c2.token, /^K10[0-9a-f]{64}::server:f4ke0000/, "server-2 got the captured token");

  for (const a of agents) a.kill("SIGTERM");
  t.same(await Promise.all(exits), [0, 0], "agents stop cleanly on SIGTERM");
});
