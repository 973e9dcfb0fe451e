// Restoring etcd from a snapshot on a 3-server + 1-agent cluster (docs/operations.md#restore-etcd-from-a-snapshot),
// with spec.backup.s3 pointing at the lab's S3-protocol server in its own machine: a backup through
// POST /v1/backups lands on the server's disk AND in the bucket (the object checked in the S3
// server's own storage), GET /v1/backups lists both locations; the local copy is then removed so the
// restore can only come from S3; a marker key written into etcd after it; POST /v1/restores of that
// snapshot followed to the end. Then the marker is gone, etcd has the
// three servers as voters, every node is joined and connected, and the rejoins after the reset never
// overlapped (etcd's own membership history, sampled throughout).

import { joinWindows, overlappingJoins } from "@muster/lab/cluster/membership";
import type { BackupList, OperationAccepted, OperationView } from "@muster/shared";
import t from "tap";
import { assertVoters, cannotRun, enrol, startCluster } from "./scenario.ts";

const SERVERS = ["server-1", "server-2", "server-3"];
const NAMES = [...SERVERS, "agent-1"];
const MARKER = "/muster-e2e/marker";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

const reason = cannotRun();
t.test(
  "a restore returns etcd to the snapshot and rejoins the servers one at a time",
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

    const restore = await cluster.api.post<OperationAccepted>("/v1/restores", { snapshot: snap.name });
    t.equal(restore.operation.type, "restore");
    const op = await wait(restore.operation.id, 900_000);
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
    const init = (await cluster.nodes()).find((n) => n.init)?.name;
    t.ok(
      op.steps.some((s) => s.name === `reset etcd on ${init} from ${snap.name}`),
      "etcd was reset on the init server",
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
