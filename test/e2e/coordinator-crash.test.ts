// kill -9 of the coordinator while a server joins, then a restart on the same state dir: the persisted
// join lease still names the joining server until it passes the readiness gate, nothing else joins
// meanwhile, the cluster completes, and the captured RKE2 token survives for the servers after it.
import { readFile } from "node:fs/promises";
import type { SimDurations } from "@muster/lab/cluster/test-cluster";
import t from "tap";
import { parse } from "yaml";
import {
  assertOneServerJoinAtATime,
  assertServerJoinsSerial,
  assertVoters,
  cannotRun,
  enrol,
  startCluster,
} from "./scenario.ts";

const SERVERS = ["server-1", "server-2", "server-3"];
// A joiner spends 8 s before its etcd join: a window to crash the coordinator in.
const SLOW_JOIN: SimDurations = {
  initSeconds: 0,
  joinSeconds: 8,
  agentSeconds: 0,
  promoteIntervalSeconds: 1,
};

const reason = cannotRun();
t.test(
  "a coordinator killed mid-join resumes with the same join lease",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, { servers: 3, agents: 0, durations: SLOW_JOIN });
    await enrol(t, cluster, SERVERS);

    // A non-init server holds the lease and its RKE2 is starting (the joiner's slow part).
    const { holder, init } = await cluster.waitFor(
      "a non-init server to be starting RKE2 under the join lease",
      async () => {
        const [view, nodes] = await Promise.all([cluster.cluster(), cluster.nodes()]);
        const initNode = nodes.find((n) => n.init);
        const h = nodes.find((n) => n.name === view.joinInFlight?.node);
        if (!initNode || !h || h.name === initNode.name || h.state !== "joining") return undefined;
        return h.phase?.startsWith("start") ? { holder: h.name, init: initNode.name } : undefined;
      },
      120_000,
      200,
    );
    const third = SERVERS.find((s) => s !== holder && s !== init)!;
    const lastSeqBeforeCrash = (await cluster.events()).at(-1)?.seq ?? 0;

    await cluster.coordinator.kill();
    t.comment(`killed the coordinator (SIGKILL) while ${holder} was joining`);
    await cluster.coordinator.start();

    // From the first answer after the restart until the holder joined, the lease names the holder.
    const seen: (string | null)[] = [];
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`${holder} still holds the join lease after 180 s`);
      const view = await cluster.cluster();
      const node = view.joinInFlight?.node ?? null;
      if (node !== holder) break;
      seen.push(node);
      await new Promise((r) => setTimeout(r, 200));
    }
    t.ok(seen.length > 0, `after the restart joinInFlight still named ${holder} (the persisted lease)`);
    const holderNow = (await cluster.nodes()).find((n) => n.name === holder);
    t.equal(holderNow?.state, "joined", `the lease ended only when ${holder} joined`);

    await cluster.waitForNodes(SERVERS, "joined", 180_000);

    const events = await assertOneServerJoinAtATime(t, cluster);
    for (const s of SERVERS)
      t.equal(
        events.filter((e) => e.type === "node.join.started" && e.node === s).length,
        1,
        `${s}'s plan was released once (no second release after the restart)`,
      );
    const thirdStart = events.find((e) => e.type === "node.join.started" && e.node === third);
    t.ok(
      thirdStart !== undefined && thirdStart.seq > lastSeqBeforeCrash,
      `${third}'s plan was released by the restarted coordinator`,
    );
    await assertServerJoinsSerial(t, cluster);
    await assertVoters(t, cluster, SERVERS);

    // The token captured before the crash is what the restarted coordinator handed to the third server.
    const initToken = (
      await readFile(cluster.world.node(init).path("/var/lib/rancher/rke2/server/token"), "utf8")
    ).trim();
    const thirdConfig = parse(
      await readFile(cluster.world.node(third).path("/etc/rancher/rke2/config.yaml"), "utf8"),
    ) as { token?: string; server?: string };
    t.equal(thirdConfig.token, initToken, `${third} joined with the cluster token captured before the crash`);

    const view = await cluster.cluster();
    t.equal(view.phase, "ready", "cluster is ready");
    t.same(view.servers, { total: 3, ready: 3, quorum: 2, faultTolerance: 1 });
    t.equal(view.joinInFlight, null, "no join in flight");
  },
);
