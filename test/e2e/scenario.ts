// Shared steps of the end-to-end scenarios.
import path from "node:path";
import {
  type MembershipSample,
  maxConcurrentLearners,
  overlappingJoins,
} from "@muster/lab/cluster/membership";
import { type ClusterOptions, TestCluster } from "@muster/lab/cluster/test-cluster";
import { REPO_ROOT } from "@muster/lab/world/mounts";
import { canRunWorld } from "@muster/lab/world/world";
import type { Test } from "tap";

/** Why end-to-end scenarios cannot run here, or null when they can. */
export function cannotRun(): string | null {
  const can = canRunWorld();
  return can.ok ? null : can.reason;
}

export async function startCluster(t: Test, opts: ClusterOptions): Promise<TestCluster> {
  const cluster = await TestCluster.start(opts);
  t.teardown(async () => {
    // A failed scenario leaves what is needed to read it: CI keeps only the run's output.
    if (!t.passing()) await reportFailure(t, cluster).catch((err) => t.comment(`no diagnostics: ${err}`));
    await cluster.down();
  });
  await cluster.watchMembership();
  return cluster;
}

async function reportFailure(t: Test, cluster: TestCluster): Promise<void> {
  const slug = t.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
  const dir = path.join(REPO_ROOT, ".tap", "lab-diagnostics", `${slug}-${cluster.world.id}`);
  const files = await cluster.saveDiagnostics(dir);
  t.comment(`diagnostics in ${dir} (${files.length} files); the coordinator's last lines:`);
  for (const line of cluster.coordinator.log.trimEnd().split("\n").slice(-80)) t.comment(line);
}

/** Bootstraps nodes with the real one-liner, all at once; asserts each bootstrap succeeded. */
export async function enrol(t: Test, cluster: TestCluster, names: string[]): Promise<void> {
  const server = await cluster.joinCommand("server");
  const agent = await cluster.joinCommand("agent");
  const results = await Promise.all(
    names.map(async (name) => {
      const node = cluster.world.node(name);
      const cmd = name.startsWith("server") ? server.command : agent.command;
      return { name, r: await cluster.bootstrap(node, cmd) };
    }),
  );
  for (const { name, r } of results)
    t.equal(r.exitCode, 0, `bootstrap on ${name} succeeded`, { output: r.all });
}

/** Server join windows from the coordinator's events: node.join.started -> succeeded/failed. */
export async function serverJoinsFromEvents(cluster: TestCluster) {
  const nodes = await cluster.nodes();
  const servers = new Set(nodes.filter((n) => n.role === "server").map((n) => n.name));
  const joins: { node: string; start: number; end: number | null }[] = [];
  for (const e of await cluster.events()) {
    if (!e.node || !servers.has(e.node)) continue;
    const t = Date.parse(e.time);
    if (e.type === "node.join.started") joins.push({ node: e.node, start: t, end: null });
    if (e.type === "node.join.succeeded" || e.type === "node.join.failed") {
      const open = joins.findLast((j) => j.node === e.node && j.end === null);
      if (open) open.end = t;
    }
  }
  return joins;
}

export function overlapsOf(joins: { node: string; start: number; end: number | null }[]): string[] {
  const out: string[] = [];
  const sorted = [...joins].sort((a, b) => a.start - b.start);
  for (let i = 0; i < sorted.length; i++)
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      if (a.end === null || b.start < a.end) out.push(`${a.node} / ${b.node}`);
    }
  return out;
}

/** The two non-overlap judgements: etcd's own membership history, and the coordinator's events. */
export async function assertServerJoinsSerial(t: Test, cluster: TestCluster): Promise<void> {
  const samples: MembershipSample[] = cluster.membership();
  t.ok(samples.length > 0, "etcd membership was recorded");
  t.ok(maxConcurrentLearners(samples) <= 1, "etcd never had two learners at once");
  t.same(overlappingJoins(cluster.etcdJoinWindows(), Date.now()), [], "no two etcd learner windows overlap");
  t.same(
    overlapsOf(await serverJoinsFromEvents(cluster)),
    [],
    "no two server joins overlap in the event log",
  );
}

export async function assertVoters(t: Test, cluster: TestCluster, names: string[]): Promise<void> {
  const members = await cluster.waitFor(
    "etcd to show every server as a voter",
    async () => {
      const m = cluster.etcdMembers();
      return m.length === names.length && m.every((x) => !x.isLearner) ? m : undefined;
    },
    30_000,
  );
  t.same(members.map((m) => m.name).sort(), [...names].sort(), "etcd voters are exactly the servers");
}

export interface ServerJoinEvent {
  seq: number;
  type: "node.join.started" | "node.join.succeeded" | "node.join.failed";
  node: string;
}

/** The servers' join events in the order the coordinator recorded them (by seq, not by clock). */
export async function serverJoinEvents(cluster: TestCluster): Promise<ServerJoinEvent[]> {
  const servers = new Set((await cluster.nodes()).filter((n) => n.role === "server").map((n) => n.name));
  const kinds = new Set(["node.join.started", "node.join.succeeded", "node.join.failed"]);
  return (await cluster.events())
    .filter((e) => e.node !== undefined && servers.has(e.node) && kinds.has(e.type))
    .sort((a, b) => a.seq - b.seq)
    .map((e) => ({ seq: e.seq, type: e.type as ServerJoinEvent["type"], node: e.node! }));
}

/**
 * Violations of "one server join at a time" in the event log's own order: a server's join started
 * while another server's join had started and not yet ended. Empty when joins are strictly serial.
 */
export function concurrentServerJoins(events: readonly ServerJoinEvent[]): string[] {
  const out: string[] = [];
  let open: string | null = null;
  for (const e of events) {
    if (e.type === "node.join.started") {
      if (open !== null) out.push(`${e.node} started (seq ${e.seq}) while ${open} was joining`);
      open = e.node;
    } else if (e.node === open) {
      open = null;
    }
  }
  return out;
}

/** Serial server joins judged by event order, beside the clock-based judgements of assertServerJoinsSerial. */
export async function assertOneServerJoinAtATime(t: Test, cluster: TestCluster): Promise<ServerJoinEvent[]> {
  const events = await serverJoinEvents(cluster);
  t.same(
    concurrentServerJoins(events),
    [],
    "event log: a server join starts only after the previous one ended",
  );
  return events;
}
