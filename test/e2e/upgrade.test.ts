// A rolling RKE2 upgrade in the lab (docs/operations.md#upgrade-rke2): 3 servers + 2 agents formed
// through a kube-vip VIP at RKE2_VERSION, then `POST /v1/upgrades` to the next minor release, which
// the lab's mirror also carries (rke2/<version>/, the spec's `{version}`). A downgrade and a skip of
// a minor release are refused first. The coordinator is killed with SIGKILL while the second server
// is being upgraded and started again: the same operation resumes and ends. Sampled from the
// coordinator's machine all along: every server's apiserver, so "never two servers down" is measured,
// not assumed. Afterwards every node runs the new release (`rke2 --version`, its Node's kubelet,
// `/version`), the spec names it, etcd still has the three servers as voters. Last, the server
// holding the VIP is removed: the VIP moves off it before its RKE2 stops for good.

import { NEXT_RKE2_VERSION, RKE2_VERSION } from "@muster/lab/cluster/setup";
import type { TestCluster } from "@muster/lab/cluster/test-cluster";
import { apiThroughVip, vipHolders } from "@muster/lab/cluster/vip";
import type { ClusterSpec, MusterEvent, OperationAccepted } from "@muster/shared";
import t from "tap";
import { operation, untilEnded, voters } from "./day-two-kit.ts";
import { longestGap, type Sampled, sampleUntilStopped } from "./sampler.ts";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

const SERVERS = ["server-1", "server-2", "server-3"];
const AGENTS = ["agent-1", "agent-2"];
const NODES = [...SERVERS, ...AGENTS];

interface Sample extends Sampled {
  /** The servers whose apiserver did not answer /readyz "ok". */
  down: string[];
  /** The apiserver answered /readyz "ok" through the VIP. */
  vip: boolean;
}

/** Every server's apiserver and the API through the VIP, asked twice a second from the coordinator's machine. */
function downSampler(cluster: TestCluster) {
  const via = cluster.world.coordinator;
  const servers = cluster.servers.filter((s) => SERVERS.includes(s.name));
  const readyz = (ip: string) =>
    via.exec("curl", ["-sk", "-m", "2", `https://${ip}:6443/readyz`], { reject: false });
  return sampleUntilStopped<Sample>(async () => {
    const [vip, ...answers] = await Promise.all([
      readyz(cluster.world.vip),
      ...servers.map((s) => readyz(s.ip)),
    ]);
    return {
      down: servers.filter((_, i) => answers[i]!.stdout.trim() !== "ok").map((s) => s.name),
      vip: vip.stdout.trim() === "ok",
    };
  });
}

const kubeletMatches = (kubelet: string, version: string) =>
  kubelet === version || kubelet === version.split("+")[0];

const reason = cannotRun();
t.test(
  "a rolling upgrade to the next minor: one server at a time, agents after, resumed after a crash",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, { servers: 3, agents: 2, vip: true });
    await enrol(t, cluster, NODES);
    await cluster.waitForNodes(NODES, "joined", 300_000);
    await voters(cluster, SERVERS);
    const vip = cluster.world.vip;
    const releaseOf = async (name: string) =>
      (await cluster.world.node(name).sh("PATH=/usr/local/bin:/opt/rke2/bin:$PATH rke2 --version")).stdout;
    for (const name of NODES)
      t.match(await releaseOf(name), `rke2 version ${RKE2_VERSION} `, `${name} starts at ${RKE2_VERSION}`);
    t.equal((await cluster.api.get<ClusterSpec>("/v1/cluster/spec")).rke2.version, RKE2_VERSION);

    await t.test("refused before anything is touched: a downgrade, a skipped minor", async (t) => {
      for (const [version, why] of [
        ["v1.32.9+rke2r1", /v1\.32\.9\+rke2r1 is older than the cluster's v1\.33\.5\+rke2r1: a downgrade/],
        ["v1.35.0+rke2r1", /v1\.33\.5\+rke2r1 -> v1\.35\.0\+rke2r1 skips 1 minor version/],
      ] as const) {
        const r = await cluster.api.request<{ error: { code: string; message: string } }>(
          "POST",
          "/v1/upgrades",
          { version },
        );
        t.equal(r.status, 400, `${version}: 400`);
        t.match(r.body.error, { code: "VALIDATION_FAILED", message: why });
      }
      t.same(
        (await cluster.api.get<{ operations: unknown[] }>("/v1/operations")).operations.filter(
          (o) => (o as { type: string }).type === "upgrade",
        ),
        [],
        "no upgrade operation was created",
      );
    });

    const probe = downSampler(cluster);
    const accepted = await cluster.api.request<OperationAccepted>("POST", "/v1/upgrades", {
      version: NEXT_RKE2_VERSION,
    });
    t.equal(accepted.status, 202, "the upgrade is accepted", { body: accepted.body });
    const id = accepted.body.operation.id;

    // SIGKILL the coordinator while the second server's step runs, then start it on the same state.
    const crashedIn = await cluster.waitFor(
      "the second server's upgrade step to be running",
      async () => {
        const op = await operation(cluster, id);
        const servers = op.steps.filter((s) => s.name.startsWith("upgrade server"));
        return servers[1]?.state === "running" ? servers[1].name : undefined;
      },
      300_000,
      200,
    );
    await cluster.coordinator.kill();
    t.comment(`killed the coordinator (SIGKILL) during "${crashedIn}"`);
    await cluster.coordinator.start();

    const op = await untilEnded(cluster, id, 900_000);
    await probe.stop();
    t.equal(op.state, "succeeded", "the same operation resumed after the restart and succeeded", { op });
    t.same(
      op.steps.map((s) => s.state),
      op.steps.map(() => "succeeded"),
      "every step succeeded",
    );

    await t.test(
      "order: snapshot, servers one at a time (init last), the release, then agents",
      async (t) => {
        const kinds = op.steps.map((s) =>
          s.name.startsWith("snapshot")
            ? "snapshot"
            : s.name.startsWith("upgrade server")
              ? "server"
              : s.name.startsWith("record")
                ? "release"
                : "agents",
        );
        t.same(kinds, [
          "snapshot",
          "server",
          "server",
          "server",
          "release",
          ...kinds.slice(5).map(() => "agents"),
        ]);
        t.ok(kinds.length > 5, "the agents have steps of their own");
        const init = (await cluster.nodes()).find((n) => n.init)!.name;
        t.match(op.steps[3]!.name, `upgrade server ${init} `, "the init server goes last");
        for (let i = 1; i < op.steps.length; i++) {
          const prev = Date.parse(op.steps[i - 1]!.endedAt ?? "");
          const next = Date.parse(op.steps[i]!.startedAt ?? "");
          t.ok(prev <= next, `${op.steps[i]!.name} started after ${op.steps[i - 1]!.name} ended`);
        }
        const events = (await cluster.events()).filter(
          (e: MusterEvent) => e.type === "operation.step" && e.message.startsWith(`upgrade ${id}:`),
        );
        const starts = (name: string) =>
          events.filter((e) => e.message === `upgrade ${id}: ${name} started`).length;
        t.equal(starts(crashedIn), 2, "the step the crash cut short ran again after the restart");
        t.same(
          op.steps.filter((s) => s.name !== crashedIn).map((s) => starts(s.name)),
          op.steps.filter((s) => s.name !== crashedIn).map(() => 1),
          "every other step ran once",
        );
      },
    );

    await t.test("never two servers down; the apiserver answered through the VIP after each", async (t) => {
      const s = probe.samples;
      t.ok(
        s.length >= 10 &&
          s[0]!.t <= Date.parse(op.startedAt ?? "") &&
          s.at(-1)!.t >= Date.parse(op.endedAt ?? ""),
        `sampled from before the start to after the end (${s.length} samples)`,
      );
      const worst = Math.max(...s.map((x) => x.down.length));
      t.ok(worst <= 1, `at most one server's apiserver down in any sample (worst ${worst})`, {
        twoDown: s.filter((x) => x.down.length > 1),
      });
      const restarted = new Set(s.flatMap((x) => x.down));
      t.same([...restarted].sort(), SERVERS, "and the sampler saw each server's restart");
      // The VIP-safe stop moves the VIP off a server before its apiserver goes: through the VIP the
      // API is gone only while kube-vip hands over (bench:failover measures that hand-over alone).
      const gap = longestGap(s, (x) => x.vip);
      t.comment(`longest stretch without the API through the VIP: ${gap} ms`);
      t.ok(
        gap <= 20_000,
        `the API answered through the VIP throughout, but for hand-overs (longest gap ${gap} ms)`,
      );
      t.ok(await apiThroughVip(cluster.world.coordinator, vip), "the API answers through the VIP");
    });

    await t.test("every node runs the new release; the spec names it", async (t) => {
      for (const name of NODES) {
        t.match(await releaseOf(name), `rke2 version ${NEXT_RKE2_VERSION} `, `${name}: rke2 --version`);
      }
      const via = cluster.world.coordinator;
      const ip = cluster.servers[0]!.ip;
      const nodes = JSON.parse(
        (await via.exec("curl", ["-fsSk", "-m", "5", `https://${ip}:6443/api/v1/nodes`])).stdout,
      ) as {
        items: {
          metadata: { name: string };
          status: { nodeInfo: { kubeletVersion: string } };
          spec: { unschedulable?: boolean };
        }[];
      };
      for (const name of NODES) {
        const n = nodes.items.find((x) => x.metadata.name === name);
        t.ok(
          n && kubeletMatches(n.status.nodeInfo.kubeletVersion, NEXT_RKE2_VERSION),
          `${name}'s Node reports kubelet ${n?.status.nodeInfo.kubeletVersion}`,
        );
        t.notOk(n?.spec.unschedulable, `${name} is uncordoned`);
      }
      const version = JSON.parse(
        (await via.exec("curl", ["-fsSk", "-m", "5", `https://${ip}:6443/version`])).stdout,
      ) as { gitVersion: string };
      t.ok(kubeletMatches(version.gitVersion, NEXT_RKE2_VERSION), `/version says ${version.gitVersion}`);
      const spec = await cluster.api.get<ClusterSpec>("/v1/cluster/spec");
      t.equal(spec.rke2.version, NEXT_RKE2_VERSION, "nodes added from now on install it");
      await voters(cluster, SERVERS);
      await cluster.waitForNodes(NODES, "joined", 60_000);
    });

    await t.test("removing the server that holds the VIP moves the VIP first", async (t) => {
      const [holder] = await vipHolders(cluster.servers, vip);
      t.ok(holder, `a server holds the VIP (${holder})`);
      const removal = await cluster.api.request<OperationAccepted>(
        "DELETE",
        `/v1/nodes/${encodeURIComponent(holder!)}`,
      );
      t.equal(removal.status, 202, "the removal is accepted", { body: removal.body });
      const done = await untilEnded(cluster, removal.body.operation.id, 300_000);
      t.equal(done.state, "succeeded", "the removal succeeded", { op: done });
      const stop = done.steps.find((s) => s.name === "stop RKE2");
      const rest = SERVERS.filter((s) => s !== holder);
      t.match(stop?.message ?? "", new RegExp(`^rke2-server stopped; VIP moved to (${rest.join("|")})$`));
      const now = await vipHolders(cluster.servers, vip);
      t.equal(now.length, 1, `exactly one server holds the VIP afterwards (${now.join(", ")})`);
      t.ok(now[0] !== holder && rest.includes(now[0]!), "and it is one of the others");
      t.ok(await apiThroughVip(cluster.world.coordinator, vip), "the API answers through the VIP");
      await voters(cluster, rest);
    });
  },
);
