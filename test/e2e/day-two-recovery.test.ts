// Day two in the lab, the recovery half: a server loses power and is removed with --force; its
// machine, switched on again with its old data dir and re-bootstrapped, is cleaned and rejoins under
// its name; then its graceful removal survives a kill -9 of the coordinator mid-way and completes
// with its steps in RKE2's order.
import { existsSync } from "node:fs";
import type { OperationAccepted, OperationView } from "@muster/shared";
import t from "tap";
import {
  FIRST,
  HEARTBEAT,
  NODE_GRACE,
  NODE_LOST,
  operation,
  REMOVAL_ORDER,
  untilEnded,
  voters,
} from "./day-two-kit.ts";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

const reason = cannotRun();
t.test(
  "day two: forced removal, rejoin with the old data dir, coordinator crash mid-removal",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, {
      servers: 3,
      agents: 1,
      spec: { timeouts: { serverJoin: 300, agentJoin: 300, heartbeat: HEARTBEAT, nodeLost: NODE_LOST } },
    });
    await enrol(t, cluster, FIRST);
    await cluster.waitForNodes(FIRST, "joined", 240_000);
    await voters(cluster, ["server-1", "server-2", "server-3"]);
    const init = (await cluster.nodes()).find((n) => n.init)!.name;
    const victim = ["server-3", "server-2"].find((s) => s !== init)!;
    const survivor = ["server-1", "server-2", "server-3"].find((s) => s !== init && s !== victim)!;

    await t.test("a lost server removed with --force", async (t) => {
      const killed = await cluster.kill(cluster.world.node(victim));
      t.ok(killed.length > 0, `${victim}'s processes were killed (${killed.length})`);
      await cluster.waitForNodes([victim], "lost", (HEARTBEAT + NODE_GRACE + NODE_LOST + 90) * 1000);
      const accepted = await cluster.api.request<OperationAccepted>(
        "DELETE",
        `/v1/nodes/${victim}?force=true`,
      );
      t.equal(accepted.status, 202, "removal accepted", { body: accepted.body });
      const op = await untilEnded(cluster, accepted.body.operation.id);
      t.equal(op.state, "succeeded", "the forced removal succeeded", { op });
      await voters(cluster, [init, survivor]);
    });

    await t.test(
      "the removed server's machine, back with its old data dir, is cleaned and rejoins",
      async (t) => {
        const machine = cluster.world.node(victim);
        t.ok(
          existsSync(machine.path("/var/lib/rancher/rke2/server/db")),
          `${victim} still has its old server/db`,
        );
        await cluster.powerOn(machine);
        // A reinstall: the muster agent gone with the old system, RKE2's data dir left behind.
        const cmd = (await cluster.joinCommand("server")).command;
        const wiped = await cluster.bootstrap(machine, cmd.replace(/--token \S+$/, "--uninstall"));
        t.equal(wiped.exitCode, 0, "the old muster agent is gone", { output: wiped.all });
        // `curl | sh` exits 0 when curl fails (sh reads an empty script): look at the outcome.
        t.notOk(existsSync(machine.path("/etc/muster/agent.yaml")), "its credential with it", {
          output: wiped.all,
        });
        const r = await cluster.bootstrap(machine, cmd);
        t.equal(r.exitCode, 0, "re-bootstrapped", { output: r.all });
        // The same machine as the removed node (its machine id): no identity moves, no approval asked.
        await cluster.waitForNodes([victim], "joined", 180_000);
        await voters(cluster, [init, survivor, victim]);
        const ops = (await cluster.api.get<{ operations: OperationView[] }>("/v1/operations")).operations;
        const rejoin = ops.find((o) => o.type === "rejoin" && o.node === victim);
        t.ok(rejoin, "a rejoin operation ran");
        t.equal(rejoin?.state, "succeeded", "the cleanup succeeded", { rejoin });
        t.same(
          rejoin?.steps.map((s) => s.name),
          [
            "remove its stale etcd member",
            "wipe its old server/db",
            "delete its stale Node and node-password secret",
            "release it to join",
          ],
          "stale member, server/db, node-password secret: cleaned before the join",
        );
        const view = await cluster.cluster();
        t.equal(view.phase, "ready", "the cluster is ready again", { warnings: view.warnings });
      },
    );
    await t.test(
      "a graceful removal, the coordinator killed mid-way: resumes and completes in order",
      async (t) => {
        const accepted = await cluster.api.request<OperationAccepted>("DELETE", `/v1/nodes/${victim}`);
        t.equal(accepted.status, 202, "removal accepted", { body: accepted.body });
        const id = accepted.body.operation.id;
        const atCrash = await cluster.waitFor(
          "the removal to be past its first step",
          async () => {
            const op = await operation(cluster, id);
            if (op.state !== "running") throw new Error(`operation ${op.state} before the crash`);
            return op.steps.filter((s) => s.endedAt).length >= 1 ? op : undefined;
          },
          120_000,
          100,
        );
        await cluster.coordinator.kill();
        t.comment(
          `killed the coordinator (SIGKILL) at: ${atCrash.steps.map((s) => `${s.name}=${s.state}`).join(", ")}`,
        );
        await cluster.coordinator.start();
        const op = await untilEnded(cluster, id);
        t.equal(op.state, "succeeded", "the removal completed after the restart", { op });
        t.same(
          op.steps.map((s) => s.name),
          REMOVAL_ORDER,
          "the steps in RKE2's order",
        );
        for (const s of op.steps)
          t.ok(s.state === "succeeded" || s.state === "skipped", `${s.name}: ${s.state}`);
        for (const [i, s] of atCrash.steps.entries())
          if (s.endedAt)
            t.equal(op.steps[i]?.endedAt, s.endedAt, `${s.name} done before the crash was not re-run`);
        const starts = op.steps.map((s) => Date.parse(s.startedAt ?? ""));
        t.ok(
          starts.every((v, i) => i === 0 || (!Number.isNaN(v) && v >= starts[i - 1]!)),
          "each step started after the one before it",
        );
        for (const name of [
          "cordon",
          "drain",
          "remove its etcd member",
          "stop RKE2",
          "uninstall RKE2",
          "delete its Node",
        ])
          t.equal(op.steps.find((s) => s.name === name)?.state, "succeeded", `${name} ran (reachable node)`);
        await voters(cluster, [init, survivor]);
        t.notOk(
          (await cluster.kubernetesNodes(cluster.world.node(init))).includes(victim),
          "the Node is deleted",
        );
        t.notOk(
          existsSync(cluster.world.node(victim).path("/var/lib/rancher/rke2/server/db")),
          "RKE2 uninstalled on it (no server/db left)",
        );
        t.equal((await cluster.nodes()).find((n) => n.name === victim)?.state, "removed");
      },
    );
  },
);
