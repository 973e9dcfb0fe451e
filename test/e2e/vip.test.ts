// A cluster whose registration address is a VIP run by kube-vip, which muster deploys: every joiner
// registers through the VIP, exactly one server answers ARP for it, and after the holder's
// rke2-server is stopped (with rke2-killall.sh, as muster stops it: a plain stop leaves kube-vip
// holding the VIP, kube-vip#1786) the VIP moves, the API answers through it, and an agent added
// afterwards joins through it.
import { readFile } from "node:fs/promises";
import type { WorldNode } from "@muster/lab/world/world";
import t from "tap";
import { parse } from "yaml";
import { cannotRun, enrol, startCluster } from "./scenario.ts";
import { apiThroughVip, arpAnswers, macOf, vipHolders } from "./vip.ts";

async function rke2Config(node: WorldNode): Promise<Record<string, unknown>> {
  return parse(await readFile(node.path("/etc/rancher/rke2/config.yaml"), "utf8")) as Record<string, unknown>;
}

const reason = cannotRun();
t.test(
  "3 servers + 1 agent through a kube-vip VIP; failover; a later agent joins",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, { servers: 3, agents: 1, spareAgents: 1, vip: true });
    const vip = cluster.world.vip;
    const servers = cluster.servers;
    const [agent1, agent2] = cluster.agents as [WorldNode, WorldNode];
    const first = ["server-1", "server-2", "server-3", "agent-1"];
    await enrol(t, cluster, first);
    await cluster.waitForNodes(first, "joined", 300_000);

    const view = await cluster.cluster();
    t.equal(view.registrationAddress, vip, "the VIP is the registration address");
    t.equal(view.phase, "ready");

    const init = (await cluster.nodes()).find((n) => n.init)!.name;
    for (const name of first.filter((n) => n !== init)) {
      const config = await rke2Config(cluster.world.node(name));
      t.equal(config["server"], `https://${vip}:9345`, `${name} registered through the VIP`);
    }
    for (const s of servers) {
      const config = await rke2Config(s);
      t.ok((config["tls-san"] as string[]).includes(vip), `${s.name}: VIP in tls-san`);
      t.ok(
        (
          await readFile(s.path("/var/lib/rancher/rke2/server/manifests/muster-kube-vip.yaml"), "utf8")
        ).includes("kube-vip-ds"),
        `${s.name}: kube-vip's manifest written by its plan`,
      );
      t.ok(
        (await readFile(s.path("/var/lib/rancher/rke2/agent/images/kube-vip-v0.9.2.tar")).catch(
          () => null,
        )) !== null,
        `${s.name}: kube-vip's image placed from the coordinator`,
      );
    }
    t.notOk(
      "server" in (await rke2Config(cluster.world.node(init))),
      "the init server registers with nobody",
    );

    const holders = await vipHolders(servers, vip);
    t.equal(holders.length, 1, `exactly one server holds the VIP (${holders.join(", ")})`);
    const holder = cluster.world.node(holders[0]!);
    const holderMac = await macOf(holder);
    t.same(await arpAnswers(agent1, vip), [holderMac], "an agent sees exactly the holder's MAC answer ARP");
    t.ok(await apiThroughVip(agent1, vip), "the API answers through the VIP");

    // Failover: stop rke2-server on the holder the way muster's stop does (stop, then rke2-killall.sh,
    // then delete the address SIGKILLed kube-vip left behind).
    const stoppedAt = Date.now();
    await holder.sh(
      `systemctl stop rke2-server; /usr/local/bin/rke2-killall.sh >/dev/null 2>&1; ip addr del ${vip}/32 dev eth0 2>/dev/null; true`,
    );
    const others = servers.filter((s) => s !== holder);
    const moved = await cluster.waitFor(
      "the VIP to move to another server",
      async () => {
        const now = await vipHolders(others, vip);
        if (now.length !== 1) return undefined;
        const macs = await arpAnswers(agent1, vip);
        return macs.length === 1 && macs[0] !== holderMac ? now[0] : undefined;
      },
      60_000,
      250,
    );
    t.comment(
      `VIP moved from ${holder.name} to ${moved} in ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s`,
    );
    t.same(await vipHolders([holder], vip), [], "the old holder no longer has the VIP");
    await cluster.waitFor(
      "the API through the moved VIP",
      async () => ((await apiThroughVip(agent1, vip)) ? true : undefined),
      60_000,
    );
    t.pass("the API answers through the VIP after failover");

    // An agent added afterwards joins through the moved VIP.
    const join = await cluster.joinCommand("agent");
    const r = await cluster.bootstrap(agent2, join.command);
    t.equal(r.exitCode, 0, "agent-2 bootstrapped", { output: r.all });
    await cluster.waitForNodes(["agent-2"], "joined", 240_000);
    t.equal(
      (await rke2Config(agent2))["server"],
      `https://${vip}:9345`,
      "agent-2 registered through the VIP",
    );
    t.ok(
      (await cluster.kubernetesNodes(cluster.world.node(moved))).includes("agent-2"),
      "agent-2 is a Kubernetes node",
    );
  },
);
