import { auditMembers, LEARNER_LIMIT_MS } from "@muster/coordinator/domain/cluster/orphan-audit";
import t from "tap";
import { formSim } from "../../helpers/day-two.ts";
import { makeWorld } from "../../helpers/domain.ts";

const member = (id: string, name: string, isLearner = false, host = "10.1.1.1") => ({
  id,
  name,
  peerURLs: [`https://${host}:2380`],
  clientURLs: [],
  isLearner,
});

t.test("auditMembers: orphans, stuck learners, and members that have a node", async (t) => {
  const servers = [{ name: "s1", address: "10.0.0.1" }];
  const now = 10 * LEARNER_LIMIT_MS;
  const r = auditMembers(
    [
      member("a1", "s1-1234abcd"),
      member("b2", "ghost-99"),
      member("c3", "", true, "10.0.0.1"),
      member("d4", "", true, "10.9.9.9"),
    ],
    servers,
    new Map([["c3", now - LEARNER_LIMIT_MS - 60_000]]),
    now,
  );
  t.equal(r.orphans, 1, "a voting member without a node; learners do not vote");
  t.match(
    r.warnings[0],
    /etcd member ghost-99 \(id b2\) has no node behind it: remove it with `etcdctl member remove b2`/,
  );
  t.match(
    r.warnings[1],
    /learner \(unstarted\) \(id c3\) of s1 has been a learner for 6 min, longer than RKE2 keeps one/,
  );
  t.match(r.warnings[2], /learner \(unstarted\) \(id d4\) has no node behind it/);
  t.equal(r.warnings.length, 3);
  t.same(auditMembers([member("a1", "s1-1")], servers, new Map(), now), { orphans: 0, warnings: [] });
});

t.test("the audit feeds the what-if and the quorum guard", async (t) => {
  const w = makeWorld(t);
  const sim = await formSim(w, ["s1", "s2"]);
  sim.members.push({ id: "dead", name: "old-server-1", isLearner: false });
  await w.coord.audit();
  const view = w.coord.getWhatIf();
  t.ok(view.warnings.some((x) => /old-server-1 \(id dead\) has no node behind it/.test(x)));
  t.ok(
    view.servers.every((s) => !s.ifLost.quorumKept),
    "2 healthy of 3 members: exact quorum",
  );
  try {
    await w.coord.removeNode("s2", false);
    t.fail("not refused");
  } catch (err) {
    t.equal((err as { code: string }).code, "QUORUM_GUARD", "the orphan counts as an unhealthy member");
  }
});
