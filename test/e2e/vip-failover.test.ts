// Failover of the VIP kube-vip runs: stop rke2-server on the holder the way muster does (the unit,
// then rke2-killall.sh, kube-vip#1786) and the VIP moves to another server, the API answers through
// it and an agent added afterwards joins through it; power loss of the new holder moves it again.
import { readFile } from "node:fs/promises";
import { apiThroughVip, arpAnswers, failover, macOf, powerOff, vipHolders } from "@muster/lab/cluster/vip";
import type { WorldNode } from "@muster/lab/world/world";
import t from "tap";
import { parse } from "yaml";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

async function rke2Config(node: WorldNode): Promise<Record<string, unknown>> {
  return parse(await readFile(node.path("/etc/rancher/rke2/config.yaml"), "utf8")) as Record<string, unknown>;
}

/** kube-vip's logs on each server, for the failure message. */
async function kubeVipLogs(servers: readonly WorldNode[]): Promise<string> {
  const parts = await Promise.all(
    servers.map(async (s) => {
      const r = await s.sh("tail -n 25 /var/log/pods/kube-system_kube-vip*/kube-vip/*.log 2>&1", {
        reject: false,
      });
      return `--- ${s.name}\n${r.stdout}`;
    }),
  );
  return parts.join("\n");
}

/** Does the apiserver on `ip` answer /readyz (seen from `from`)? */
async function apiReadyOn(from: WorldNode, ip: string): Promise<boolean> {
  const r = await from.exec("curl", ["-fsSk", "--max-time", "3", `https://${ip}:6443/readyz`], {
    reject: false,
  });
  return r.exitCode === 0 && r.stdout.trim() === "ok";
}

const reason = cannotRun();
t.test("the VIP moves off a stopped or killed holder", { skip: reason ?? false }, async (t) => {
  const cluster = await startCluster(t, { servers: 3, agents: 1, vip: true, spareAgents: 1 });
  const vip = cluster.world.vip;
  const servers = cluster.servers;
  const agent1 = cluster.world.node("agent-1");
  const first = ["server-1", "server-2", "server-3", "agent-1"];
  await enrol(t, cluster, first);
  await cluster.waitForNodes(first, "joined", 300_000);

  // 1. muster's stop (systemctl stop, rke2-killall.sh) on the holder.
  let moved: Awaited<ReturnType<typeof failover>>;
  try {
    moved = await failover(servers, agent1, vip, 60_000);
  } catch (err) {
    t.fail((err as Error).message, { diagnostic: true, logs: await kubeVipLogs(servers) });
    return;
  }
  t.not(moved.to, moved.from, `the VIP moved ${moved.from} -> ${moved.to} (${moved.seconds} s)`);
  t.ok(moved.apiReachable, "the API answers through the VIP after the move");
  const to = cluster.world.node(moved.to);
  t.same(await arpAnswers(agent1, vip), [await macOf(to)], "only the new holder answers ARP for the VIP");
  t.same(await vipHolders(servers, vip), [moved.to], "the stopped server no longer has the VIP");

  // 2. An agent added after the move joins through the VIP.
  const spare = "agent-2";
  const agentCmd = await cluster.joinCommand("agent");
  const r = await cluster.bootstrap(cluster.world.node(spare), agentCmd.command);
  t.equal(r.exitCode, 0, `bootstrap on ${spare} succeeded`, { output: r.all });
  await cluster.waitForNodes([spare], "joined", 180_000);
  t.equal(
    (await rke2Config(cluster.world.node(spare)))["server"],
    `https://${vip}:9345`,
    `${spare} registered through the VIP`,
  );

  // 3. The stopped server comes back (quorum needs two of three), then the holder loses power
  // (lab kill): one of the other two takes the VIP.
  const stopped = cluster.world.node(moved.from);
  await stopped.sh("systemctl start rke2-server");
  await cluster.waitFor(
    `${stopped.name}'s apiserver to answer again`,
    async () => ((await apiReadyOn(agent1, stopped.ip)) ? true : undefined),
    120_000,
  );
  const rest = servers.filter((s) => s.name !== moved.to);
  const toMac = await macOf(to);
  await powerOff(to);
  const deadline = Date.now() + 60_000;
  let holders: string[] = [];
  let macs: string[] = [];
  while (Date.now() < deadline) {
    holders = await vipHolders(rest, vip);
    macs = holders.length === 1 ? await arpAnswers(agent1, vip, true) : [];
    if (holders.length === 1 && macs.length === 1 && macs[0] !== toMac) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (holders.length !== 1)
    t.fail("no single server took the VIP after power loss", { holders, logs: await kubeVipLogs(rest) });
  t.equal(holders.length, 1, `the VIP moved to ${holders.join(", ")} after ${to.name} lost power`);
  const survivor = cluster.world.node(holders[0] ?? rest[0]!.name);
  t.same(macs, [await macOf(survivor)], "an agent sees only the new holder's MAC for the VIP");
  await cluster.waitFor(
    "the API to answer through the VIP after power loss",
    async () => ((await apiThroughVip(agent1, vip)) ? true : undefined),
    60_000,
  );
  t.pass("the API answers through the VIP after power loss");
});
