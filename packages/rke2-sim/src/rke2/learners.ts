// Learner management, run by every server but acting only where the local etcd member is the leader
// (docs/rke2-behaviour.md, join step 6): every RKE2_SIM_PROMOTE_INTERVAL seconds try to promote each learner (etcd itself
// refuses while the learner is not in sync, and the next tick retries), and remove a learner whose raft
// index has not moved for RKE2_SIM_LEARNER_STALL_SECONDS.
import type { ServerContext } from "./context.ts";
import * as etcd from "./etcd-client.ts";
import { log } from "./log.ts";

interface Progress {
  index: number;
  lastProgress: number;
}

export function startLearnerManager(ctx: ServerContext): () => void {
  const progress = new Map<string, Progress>();
  let busy = false;

  async function tick(): Promise<void> {
    const local = ctx.etcd?.localEndpoints;
    if (!local) return;
    const s = await etcd.status(local);
    if (s.leader !== s.memberId) return;
    const members = await etcd.memberList(local);
    for (const id of progress.keys())
      if (!members.some((m) => m.id === id && m.isLearner)) progress.delete(id);
    for (const m of members.filter((x) => x.isLearner)) {
      const now = Date.now();
      const p = progress.get(m.id) ?? { index: -1, lastProgress: now };
      progress.set(m.id, p);
      const index = m.clientURLs.length
        ? await etcd.status(m.clientURLs).then(
            (x) => x.raftAppliedIndex,
            () => -1,
          )
        : -1;
      if (index > p.index) {
        p.index = index;
        p.lastProgress = now;
      }
      const label = `${m.name || "(not started)"} ${etcd.hexId(m.id)}`;
      try {
        await etcd.memberPromote(ctx.knobs.etcdctlBin, local, m.id);
        progress.delete(m.id);
        log.info(`Promoted learner ${label} to voting member`);
      } catch (err) {
        log.debug(`Learner ${label} not promoted yet: ${(err as Error).message}`);
        if (now - p.lastProgress >= ctx.knobs.learnerStallSeconds * 1000) {
          await etcd.memberRemove(ctx.knobs.etcdctlBin, local, m.id);
          progress.delete(m.id);
          log.warn(`Removed learner ${label}: no progress for ${ctx.knobs.learnerStallSeconds}s`);
        }
      }
    }
  }

  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    tick()
      .catch((err: Error) => log.debug(`learner management: ${err.message}`))
      .finally(() => {
        busy = false;
      });
  }, ctx.knobs.promoteIntervalSeconds * 1000);
  return () => clearInterval(timer);
}
