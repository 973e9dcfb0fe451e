// Checks across nodes stop a node before anything installs, with a message naming the node and the
// fix: a VIP another host already answers ARP for, a server whose interface is not the spec's
// vip.interface, and a port between two servers cut by a policy rule (the reachability matrix).
import { existsSync } from "node:fs";
import type { TestCluster } from "@muster/lab/cluster/test-cluster";
import type { WorldNode } from "@muster/lab/world/world";
import type { NodeView } from "@muster/shared";
import t, { type Test } from "tap";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

const PREFIX = "/opt/rke2";

async function failedEvent(cluster: TestCluster, node: string): Promise<string> {
  return cluster.waitFor(`node.checks.failed for ${node}`, async () => {
    const e = (await cluster.events()).find((x) => x.type === "node.checks.failed" && x.node === node);
    return e?.message;
  });
}

function check(t: Test, view: NodeView, name: string) {
  const c = view.checks?.find((x) => x.name === name);
  t.equal(c?.status, "fail", `${view.name}: ${name} fails`, { checks: view.checks });
  return c;
}

function nothingInstalled(t: Test, node: WorldNode) {
  t.notOk(existsSync(node.path(`${PREFIX}/bin/rke2`)), `nothing of RKE2 is installed on ${node.name}`);
}

const reason = cannotRun();
t.test("checks across nodes fail before anything installs", { skip: reason ?? false }, async (t) => {
  const cluster = await startCluster(t, {
    servers: 3,
    agents: 1,
    vip: true,
  });
  const vip = cluster.world.vip;
  const [s1, s2, s3] = cluster.servers as [WorldNode, WorldNode, WorldNode];
  const other = cluster.world.node("agent-1");

  await t.test("a VIP another host answers ARP for", async (t) => {
    await other.sh(`ip addr add ${vip}/32 dev eth0`);
    await enrol(t, cluster, ["server-1"]);
    const view = (await cluster.waitForNodes(["server-1"], "check-failed", 120_000)).find(
      (v) => v.name === "server-1",
    );
    const c = check(t, view!, "vip-free");
    t.match(c?.message, `VIP ${vip} is answered on eth0 by`);
    t.match(c?.message, /another host took it/);
    t.match(c?.fix, /free the address on that host/);
    const event = await failedEvent(cluster, "server-1");
    t.match(event, /checks failed on server-1: .*vip-free: .*\(fix: /);
    nothingInstalled(t, s1);
    // Freed, a retry passes and the cluster forms (the later checks run against a live cluster).
    await other.sh(`ip addr del ${vip}/32 dev eth0`);
    await cluster.api.post("/v1/nodes/server-1/retry", {});
    await cluster.waitForNodes(["server-1"], "joined", 180_000);
  });

  await t.test("a server whose interface is not vip.interface", async (t) => {
    await s2.sh(
      [
        "gw=$(ip -4 route show default | awk '{print $3; exit}')",
        "ip link set eth0 down",
        "ip link set eth0 name ens9",
        "ip link set ens9 up",
        'if [ -n "$gw" ]; then ip route replace default via "$gw" dev ens9; fi',
      ].join("\n"),
    );
    await enrol(t, cluster, ["server-2"]);
    const view = (await cluster.waitForNodes(["server-2"], "check-failed", 120_000)).find(
      (v) => v.name === "server-2",
    );
    const c = check(t, view!, "vip-interface");
    t.match(c?.message, /interface eth0 does not exist on this node \(it has: .*ens9/);
    t.match(c?.fix, /same interface name on every server/);
    t.match(await failedEvent(cluster, "server-2"), /checks failed on server-2: .*vip-interface/);
    nothingInstalled(t, s2);
  });

  await t.test("a port between two servers cut", async (t) => {
    await s3.sh(`ip rule add pref 100 to ${s1.ip}/32 ipproto tcp dport 6443 unreachable`);
    await enrol(t, cluster, ["server-3"]);
    const view = (await cluster.waitForNodes(["server-3"], "check-failed", 120_000)).find(
      (v) => v.name === "server-3",
    );
    const c = check(t, view!, "peers-ports");
    t.match(c?.message, `${s3.ip} -> server-1 ${s1.ip} tcp/6443`);
    t.notMatch(c?.message, "tcp/9345", "only the cut port is named");
    t.match(c?.fix, `allow tcp/6443 from ${s3.ip} to server-1 (${s1.ip})`);
    t.match(await failedEvent(cluster, "server-3"), /checks failed on server-3: .*peers-ports: .*server-1/);
    nothingInstalled(t, s3);
  });
});
