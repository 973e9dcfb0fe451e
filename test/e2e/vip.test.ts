// A cluster whose registration address is a VIP run by kube-vip, which muster deploys: every joiner
// registers through the VIP, its manifest and image are on every server, exactly one server answers
// ARP for it and the API answers through it. (Failover is not covered here yet.)
import { readFile } from "node:fs/promises";
import { apiThroughVip, arpAnswers, macOf, vipHolders } from "@muster/lab/cluster/vip";
import type { WorldNode } from "@muster/lab/world/world";
import t from "tap";
import { parse } from "yaml";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

async function rke2Config(node: WorldNode): Promise<Record<string, unknown>> {
  return parse(await readFile(node.path("/etc/rancher/rke2/config.yaml"), "utf8")) as Record<string, unknown>;
}

const reason = cannotRun();
t.test(
  "3 servers + 1 agent form through a kube-vip VIP muster deploys",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, { servers: 3, agents: 1, vip: true });
    const vip = cluster.world.vip;
    const servers = cluster.servers;
    const agent1 = cluster.world.node("agent-1");
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
  },
);
