// Restoring etcd from a snapshot on a 3-server + 1-agent cluster (docs/operations.md#restore-etcd-from-a-snapshot),
// with spec.backup.s3 pointing at the lab's S3-protocol server in its own machine: a backup through
// POST /v1/backups lands on the server's disk AND in the bucket (the object checked in the S3
// server's own storage), GET /v1/backups lists both locations; the local copy is then removed so the
// restore can only come from S3; a marker key written into etcd after it; POST /v1/restores of that
// snapshot followed to the end. Then the marker is gone, etcd has the
// three servers as voters, every node is joined and connected, and the rejoins after the reset never
// overlapped (etcd's own membership history, sampled throughout).
//
// Mid-restore the coordinator is killed (SIGKILL) and started again on the same state dir: while the
// first server after the reset is rejoining (its server/db wiped, its rke2-server starting). That is
// past the point of no return (the cluster reset, which must never run twice) and inside the one
// step that would do harm if it ran again blindly (a second wipe of a member that is joining), with
// a rejoin after it that the restarted coordinator must still keep from overlapping. The same
// operation then ends `succeeded`; its record shows the restart on that step alone; the reset ran
// once, before the crash; each rejoining server's rke2-server was started once and joined etcd once.

import { joinWindows, overlappingJoins } from "@muster/lab/cluster/membership";
import { writeSimDefaults } from "@muster/lab/cluster/setup";
import { FAST } from "@muster/lab/cluster/test-cluster";
import type { BackupList, OperationAccepted, OperationView } from "@muster/shared";
import t from "tap";
import { assertVoters, cannotRun, enrol, startCluster } from "./scenario.ts";

const SERVERS = ["server-1", "server-2", "server-3"];
const NAMES = [...SERVERS, "agent-1"];
const MARKER = "/muster-e2e/marker";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

const reason = cannotRun();
t.test(
  "a restore returns etcd to the snapshot and rejoins the servers one at a time, resuming after a kill -9 of the coordinator mid-rejoin",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, { servers: 3, agents: 1, s3: true });
    const s3 = cluster.s3!;
    await enrol(t, cluster, NAMES);
    await cluster.waitForNodes(NAMES, "joined", 240_000);
    await assertVoters(t, cluster, SERVERS);
    const coord = cluster.world.coordinator;
    const etcd = (ip: string, op: "put" | "range", body: object) =>
      coord.exec(
        "curl",
        ["-fsS", "-X", "POST", `http://${ip}:2379/v3/kv/${op}`, "-d", JSON.stringify(body)],
        {
          reject: false,
        },
      );
    /** The marker's value as any answering server's etcd sees it ("" when absent), or undefined when none answers. */
    const readMarker = async (): Promise<string | undefined> => {
      for (const s of cluster.servers) {
        const r = await etcd(s.ip, "range", { key: b64(MARKER) });
        if (r.exitCode !== 0) continue;
        const kvs = (JSON.parse(r.stdout) as { kvs?: { value: string }[] }).kvs ?? [];
        return kvs.length === 0 ? "" : Buffer.from(kvs[0]!.value, "base64").toString("utf8");
      }
      return undefined;
    };

    const wait = (id: string, ms: number) =>
      cluster.waitFor(
        `operation ${id} to end`,
        async () => {
          const op = await cluster.api.get<OperationView>(`/v1/operations/${id}`);
          return op.state === "succeeded" || op.state === "failed" ? op : undefined;
        },
        ms,
        1000,
      );

    // A backup, listed.
    const backup = await cluster.api.post<OperationAccepted>("/v1/backups", { name: "e2e" });
    const backupOp = await wait(backup.operation.id, 120_000);
    t.equal(backupOp.state, "succeeded", "the backup operation succeeded", { op: backupOp });
    const list = await cluster.api.get<BackupList>("/v1/backups");
    const copies = list.backups.filter((b) => b.name.startsWith("e2e-"));
    t.same(
      copies.map((b) => b.location).sort(),
      ["local", "s3"],
      "GET /v1/backups lists it locally and in S3",
      {
        list,
      },
    );
    const snap = copies.find((b) => b.location === "s3");
    const local = copies.find((b) => b.location === "local");
    if (!snap || !local) return;
    t.ok(snap.size > 0, "the snapshot has content");
    t.equal(snap.size, local.size, "the S3 copy is the whole snapshot");
    t.ok(s3.objects().includes(snap.name), "the object is in the S3 server's storage", {
      objects: s3.objects(),
    });
    // Only S3 holds it from now on: the restore must fetch it from the bucket.
    const holder = cluster.world.node(local.node);
    const rm = await holder.exec("rm", [`/var/lib/rancher/rke2/server/db/snapshots/${local.name}`], {
      reject: false,
    });
    t.equal(rm.exitCode, 0, "local copy removed", { stderr: rm.stderr });
    const listedNow = (await cluster.api.get<BackupList>("/v1/backups")).backups.filter(
      (b) => b.name === snap.name,
    );
    t.same(
      listedNow.map((b) => b.location),
      ["s3"],
      "listed only in S3 now",
    );
    // The S3 secret reaches the servers' config.yaml only: never an API answer or an event.
    const shown = JSON.stringify([list, await cluster.cluster(), await cluster.events()]);
    t.notOk(shown.includes(s3.secretKey), "the S3 secret key is in no API answer or event");

    // The marker, written after the snapshot.
    const put = await etcd(cluster.servers[0]!.ip, "put", { key: b64(MARKER), value: b64("after-backup") });
    t.equal(put.exitCode, 0, "marker written", { stderr: put.stderr });
    t.equal(await readMarker(), "after-backup", "etcd has the marker");
    const samplesBefore = cluster.membership().length;

    // The servers that will rejoin take 6 s to start (half before their etcd join): a window to crash
    // the coordinator in while one of them is mid-rejoin. Read at each start of rke2-server.
    const init = (await cluster.nodes()).find((n) => n.init)?.name;
    const rejoiners = cluster.servers.filter((s) => s.name !== init);
    for (const s of rejoiners) await writeSimDefaults(s, { ...FAST, joinSeconds: 6 });
    /** How many times systemd started rke2-server on the node (the simulator logs this at each start). */
    const starts = async (name: string) =>
      (await cluster.journal(cluster.world.node(name), "rke2-server"))
        .split("\n")
        .filter((l) => l.includes("Starting rke2 ")).length;
    const startsBefore = new Map<string, number>();
    for (const s of rejoiners) startsBefore.set(s.name, await starts(s.name));

    const restore = await cluster.api.post<OperationAccepted>("/v1/restores", { snapshot: snap.name });
    t.equal(restore.operation.type, "restore");
    const id = restore.operation.id;

    // Crash while the first rejoin is running and its server's rke2-server was started again (so the
    // stop and the wipe of its server/db are done): polled, not timed.
    const atCrash = await cluster.waitFor(
      "the first rejoin to be starting its server's rke2-server",
      async () => {
        const o = await cluster.api.get<OperationView>(`/v1/operations/${id}`);
        const index = o.steps.findIndex((s) => s.name.startsWith("rejoin "));
        const step = o.steps[index];
        // Missed (the window is 6 s, the poll 0.2 s): ended at once, not after a long timeout.
        if (!step || o.state !== "running" || (step.state !== "pending" && step.state !== "running"))
          return { missed: o };
        const node = /^rejoin (\S+)/.exec(step.name)![1]!;
        if (step.state !== "running" || (await starts(node)) <= startsBefore.get(node)!) return undefined;
        return { index, node, op: o };
      },
      600_000,
      200,
    );
    if ("missed" in atCrash) {
      t.fail("the first rejoin was not caught running", { op: atCrash.missed });
      return;
    }
    const lastSeqBeforeCrash = (await cluster.events()).at(-1)?.seq ?? 0;
    await cluster.coordinator.kill();
    const crashedAt = Date.now();
    t.comment(`killed the coordinator (SIGKILL) during "${atCrash.op.steps[atCrash.index]!.name}"`);
    await cluster.coordinator.start();

    const op = await wait(id, 900_000);
    t.equal(op.state, "succeeded", "the restore succeeded", { op });
    t.same(
      op.steps.filter((s) => s.state === "failed"),
      [],
      "no step failed",
    );
    const fetched = await holder.exec(
      "test",
      ["-s", `/var/lib/rancher/rke2/server/db/snapshots/${snap.name}`],
      {
        reject: false,
      },
    );
    t.equal(fetched.exitCode, 0, `RKE2 downloaded ${snap.name} from S3 onto ${holder.name} to restore it`);

    await cluster.waitForNodes(NAMES, "joined", 240_000);
    await cluster.waitFor(
      "every node to be connected",
      async () => ((await cluster.nodes()).every((n) => n.connected) ? true : undefined),
      240_000,
    );
    t.equal(
      await cluster.waitFor("a server's etcd to answer", readMarker, 120_000),
      "",
      "the marker written after the snapshot is gone",
    );
    await assertVoters(t, cluster, SERVERS);
    // Every server's own etcd sees the same three voters and no marker (one cluster, not a second
    // one formed by a wiped server).
    for (const s of cluster.servers) {
      const r = await etcd(s.ip, "range", { key: b64(MARKER) });
      t.equal(r.exitCode, 0, `${s.name}'s etcd answers`);
      t.notOk(JSON.parse(r.stdout || "{}").kvs, `${s.name}'s etcd has no marker`);
      const m = await coord.exec("curl", [
        "-fsS",
        "-X",
        "POST",
        `http://${s.ip}:2379/v3/cluster/member/list`,
        "-d",
        "{}",
      ]);
      const members = (
        JSON.parse(m.stdout) as { members: { ID: string; name: string; isLearner?: boolean }[] }
      ).members;
      t.same(
        members.map((x) => `${x.name}${x.isLearner ? " (learner)" : ""}`).sort(),
        SERVERS,
        `${s.name}'s etcd lists the three servers as voters`,
      );
    }
    const resetStep = `reset etcd on ${init} from ${snap.name}`;
    t.ok(
      op.steps.some((s) => s.name === resetStep),
      "etcd was reset on the init server",
    );

    // Resumed, not restarted: the restart is recorded on the step that was running and on no other;
    // every step before it ended before the crash, in one attempt, and did not run again.
    const rejoinStep = op.steps[atCrash.index]!;
    t.same(
      op.steps.filter((s) => s.restarts).map((s) => [s.name, s.restarts]),
      [[rejoinStep.name, 1]],
      "the restart is recorded on the rejoin that was running, once",
      { steps: op.steps },
    );
    t.ok(
      rejoinStep.state === "succeeded" || rejoinStep.state === "skipped",
      `the resumed rejoin ended ${rejoinStep.state}: ${rejoinStep.message}`,
    );
    t.equal(rejoinStep.attempts, 1, "the resumed rejoin ran again as the same attempt (same task ids)");
    const before = op.steps.slice(0, atCrash.index);
    t.same(
      before.filter((s) => s.attempts !== 1 || !s.endedAt || Date.parse(s.endedAt) >= crashedAt),
      [],
      "every step before the rejoin ended before the crash, in one attempt",
    );
    t.same(
      before.map((s) => s.state),
      atCrash.op.steps.slice(0, atCrash.index).map((s) => s.state),
      "and kept the outcome it had at the crash",
    );
    const events = await cluster.events();
    const ours = events.filter((e) => e.message.includes(id));
    t.same(
      ours.filter((e) => e.type === "operation.started").map((e) => e.message),
      [
        `restore resumed after a coordinator restart at step ${atCrash.index + 1} (${rejoinStep.name}) (operation ${id})`,
      ],
      "one operation.started event says where the restarted coordinator resumed",
    );
    t.ok(
      ours.some((e) => e.type === "operation.started" && e.seq > lastSeqBeforeCrash),
      "recorded by the restarted coordinator",
    );
    t.equal(
      ours.filter((e) => e.type === "operation.step" && e.message.endsWith(`: ${resetStep} started`)).length,
      1,
      "the cluster reset step was started once",
    );
    t.equal(
      ours.filter((e) => e.type === "operation.step" && e.message.endsWith(`: ${rejoinStep.name} started`))
        .length,
      2,
      "the rejoin step was started by each coordinator",
    );
    // The world agrees: the re-run did not stop, wipe and start the rejoining server again.
    for (const s of rejoiners)
      t.equal(
        (await starts(s.name)) - startsBefore.get(s.name)!,
        1,
        `rke2-server was started once on ${s.name} during the restore`,
      );

    // The rejoins, judged by etcd's membership after the restore started: members that appeared as
    // learners; never two learners at once, and their learner windows never overlap.
    const after = cluster.membership().slice(samplesBefore);
    const learnerNames = new Set(
      after.flatMap((s) => s.members.filter((m) => m.isLearner).map((m) => m.name)),
    );
    t.ok(learnerNames.size >= 1, "the other servers rejoined as learners", { learners: [...learnerNames] });
    t.ok(
      after.every((s) => s.members.filter((m) => m.isLearner).length <= 1),
      "etcd never had two learners at once during the restore",
    );
    t.same(overlappingJoins(joinWindows(after), Date.now()), [], "no two rejoin (learner) windows overlap");
    t.ok(
      after.some((s) => s.members.length === 1),
      "etcd was reset to one member",
    );
    // From the reset on, etcd only grew, by one member per rejoining server: the reset was not
    // repeated, and no server was wiped and added a second time.
    const fromReset = after.slice(after.findIndex((s) => s.members.length === 1));
    t.ok(
      fromReset.every((s, i) => i === 0 || s.members.length >= fromReset[i - 1]!.members.length),
      "after the reset etcd never lost a member",
      { sizes: fromReset.map((s) => s.members.length) },
    );
    const resetMember = fromReset[0]!.members[0]!.id;
    const added = new Set(
      fromReset.flatMap((s) => s.members.map((m) => m.id)).filter((m) => m !== resetMember),
    );
    t.equal(added.size, rejoiners.length, "etcd gained one member per rejoining server", {
      windows: joinWindows(fromReset),
    });
    // The registration probe sees the restarted servers on its next rounds: ready again, polled.
    const view = await cluster.waitFor(
      "the cluster to be ready again",
      async () => {
        const v = await cluster.cluster();
        return v.phase === "ready" ? v : undefined;
      },
      180_000,
    );
    t.equal(view.phase, "ready", "the cluster is ready again");
    t.equal(view.joinInFlight, null);
  },
);
