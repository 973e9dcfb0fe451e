// Bad join tokens at the door: the one-liner with an unknown, malformed, revoked or expired token
// stops with a clear message and changes nothing on the node; no node is enrolled and the cluster
// does not notice. A machine enrolled as a server is refused an agent join token just as clearly.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { TestCluster } from "@muster/lab/cluster/test-cluster";
import type { WorldNode } from "@muster/lab/world/world";
import type { JoinTokenCreated } from "@muster/shared";
import t, { type Test } from "tap";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

const reason = cannotRun();
t.test("wrong join tokens are refused and change nothing", { skip: reason ?? false }, async (t) => {
  const cluster = await startCluster(t, { servers: 1, agents: 1 });
  await enrol(t, cluster, ["server-1"]);
  await cluster.waitForNodes(["server-1"], "joined", 120_000);
  await cluster.waitFor("the cluster to be ready", async () =>
    (await cluster.cluster()).phase === "ready" ? true : undefined,
  );
  const node = cluster.world.node("agent-1");

  const withToken = (issued: JoinTokenCreated, token: string) => {
    t.ok(issued.command.includes(issued.token), "the command carries its token");
    return issued.command.replace(issued.token, token);
  };

  await t.test("unknown secret", async (t) => {
    const issued = await cluster.joinCommand("agent");
    const wrong = `${issued.id}.${"0123456789abcdef".split("").reverse().join("")}`;
    const r = await cluster.bootstrap(node, withToken(issued, wrong));
    t.equal(r.exitCode, 1, "bootstrap fails");
    t.match(r.all, /rejected the join token: join token is not valid; nothing was changed/);
    await unaffected(t, cluster, node);
  });

  await t.test("malformed token", async (t) => {
    const issued = await cluster.joinCommand("agent");
    const r = await cluster.bootstrap(node, withToken(issued, "not-a-join-token"));
    t.equal(r.exitCode, 2, "usage error");
    t.match(r.all, /--token: not a join token/);
    await unaffected(t, cluster, node);
  });

  await t.test("revoked token", async (t) => {
    const issued = await cluster.joinCommand("agent");
    await cluster.revokeJoinToken(issued.id);
    const r = await cluster.bootstrap(node, issued.command);
    t.equal(r.exitCode, 1, "bootstrap fails");
    t.match(r.all, new RegExp(`join token ${issued.id} was revoked; create a new one; nothing was changed`));
    await unaffected(t, cluster, node);
  });

  await t.test("expired token", async (t) => {
    const issued = await cluster.joinCommand("agent");
    cluster.expireJoinToken(issued.id);
    const r = await cluster.bootstrap(node, issued.command);
    t.equal(r.exitCode, 1, "bootstrap fails");
    t.match(
      r.all,
      new RegExp(`join token ${issued.id} expired at \\S+; create a new one; nothing was changed`),
    );
    await unaffected(t, cluster, node);
  });

  await t.test("a server machine offered an agent join token", async (t) => {
    const server = cluster.world.node("server-1");
    const agentYaml = readFileSync(server.path("/etc/muster/agent.yaml"), "utf8");
    const issued = await cluster.joinCommand("agent");
    const r = await cluster.bootstrap(server, issued.command);
    t.equal(r.exitCode, 1, "bootstrap fails", { output: r.all });
    t.match(r.all, /already enrolled as server server-1/, "says what the machine is");
    t.match(r.all, /nothing was changed/);
    t.equal(readFileSync(server.path("/etc/muster/agent.yaml"), "utf8"), agentYaml, "agent.yaml unchanged");
    const s1 = (await cluster.nodes()).find((n) => n.name === "server-1");
    t.equal(s1?.role, "server", "server-1 is still a server");
    t.equal(s1?.state, "joined", "server-1 is still joined");
    await unaffected(t, cluster, node);
  });

  await t.test("a server machine whose agent was removed, offered an agent join token", async (t) => {
    const server = cluster.world.node("server-1");
    const serverCmd = (await cluster.joinCommand("server")).command;
    const removed = await cluster.bootstrap(server, serverCmd.replace(/--token \S+$/, "--uninstall"));
    t.equal(removed.exitCode, 0, "agent uninstalled", { output: removed.all });
    const issued = await cluster.joinCommand("agent");
    const r = await cluster.bootstrap(server, issued.command);
    t.equal(r.exitCode, 1, "bootstrap fails", { output: r.all });
    t.match(r.all, /already enrolled as server server-1; an agent join token cannot re-enrol it/);
    t.notOk(existsSync(server.path("/etc/muster/agent.yaml")), "no agent.yaml written");
    t.notOk(existsSync(server.path("/etc/systemd/system/muster-agent.service")), "no unit installed");
    t.same(
      (await cluster.nodes()).map((n) => [n.name, n.role]),
      [["server-1", "server"]],
      "still one server",
    );

    // With its own role's token the machine only claims server-1 (its old credential is gone with
    // the uninstall, and a machine id is no secret: docs/reference.md#consent-to-re-enrol); after the
    // operator's approval it maps back to server-1 and the cluster is whole again.
    const again = await cluster.bootstrap(server, serverCmd);
    t.equal(again.exitCode, 0, "re-bootstrapped with a server token", { output: again.all });
    await cluster.waitFor(
      "server-1's claim to wait for approval",
      async () => {
        const s = (await cluster.nodes()).find((n) => n.name === "server-1");
        return s?.claim?.state === "pending-approval" ? true : undefined;
      },
      60_000,
    );
    await cluster.api.post("/v1/nodes/server-1/approve", undefined);
    await cluster.waitFor(
      "server-1 to reconnect and the cluster to be ready",
      async () => {
        const [view, nodes] = await Promise.all([cluster.cluster(), cluster.nodes()]);
        return view.phase === "ready" && nodes.length === 1 && nodes[0]?.connected ? true : undefined;
      },
      60_000,
    );
    const s1 = (await cluster.nodes())[0];
    t.same([s1?.name, s1?.role, s1?.state], ["server-1", "server", "joined"], "server-1 kept its identity");
    await unaffected(t, cluster, node);
  });
});

/** Nothing installed on the node, nothing enrolled, the cluster still ready, no event about it. */
async function unaffected(t: Test, cluster: TestCluster, node: WorldNode): Promise<void> {
  t.same(readdirSync(node.path("/opt/muster")), [], "nothing installed in /opt/muster");
  t.notOk(existsSync(node.path("/etc/muster/agent.yaml")), "no /etc/muster/agent.yaml");
  t.notOk(existsSync(node.path("/etc/systemd/system/muster-agent.service")), "no muster-agent unit");
  const nodes = await cluster.nodes();
  t.same(
    nodes.map((n) => n.name),
    ["server-1"],
    "no node enrolled",
  );
  const view = await cluster.cluster();
  t.equal(view.phase, "ready", "cluster still ready");
  const events = await cluster.events();
  t.same(
    events.filter((e) => e.node === node.name || (e.type === "node.enrolled" && e.node !== "server-1")),
    [],
    `no event about ${node.name}`,
  );
}
