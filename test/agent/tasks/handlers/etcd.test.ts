import { EtcdError, type EtcdMemberInfo } from "@muster/agent/adapters/etcd";
import { etcdMemberRemove, etcdMoveLeader, etcdStatus } from "@muster/agent/tasks/handlers/etcd";
import { TaskFailed } from "@muster/agent/tasks/types";
import { TaskResultSchemas } from "@muster/shared";
import t from "tap";
import { fakeEtcd } from "../../helpers/fakes.ts";
import { taskContext } from "../../helpers/task-context.ts";

// Ids above 2^53, as real etcd member ids usually are: a Number would corrupt them.
const A = "ab54a98ceb1f0ad2";
const B = "fd422379fda50e48";
const C = "3c1f2ab4de9a6f01";
const member = (id: string, n: number, learner = false): EtcdMemberInfo => ({
  id,
  name: `server-${n}`,
  peerURLs: [`http://10.0.0.1${n}:2380`],
  clientURLs: [`http://10.0.0.1${n}:2379`],
  isLearner: learner,
});
const three = () => [member(A, 1), member(B, 2), member(C, 3)];

const healthy = (ms: EtcdMemberInfo[], down: string[] = []) =>
  ms.map((m) => ({ ...m, healthy: !down.includes(m.id) }));

t.test("etcd.status: members in hex, leader and local id, each member's health, schema-valid", async (t) => {
  const etcd = fakeEtcd({ members: three(), localId: B, leaderId: A });
  const { ctx } = taskContext(t.testdir(), { etcd: etcd.etcd });
  const r = await etcdStatus({ kind: "etcd.status" }, ctx);
  t.same(r, { members: healthy(three()), leaderId: A, localId: B });
  t.ok(TaskResultSchemas["etcd.status"].safeParse(r).success);
  t.same(
    etcd.calls.sort(),
    ["member list @local", "status @http://10.0.0.11:2379", "status @http://10.0.0.13:2379", "status @local"],
    "each other member is asked at its own client URL",
  );
});

t.test("etcd.status: a member that does not answer, or sees no leader, is unhealthy", async (t) => {
  const etcd = fakeEtcd({ members: three(), localId: B, leaderId: A, dead: new Set([C]) });
  const { ctx } = taskContext(t.testdir(), { etcd: etcd.etcd });
  const r = await etcdStatus({ kind: "etcd.status" }, ctx);
  t.same(r.members, healthy(three(), [C]), "server-3 is down");
  etcd.state.leaderId = null; // quorum lost: every member still answers, none sees a leader
  const lost = await etcdStatus({ kind: "etcd.status" }, ctx);
  t.same(lost.members, healthy(three(), [A, B, C]), "no member is healthy without a leader");
});

t.test("etcd.status: etcd down is a TaskFailed that says where to look", async (t) => {
  const { ctx } = taskContext(t.testdir(), { etcd: fakeEtcd({ members: [], localId: A, down: true }).etcd });
  await t.rejects(etcdStatus({ kind: "etcd.status" }, ctx), {
    constructor: TaskFailed,
    message:
      /could not report its status: etcd at http:\/\/127.0.0.1:2379: connect ECONNREFUSED \(is rke2-server running/,
  });
});

t.test("etcd.move-leader from a follower goes to the leader's client URL", async (t) => {
  const etcd = fakeEtcd({ members: three(), localId: B, leaderId: A });
  const { ctx, progress } = taskContext(t.testdir(), { etcd: etcd.etcd });
  t.same(await etcdMoveLeader({ kind: "etcd.move-leader", toId: C }, ctx), {});
  t.equal(etcd.state.leaderId, C);
  t.ok(etcd.calls.includes(`move-leader ${C} @http://10.0.0.11:2379`), "sent to server-1, the leader");
  t.match(progress[0], /from server-1 \(ab54a98ceb1f0ad2\) to server-3 \(3c1f2ab4de9a6f01\)/);
});

t.test("negative control: the same request on a follower is refused by etcd itself", async (t) => {
  const etcd = fakeEtcd({ members: three(), localId: B, leaderId: A });
  const conn = await etcd.etcd.connect();
  await t.rejects(conn.moveLeader(C), { message: "etcdserver: not leader" });
});

t.test("etcd.move-leader on the leader uses loopback; already leader is done", async (t) => {
  const etcd = fakeEtcd({ members: three(), localId: A, leaderId: A });
  const { ctx } = taskContext(t.testdir(), { etcd: etcd.etcd });
  await etcdMoveLeader({ kind: "etcd.move-leader", toId: B }, ctx);
  t.ok(etcd.calls.includes(`move-leader ${B} @http://127.0.0.1:2379`), "the local member, on loopback");
  etcd.calls.length = 0;
  await etcdMoveLeader({ kind: "etcd.move-leader", toId: B }, ctx);
  t.notOk(
    etcd.calls.some((c) => c.startsWith("move-leader")),
    "no move when the target already leads",
  );
});

t.test(
  "etcd.move-leader refuses unknown ids, learners, no leader, and a leader without a usable URL",
  async (t) => {
    const dir = t.testdir();
    const run = (state: Parameters<typeof fakeEtcd>[0], toId: string) =>
      etcdMoveLeader(
        { kind: "etcd.move-leader", toId },
        taskContext(dir, { etcd: fakeEtcd(state).etcd }).ctx,
      );
    await t.rejects(run({ members: three(), localId: A }, "99"), {
      message: "etcd member 99 is not in the cluster",
    });
    await t.rejects(run({ members: [...three(), member("77", 4, true)], localId: A }, "77"), {
      message: /server-4 \(77\) is a learner/,
    });
    await t.rejects(run({ members: three(), localId: A, leaderId: null }, B), {
      message: /no leader right now/,
    });
    const httpsOnly = three().map((m) => ({
      ...m,
      clientURLs: m.clientURLs.map((u) => u.replace("http:", "https:")),
    }));
    await t.rejects(run({ members: httpsOnly, localId: B, leaderId: A }, C), {
      constructor: TaskFailed,
      message:
        /server-1 \(ab54a98ceb1f0ad2\) advertises no http client URL \(it has: https:\/\/10.0.0.11:2379\)/,
    });
  },
);

t.test(
  "etcd.move-leader: a leader change between read and call is retried against the new leader",
  async (t) => {
    const etcd = fakeEtcd({ members: three(), localId: B, leaderId: A });
    const conn = await etcd.etcd.connect();
    let first = true;
    const racing = {
      async connect() {
        return {
          ...conn,
          async moveLeader(target: string, endpoint?: string) {
            if (first) {
              first = false;
              etcd.state.leaderId = C; // an election happened meanwhile
            }
            return conn.moveLeader(target, endpoint);
          },
        };
      },
    };
    const { ctx } = taskContext(t.testdir(), { etcd: racing });
    await etcdMoveLeader({ kind: "etcd.move-leader", toId: B }, ctx);
    t.equal(etcd.state.leaderId, B);
    t.ok(etcd.calls.includes(`move-leader ${B} @http://10.0.0.13:2379`), "second try went to server-3");
  },
);

t.test("etcd.member-remove: removes an orphan; gone already is done; never this node's own", async (t) => {
  const etcd = fakeEtcd({ members: three(), localId: A });
  const { ctx } = taskContext(t.testdir(), { etcd: etcd.etcd });
  t.same(await etcdMemberRemove({ kind: "etcd.member-remove", id: C }, ctx), {});
  t.same(
    etcd.state.members.map((m) => m.id),
    [A, B],
  );
  etcd.calls.length = 0;
  t.same(await etcdMemberRemove({ kind: "etcd.member-remove", id: C }, ctx), {}, "idempotent");
  t.notOk(etcd.calls.some((c) => c.startsWith("member remove")));
  await t.rejects(etcdMemberRemove({ kind: "etcd.member-remove", id: A }, ctx), {
    message: /refusing to remove server-1 \(ab54a98ceb1f0ad2\): it is this node's own etcd member/,
  });
  t.equal(etcd.state.members.length, 2);
});

t.test(
  "etcd.member-remove: etcd's transient 'unhealthy cluster' is retried, other refusals are not",
  async (t) => {
    const etcd = fakeEtcd({ members: three(), localId: A });
    const conn = await etcd.etcd.connect();
    let refusals = 1;
    const flaky = {
      async connect() {
        return {
          ...conn,
          async memberRemove(id: string, endpoint?: string) {
            if (refusals-- > 0) throw new EtcdError("etcdserver: unhealthy cluster");
            return conn.memberRemove(id, endpoint);
          },
        };
      },
    };
    const { ctx, progress } = taskContext(t.testdir(), { etcd: flaky });
    t.same(await etcdMemberRemove({ kind: "etcd.member-remove", id: C }, ctx), {});
    t.equal(etcd.state.members.length, 2);
    t.match(progress[0], /unhealthy cluster.*retrying/);

    const refusing = {
      async connect() {
        return {
          ...conn,
          async memberRemove() {
            throw new EtcdError("etcdserver: re-configuration failed due to not enough started members");
          },
        };
      },
    };
    await t.rejects(
      etcdMemberRemove(
        { kind: "etcd.member-remove", id: B },
        taskContext(t.testdir(), { etcd: refusing }).ctx,
      ),
      {
        message:
          /etcd refused to remove member server-2 \(fd422379fda50e48\): etcdserver: re-configuration failed/,
      },
    );
  },
);
