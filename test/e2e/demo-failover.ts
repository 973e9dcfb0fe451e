// `npm run demo -- --failover`: after the cluster formed, stop rke2-server on the VIP holder (as
// muster stops a server: with rke2-killall.sh, the stale address deleted) and report where the VIP
// went, how long it took, and whether the API answers through it.
import type { TestCluster } from "@muster/lab/cluster/test-cluster";
import { type Failover, failover } from "@muster/lab/cluster/vip";

export async function demoFailover(cluster: TestCluster, say: (line: string) => void): Promise<Failover> {
  const vip = cluster.world.vip;
  const servers = cluster.servers;
  say(`\n  failover: stopping rke2-server on the VIP holder (VIP ${vip}) …`);
  // Watch from an agent when there is one, else from the last server (never the holder: it is
  // stopped, and failover() refuses an observer that holds the VIP by checking MACs).
  const observer = cluster.agents[0] ?? servers.at(-1)!;
  const result = await failover(servers, observer, vip);
  say(
    `  failover: VIP moved ${result.from} -> ${result.to} in ${result.seconds.toFixed(1)} s; API through the VIP ${result.apiReachable ? "answers" : "does not answer"}`,
  );
  return result;
}
