import { parseArgs } from "node:util";
import { TestCluster } from "@muster/lab/cluster/test-cluster";
import { failover } from "@muster/lab/cluster/vip";
import type { WorldNode } from "@muster/lab/world/world";

// npm run bench:failover [-- --runs 5 --json]   (builds a lab world: run it through the slot wrapper)
// A 3-server cluster (+1 agent as the observer) with the VIP kube-vip runs, lease 5/3/1 s. Each run
// stops rke2-server on the VIP holder the way muster does (systemctl stop, crictl stop of kube-vip,
// rke2-killall.sh, stale address deleted) and times, from the start of the stop, until the observer's ARP shows exactly one
// MAC for the VIP and it is another server's; the API must then answer through the VIP. The stopped
// server is started again (and its apiserver answers) before the next run. Prints each run and the
// median; `--json`: the last line is {"runs":[seconds...],"medianSeconds","goalSeconds":5}.

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "5" }, json: { type: "boolean", default: false } },
});
const runs = Math.min(20, Math.max(1, Number(args.runs) || 5));

async function apiReadyOn(from: WorldNode, ip: string): Promise<boolean> {
  const r = await from.exec("curl", ["-fsSk", "--max-time", "3", `https://${ip}:6443/readyz`], {
    reject: false,
  });
  return r.exitCode === 0 && r.stdout.trim() === "ok";
}

const cluster = await TestCluster.start({ servers: 3, agents: 1, vip: true });
try {
  const server = await cluster.joinCommand("server");
  const agent = await cluster.joinCommand("agent");
  const names = ["server-1", "server-2", "server-3", "agent-1"];
  const results = await Promise.all(
    names.map((n) =>
      cluster.bootstrap(cluster.world.node(n), n.startsWith("server") ? server.command : agent.command),
    ),
  );
  results.forEach((r, i) => {
    if (r.exitCode !== 0) throw new Error(`bootstrap on ${names[i]} failed: ${r.all}`);
  });
  await cluster.waitForNodes(names, "joined", 300_000);
  const observer = cluster.world.node("agent-1");
  const seconds: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const f = await failover(cluster.servers, observer, cluster.world.vip);
    if (!f.apiReachable) throw new Error(`run ${i}: the API did not answer through the VIP`);
    seconds.push(f.seconds);
    console.log(`run ${i}: VIP ${f.from} -> ${f.to} in ${f.seconds.toFixed(1)} s, API answers`);
    const stopped = cluster.world.node(f.from);
    await stopped.sh("systemctl start rke2-server");
    await cluster.waitFor(
      `${stopped.name}'s apiserver`,
      async () => ((await apiReadyOn(observer, stopped.ip)) ? true : undefined),
      120_000,
    );
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  console.log(`median of ${runs}: ${median.toFixed(1)} s (goal < 5 s)`);
  if (args.json) console.log(JSON.stringify({ runs: seconds, medianSeconds: median, goalSeconds: 5 }));
} finally {
  await cluster.down();
}
