// The agent-token migration in the lab (docs/operations.md#agent-token-migration): a cluster formed
// the way a coordinator from before the agent token formed it (servers without agent-token, the agent
// holding the server token) is moved over by POST /v1/agent-token/migration while it runs. Sampled
// all along from the coordinator's machine: a linearizable etcd read (it needs quorum) and the
// agent's Node condition. Afterwards every server carries the same agent-token, the agent holds only
// K10<hash>::node:<agent token> (which the server bootstrap refuses), and a server added then joins:
// its critical config matches the others'.
import { readFile } from "node:fs/promises";
import type { TestCluster } from "@muster/lab/cluster/test-cluster";
import type { ClusterView, OperationAccepted } from "@muster/shared";
import t from "tap";
import { parse } from "yaml";
import { untilEnded, voters } from "./day-two-kit.ts";
import { longestGap, type Sampled, sampleUntilStopped } from "./sampler.ts";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

const SERVERS = ["server-1", "server-2", "server-3"];
const FIRST = [...SERVERS, "agent-1"];

type Config = Record<string, unknown>;

async function config(cluster: TestCluster, name: string): Promise<{ text: string; doc: Config }> {
  const text = await readFile(cluster.world.node(name).path("/etc/rancher/rke2/config.yaml"), "utf8");
  return { text, doc: parse(text) as Config };
}

interface Sample extends Sampled {
  /** Some server answered a linearizable read (etcd had quorum). */
  quorum: boolean;
  /** agent-1's Ready condition as an apiserver answered it, or null when none answered. */
  agentReady: string | null;
}

/** Samples quorum and the agent's Node twice a second from the coordinator's machine until stopped. */
function sampler(cluster: TestCluster) {
  const via = cluster.world.coordinator;
  const ips = cluster.servers.filter((s) => SERVERS.includes(s.name)).map((s) => s.ip);
  const curl = (args: string[]) => via.exec("curl", ["-s", "-m", "2", ...args], { reject: false });
  async function quorum(): Promise<boolean> {
    for (const ip of ips) {
      const r = await curl(["-X", "POST", `http://${ip}:2379/v3/kv/range`, "-d", '{"key":"Zm9v"}']);
      if (r.exitCode === 0 && r.stdout.includes('"header"')) return true;
    }
    return false;
  }
  async function agentReady(): Promise<string | null> {
    for (const ip of ips) {
      const r = await curl(["-k", `https://${ip}:6443/api/v1/nodes/agent-1`]);
      if (r.exitCode !== 0) continue;
      try {
        const node = JSON.parse(r.stdout) as { status?: { conditions?: { type: string; status: string }[] } };
        const ready = node.status?.conditions?.find((c) => c.type === "Ready");
        if (ready) return ready.status;
      } catch {
        // Not JSON (an apiserver on its way down): ask the next server.
      }
    }
    return null;
  }
  return sampleUntilStopped<Sample>(async () => {
    const [q, a] = await Promise.all([quorum(), agentReady()]);
    return { quorum: q, agentReady: a };
  });
}

const reason = cannotRun();
t.test("a legacy cluster moves to the agent token without downtime", { skip: reason ?? false }, async (t) => {
  const cluster = await startCluster(t, {
    servers: 3,
    agents: 1,
    spareServers: 1,
    legacyAgentToken: true,
    spec: { timeouts: { serverJoin: 300, agentJoin: 300 } },
  });
  await enrol(t, cluster, FIRST);
  await cluster.waitForNodes(FIRST, "joined", 300_000);
  await voters(cluster, SERVERS);

  // The world formed it as an older coordinator did: this is what the migration starts from.
  const before = await config(cluster, "agent-1");
  // The init server generated the token (no `token:` in its config); the others were given it.
  const init = (await cluster.nodes()).find((n) => n.init)?.name;
  const joiner = SERVERS.find((s) => s !== init)!;
  const serverToken = String((await config(cluster, joiner)).doc["token"] ?? "");
  t.match(
    serverToken,
    /^K10[0-9a-f]{64}::server:.+$/,
    `the joined servers hold the server token (${joiner})`,
  );
  for (const s of SERVERS)
    t.notOk("agent-token" in (await config(cluster, s)).doc, `legacy: ${s} runs without agent-token`);
  t.equal(before.doc["token"], serverToken, "legacy: the agent holds the server token");
  const agentTokenFile = (s: string) =>
    readFile(cluster.world.node(s).path("/var/lib/rancher/rke2/server/agent-token"), "utf8").catch(() => "");
  for (const s of SERVERS) t.equal(await agentTokenFile(s), "", `legacy: ${s} has no server/agent-token`);
  const legacy = await cluster.api.get<ClusterView>("/v1/cluster");
  t.ok(
    legacy.warnings.some((w) => w.includes("muster agent-token migrate")),
    "status warns and names the command",
    { warnings: legacy.warnings },
  );

  const probe = sampler(cluster);
  const accepted = await cluster.api.request<OperationAccepted>("POST", "/v1/agent-token/migration");
  t.equal(accepted.status, 202, "migration accepted", { body: accepted.body });
  t.equal(accepted.body.operation.type, "agent-token");
  const id = accepted.body.operation.id;
  const second = await cluster.api.request<{ error: { code: string } }>("POST", "/v1/agent-token/migration");
  t.equal(second.status, 409, "a second one while it runs: 409");
  t.equal(second.body.error.code, "OPERATION_IN_FLIGHT", "the lease is held");
  const op = await untilEnded(cluster, id, 600_000);
  await probe.stop();
  t.equal(op.state, "succeeded", "the migration succeeded", { op });
  t.same(
    op.steps.map((s) => s.state),
    op.steps.map(() => "succeeded"),
    "every step succeeded",
    { steps: op.steps },
  );
  const order = op.steps.map((s) => /(server-\d|agent-\d)/.exec(s.name)?.[1] ?? "enforce");
  t.same(order.slice(3), ["agent-1", "enforce"], "servers first, then the agent, then the flip", { order });
  t.same([...order.slice(0, 3)].sort(), SERVERS, "each server once");

  await t.test("no downtime: quorum and the agent's Node throughout", async (t) => {
    const samples = probe.samples;
    const first = samples[0]?.t ?? Number.POSITIVE_INFINITY;
    const last = samples.at(-1)?.t ?? 0;
    t.ok(
      samples.length >= 5 && first <= Date.parse(op.startedAt ?? "") && last >= Date.parse(op.endedAt ?? ""),
      `sampled from before the operation started to after it ended (${samples.length} samples, ${op.startedAt} to ${op.endedAt})`,
    );
    const gap = longestGap(samples, (x) => x.quorum);
    t.ok(gap <= 10_000, `etcd answered linearizable reads throughout (longest gap ${gap} ms)`);
    const answered = samples.filter((s) => s.agentReady !== null);
    t.ok(
      answered.length >= samples.length / 2,
      `the apiserver answered (${answered.length}/${samples.length})`,
    );
    t.same(
      answered.filter((s) => s.agentReady !== "True").map((s) => s.agentReady),
      [],
      "agent-1's Node stayed Ready in every answered sample",
    );
  });

  await t.test("config: one agent-token on every server; the agent holds only its credential", async (t) => {
    const tokens = await Promise.all(
      SERVERS.map(async (s) => String((await config(cluster, s)).doc["agent-token"] ?? "")),
    );
    t.ok(tokens[0]!.length >= 32, "server-1 carries an agent-token");
    t.same(new Set(tokens).size, 1, "the same agent-token on every server");
    t.not(tokens[0], serverToken, "and it is not the server token");
    // RKE2 writes server/agent-token when rke2-server starts with it: each server was restarted on it.
    for (const s of SERVERS) {
      const file = await agentTokenFile(s);
      t.ok(file.trim().endsWith(`::node:${tokens[0]}`), `${s} was restarted with it (server/agent-token)`);
    }
    const agent = await config(cluster, "agent-1");
    const m = /^K10[0-9a-f]{64}::node:(.+)$/.exec(String(agent.doc["token"] ?? ""));
    t.ok(m, "the agent's token is K10<ca hash>::node:<password>");
    t.equal(m?.[1], tokens[0], "its password is the servers' agent-token");
    t.notOk(agent.text.includes(serverToken), "the server token appears nowhere in its config.yaml");
    t.notOk("agent-token" in agent.doc, "and no agent-token key either");
    t.same(
      Object.keys(agent.doc).sort(),
      Object.keys(before.doc).sort(),
      "every other key of its config.yaml is kept",
    );

    const supervisor = String(agent.doc["server"]).replace(/\/+$/, "");
    const code = async (path: string) =>
      (
        await cluster.world
          .node("agent-1")
          .exec(
            "curl",
            [
              "-sk",
              "-o",
              "/dev/null",
              "-w",
              "%{http_code}",
              "-u",
              `node:${m?.[1] ?? ""}`,
              `${supervisor}${path}`,
            ],
            { reject: false },
          )
      ).stdout;
    t.equal(await code("/v1-rke2/readyz"), "200", "the agent endpoints accept the agent token");
    t.equal(await code("/v1-rke2/server-bootstrap"), "403", "the server bootstrap refuses it");
  });

  await t.test("enforced: the warning is gone, a second migration is 409 NOT_LEGACY", async (t) => {
    const view = await cluster.api.get<ClusterView>("/v1/cluster");
    t.notOk(
      view.warnings.some((w) => w.includes("agent-token")),
      "no agent-token warning",
      { warnings: view.warnings },
    );
    const again = await cluster.api.request<{ error: { code: string } }>("POST", "/v1/agent-token/migration");
    t.equal(again.status, 409);
    t.equal(again.body.error.code, "NOT_LEGACY");
    t.ok(
      (await cluster.events()).some((e) => e.type === "cluster.agent-token.enforced"),
      "event cluster.agent-token.enforced",
    );
  });

  await t.test("a server added afterwards joins with the same agent-token", async (t) => {
    await enrol(t, cluster, ["server-4"]);
    await cluster.waitForNodes(["server-4"], "joined", 300_000);
    await voters(cluster, [...SERVERS, "server-4"]);
    const s4 = await config(cluster, "server-4");
    const s1 = await config(cluster, "server-1");
    t.equal(s4.doc["agent-token"], s1.doc["agent-token"], "its agent-token is the cluster's");
  });
});
