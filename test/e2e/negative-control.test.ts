// The negative control: RKE2 installed and started by hand, without muster, two joining servers
// started in the same instant. The simulator's real etcd refuses the second learner, so one of the two
// first starts fails: the failure the coordinator's join lease exists to prevent.
import { readFile, writeFile } from "node:fs/promises";
import { RKE2_VERSION } from "@muster/lab/cluster/setup";
import type { SimDurations, TestCluster } from "@muster/lab/cluster/test-cluster";
import type { WorldNode } from "@muster/lab/world/world";
import t from "tap";
import { cannotRun, startCluster } from "./scenario.ts";

// Learners wait up to 10 s for promotion, so the first joiner is still a learner when the second adds itself.
const SLOW_PROMOTE: SimDurations = {
  initSeconds: 0,
  joinSeconds: 0,
  agentSeconds: 0,
  promoteIntervalSeconds: 10,
};
const ARTIFACTS = "/tmp/rke2-artifacts";
const ETCD_REFUSAL = /etcdserver: (too many learner members in cluster|unhealthy cluster)/;

/** What the agent's install phase does, by hand: air-gap artifacts from the mirror, RKE2's installer. */
async function installRke2(cluster: TestCluster, node: WorldNode): Promise<void> {
  const m = cluster.mirrorUrl;
  const release = `${m}/rke2/${RKE2_VERSION}`;
  await node.sh(
    [
      "set -e",
      `mkdir -p ${ARTIFACTS}`,
      `curl -fsS -o ${ARTIFACTS}/sha256sum-amd64.txt ${release}/sha256sum-amd64.txt`,
      `curl -fsS -o ${ARTIFACTS}/rke2.linux-amd64.tar.gz ${release}/rke2.linux-amd64.tar.gz`,
      `curl -fsS -o /tmp/install.sh ${m}/install.sh`,
      `INSTALL_RKE2_TYPE=server INSTALL_RKE2_ARTIFACT_PATH=${ARTIFACTS} ARCH=amd64 sh /tmp/install.sh`,
    ].join("\n"),
  );
}

async function writeConfig(node: WorldNode, lines: string[]): Promise<void> {
  await node.sh("mkdir -p /etc/rancher/rke2");
  await writeFile(node.path("/etc/rancher/rke2/config.yaml"), `${lines.join("\n")}\n`, { mode: 0o600 });
}

const reason = cannotRun();
t.test(
  "without the coordinator, two servers joining at once collide in etcd",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, {
      servers: 3,
      agents: 0,
      coordinator: false,
      durations: SLOW_PROMOTE,
    });
    const [init, a, b] = cluster.servers as [WorldNode, WorldNode, WorldNode];
    await Promise.all(cluster.servers.map((n) => installRke2(cluster, n)));

    await writeConfig(init, [`node-ip: ${init.ip}`]);
    const started = await init.exec("systemctl", ["enable", "--now", "rke2-server"], {
      reject: false,
      all: true,
      timeout: 120_000,
    });
    t.equal(started.exitCode, 0, "the init server started", { output: started.all });
    const token = (await readFile(init.path("/var/lib/rancher/rke2/server/token"), "utf8")).trim();
    t.match(token, /^K10[0-9a-f]{64}::server:/, "the init server wrote its token");
    for (const n of [a, b])
      await writeConfig(n, [`server: https://${init.ip}:9345`, `token: ${token}`, `node-ip: ${n.ip}`]);

    // Both joiners in the same instant, as an operator pasting the join command twice would.
    const results = await Promise.all(
      [a, b].map((n) =>
        n.exec("systemctl", ["start", "rke2-server"], { reject: false, all: true, timeout: 120_000 }),
      ),
    );
    const outcomes = await Promise.all(
      [a, b].map(async (n, i) => ({
        node: n.name,
        exitCode: results[i]!.exitCode,
        output: results[i]!.all ?? "",
        journal: await cluster.journal(n, "rke2-server"),
      })),
    );
    const refused = outcomes.filter((o) => ETCD_REFUSAL.test(o.journal));
    t.ok(refused.length >= 1, "etcd refused a joiner: too many learners (or unhealthy cluster)", {
      outcomes: outcomes.map((o) => ({ node: o.node, exitCode: o.exitCode, output: o.output })),
    });
    for (const o of refused) {
      t.not(o.exitCode, 0, `${o.node}'s first start failed`);
      t.match(o.output, /Job for rke2-server\.service failed/, `${o.node}: systemctl says the job failed`);
      t.match(o.journal, /level=fatal msg="etcd cluster join failed: /, `${o.node}'s rke2 exited on it`);
    }
    t.comment(
      outcomes
        .map(
          (o) => `${o.node}: exit ${o.exitCode}; ${o.journal.match(ETCD_REFUSAL)?.[0] ?? "no etcd refusal"}`,
        )
        .join("\n"),
    );
  },
);
