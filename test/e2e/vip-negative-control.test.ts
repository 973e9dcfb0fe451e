// Negative control for the VIP: the same cluster with kube-vip's manifest deleted on the server
// before RKE2 starts (nothing runs kube-vip, nothing holds the VIP) — an agent registering through
// the VIP never joins; it stays waiting with the gate's reason for the whole window.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { vipHolders } from "@muster/lab/cluster/vip";
import t from "tap";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

const MANIFEST = "/var/lib/rancher/rke2/server/manifests/muster-kube-vip.yaml";
const WINDOW_MS = 30_000;

const reason = cannotRun();
t.test(
  "without kube-vip's manifest a joiner via the VIP never joins",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, { servers: 1, agents: 1, vip: true });
    const vip = cluster.world.vip;
    const server = cluster.world.node("server-1");
    // Delete the manifest as soon as the agent's configure phase writes it, before RKE2 is installed
    // and started (the install downloads and unpacks the artifacts first).
    const manifest = server.path(MANIFEST);
    let deleted = 0;
    const remover = setInterval(() => {
      if (existsSync(manifest)) {
        rmSync(manifest, { force: true });
        deleted++;
      }
    }, 10);
    t.teardown(() => clearInterval(remover));

    await enrol(t, cluster, ["server-1"]);
    await cluster.waitForNodes(["server-1"], "joined", 300_000);
    t.ok(deleted > 0, "the plan wrote kube-vip's manifest and the test deleted it");
    const podLogs = server.path("/var/log/pods");
    const kubeVipPods = existsSync(podLogs) ? readdirSync(podLogs).filter((d) => d.includes("kube-vip")) : [];
    t.same(kubeVipPods, [], "kube-vip never ran on the server (the control is valid)");

    await enrol(t, cluster, ["agent-1"]);
    const deadline = Date.now() + WINDOW_MS;
    const states = new Set<string>();
    let lastReason = "";
    let rounds = 0;
    while (Date.now() < deadline) {
      const node = (await cluster.nodes()).find((n) => n.name === "agent-1");
      if (node) states.add(node.state);
      const step = (await cluster.plan()).find((s) => s.node === "agent-1");
      if (step) lastReason = `${step.status}: ${step.reason}`;
      rounds++;
      await new Promise((r) => setTimeout(r, 500));
    }
    t.ok(rounds > 5, `observed the joiner ${rounds} times over ${WINDOW_MS / 1000} s`);
    t.notOk(states.has("joined"), `agent-1 never joined (states seen: ${[...states].join(", ")})`);
    t.notOk(states.has("joining"), "agent-1's plan was never released");
    t.match(
      lastReason,
      new RegExp(`^waiting: waiting for the registration address ${vip.replaceAll(".", "\\.")} \\(the VIP`),
      "it waits with the gate's reason naming the VIP",
    );
    t.same(await vipHolders(cluster.servers, vip), [], "nobody holds the VIP");
  },
);
