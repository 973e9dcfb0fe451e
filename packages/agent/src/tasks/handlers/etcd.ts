import { type EtcdConnection, EtcdError, type EtcdMemberInfo } from "../../adapters/etcd.ts";
import { type TaskContext, TaskFailed, type TaskHandler } from "../types.ts";
import { pause, pollUntil } from "../wait.ts";

// etcd membership and leadership through the local member's JSON gateway (adapters/etcd.ts).
const LEADER_SETTLE_MS = 10_000;
const REMOVE_SETTLE_MS = 15_000;
/** A member that does not answer its status this fast counts as unhealthy (etcdctl's default is 5 s). */
const HEALTH_PROBE_MS = 3000;

function failure(err: unknown, doing: string): TaskFailed {
  if (err instanceof TaskFailed) return err;
  if (err instanceof EtcdError) return new TaskFailed(`etcd refused to ${doing}: ${err.message}`);
  return new TaskFailed(
    `could not ${doing}: ${(err as Error).message} (is rke2-server running on this node?)`,
  );
}

async function connect(ctx: TaskContext): Promise<EtcdConnection> {
  try {
    return await ctx.host.etcd.connect();
  } catch (err) {
    throw failure(err, "read etcd's client certificate");
  }
}

async function view(conn: EtcdConnection, doing: string) {
  try {
    const [status, members] = await Promise.all([conn.status(), conn.memberList()]);
    return { status, members };
  } catch (err) {
    throw failure(err, doing);
  }
}

const describe = (m: EtcdMemberInfo) => (m.name ? `${m.name} (${m.id})` : m.id);

/** Where to reach a member over this node's connection: loopback for itself, else an advertised URL. */
export function memberEndpoint(conn: EtcdConnection, member: EtcdMemberInfo, localId: string): string {
  if (member.id === localId) return conn.local;
  const url = member.clientURLs.find((u) => conn.allows(u));
  if (!url)
    throw new TaskFailed(
      `etcd member ${describe(member)} advertises no ${conn.tls ? "https" : "http"} client URL ` +
        `(it has: ${member.clientURLs.join(", ") || "none"})`,
    );
  return url;
}

/**
 * Whether a member is healthy now, as `etcdctl endpoint health` judges it: it answers, and it sees a
 * leader (a member cut off from quorum answers too, with no leader). The quorum guard counts these.
 */
async function probeHealth(
  conn: EtcdConnection,
  member: EtcdMemberInfo,
  localId: string,
  localLeader: string | null,
): Promise<boolean> {
  if (member.id === localId) return localLeader !== null;
  const url = member.clientURLs.find((u) => conn.allows(u));
  if (!url) return false; // not started yet (a learner being added) or unreachable over TLS
  try {
    return (await conn.status(url, HEALTH_PROBE_MS)).leaderId !== null;
  } catch {
    return false;
  }
}

export const etcdStatus: TaskHandler<"etcd.status"> = async (_task, ctx) => {
  const conn = await connect(ctx);
  const { status, members } = await view(conn, "report its status");
  const health = await Promise.all(
    members.map((m) => probeHealth(conn, m, status.memberId, status.leaderId)),
  );
  return {
    members: members.map((m, i) => ({
      id: m.id,
      name: m.name,
      peerURLs: m.peerURLs,
      clientURLs: m.clientURLs,
      isLearner: m.isLearner,
      healthy: health[i]!,
    })),
    leaderId: status.leaderId,
    localId: status.memberId,
  };
};

// MoveLeader is answered by the leader only ("etcdserver: not leader" elsewhere), so the request goes
// to the leader's own client URL. Leadership can change between the read and the call: a few tries.
export const etcdMoveLeader: TaskHandler<"etcd.move-leader"> = async (task, ctx) => {
  const conn = await connect(ctx);
  for (let attempt = 1; ; attempt++) {
    const { status, members } = await view(conn, "list its members");
    const target = members.find((m) => m.id === task.toId);
    if (!target) throw new TaskFailed(`etcd member ${task.toId} is not in the cluster`);
    if (target.isLearner)
      throw new TaskFailed(`etcd member ${describe(target)} is a learner: only a voting member can lead`);
    if (status.leaderId === task.toId) return {};
    if (status.leaderId === null)
      throw new TaskFailed("etcd has no leader right now (no quorum?): leadership cannot be moved");
    const leader = members.find((m) => m.id === status.leaderId);
    if (!leader) throw new TaskFailed(`etcd's leader ${status.leaderId} is not in its own member list`);
    const endpoint = memberEndpoint(conn, leader, status.memberId);
    ctx.progress(`moving etcd leadership from ${describe(leader)} to ${describe(target)}`);
    try {
      await conn.moveLeader(task.toId, endpoint);
    } catch (err) {
      if (err instanceof EtcdError && /not leader/i.test(err.message) && attempt < 3) continue;
      throw failure(err, `move leadership to ${describe(target)}`);
    }
    const settled = await pollUntil(
      ctx.signal,
      LEADER_SETTLE_MS,
      async () => (await conn.status().catch(() => null))?.leaderId === task.toId,
    );
    if (!settled)
      throw new TaskFailed(`etcd accepted the move, but ${describe(target)} did not become leader`);
    return {};
  }
};

// For orphans (a member with no Node behind it); a Node's own member goes through RKE2's member
// controller (kube.annotate etcd.rke2.cattle.io/remove=true). Already gone counts as done.
export const etcdMemberRemove: TaskHandler<"etcd.member-remove"> = async (task, ctx) => {
  const conn = await connect(ctx);
  const { status, members } = await view(conn, "list its members");
  const member = members.find((m) => m.id === task.id);
  if (!member) return {};
  if (member.id === status.memberId)
    throw new TaskFailed(
      `refusing to remove ${describe(member)}: it is this node's own etcd member (run this on another server)`,
    );
  // etcd refuses ("unhealthy cluster") unless enough voters have been connected for its health
  // interval (5 s): true for a moment after peers (re)connect, so that refusal is retried a while.
  const deadline = performance.now() + REMOVE_SETTLE_MS;
  for (;;) {
    try {
      await conn.memberRemove(task.id);
      return {};
    } catch (err) {
      const transient = err instanceof EtcdError && /unhealthy cluster/i.test(err.message);
      if (!transient || performance.now() >= deadline)
        throw failure(err, `remove member ${describe(member)}`);
      ctx.progress(`etcd says "${err.message}": retrying the removal of ${describe(member)}`);
      await pause(1000, ctx.signal);
    }
  }
};
