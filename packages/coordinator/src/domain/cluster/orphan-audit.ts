import type { EtcdMember, Logger } from "@muster/shared";
import type { Store } from "../../store/store.ts";
import type { TaskDispatcher } from "../tasks/dispatcher.ts";

// The orphan audit (docs/reference.md#what-if): etcd members or learners with no node behind them, and
// learners stuck longer than RKE2 keeps them (it removes a learner with no progress after 5 minutes),
// asked through a healthy server's etcd.status. The findings are warnings with the fix; orphans count
// as unhealthy members in the what-if and the quorum guard's picture.

export const LEARNER_LIMIT_MS = 5 * 60_000;

export interface AuditServer {
  name: string;
  address: string;
}

/** Pure: the warnings and the orphan count for these members and the servers muster knows. */
export function auditMembers(
  members: readonly EtcdMember[],
  servers: readonly AuditServer[],
  learnerSince: ReadonlyMap<string, number>,
  now: number,
): { orphans: number; warnings: string[] } {
  const warnings: string[] = [];
  let orphans = 0;
  for (const m of members) {
    const owner = servers.find(
      (s) =>
        m.name === s.name ||
        m.name.startsWith(`${s.name}-`) ||
        m.peerURLs.some((u) => URL.parse(u)?.hostname === s.address),
    );
    const what = `etcd ${m.isLearner ? "learner" : "member"} ${m.name || "(unstarted)"} (id ${m.id})`;
    if (!owner) {
      if (!m.isLearner) orphans++;
      warnings.push(
        `${what} has no node behind it: remove it with \`etcdctl member remove ${m.id}\` on a server, or enrol its machine again`,
      );
      continue;
    }
    const since = learnerSince.get(m.id);
    if (m.isLearner && since !== undefined && now - since > LEARNER_LIMIT_MS)
      warnings.push(
        `${what} of ${owner.name} has been a learner for ${Math.round((now - since) / 60_000)} min, longer than RKE2 keeps one: check its etcd logs, then remove the member (\`etcdctl member remove ${m.id}\`) and retry the node`,
      );
  }
  return { orphans, warnings };
}

export interface OrphanAuditDeps {
  store: { nodes: Pick<Store["nodes"], "summaries"> };
  tasks: Pick<TaskDispatcher, "run">;
  log: Logger;
  now(): number;
}

export function createOrphanAudit(deps: OrphanAuditDeps) {
  let last: { orphans: number; warnings: string[] } = { orphans: 0, warnings: [] };
  const learnerSince = new Map<string, number>();
  let running = false;

  async function run(): Promise<void> {
    const nodes = deps.store.nodes.summaries();
    const asker = nodes.find((n) => n.role === "server" && n.state === "joined" && n.connected);
    if (!asker || running) return;
    running = true;
    try {
      const s = await deps.tasks.run(asker.name, { kind: "etcd.status" }, { timeoutMs: 15_000 });
      const now = deps.now();
      for (const m of s.members) if (m.isLearner && !learnerSince.has(m.id)) learnerSince.set(m.id, now);
      for (const id of [...learnerSince.keys()])
        if (!s.members.some((m) => m.id === id && m.isLearner)) learnerSince.delete(id);
      const servers = nodes.filter((n) => n.role === "server" && n.state !== "removed");
      last = auditMembers(s.members, servers, learnerSince, now);
    } catch (err) {
      deps.log.info({ err: (err as Error).message }, "orphan audit: etcd.status failed; findings kept");
    } finally {
      running = false;
    }
  }

  return { run, findings: () => last };
}
