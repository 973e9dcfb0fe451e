import { projectRemoval, quorumPicture, whatIf } from "@muster/shared";
import t from "tap";

const voters = (...health: boolean[]) => health.map((healthy, i) => ({ node: `s${i + 1}`, healthy }));

t.test("three healthy servers: each loss keeps quorum with none to spare", async (t) => {
  const view = whatIf(voters(true, true, true));
  t.same(
    view.servers.map((s) => s.ifLost),
    [0, 1, 2].map(() => ({ quorumKept: true, toleranceLeft: 0 })),
  );
  t.same(view.warnings, [], "an odd, fully healthy count needs no warning");
});

t.test("five healthy servers tolerate two: one loss leaves one to spare", async (t) => {
  const view = whatIf(voters(true, true, true, true, true));
  t.same(view.servers[0]!.ifLost, { quorumKept: true, toleranceLeft: 1 });
});

t.test("one of three lost: exactly quorum, one more loss stops the control plane", async (t) => {
  const view = whatIf(voters(true, true, false));
  t.same(view.servers[0]!.ifLost, { quorumKept: false, toleranceLeft: 0 });
  t.same(view.servers[1]!.ifLost, { quorumKept: false, toleranceLeft: 0 });
  t.same(view.servers[2]!.ifLost, { quorumKept: true, toleranceLeft: 0 }, "the lost one is already gone");
  t.match(view.warnings.join("\n"), /etcd has exactly quorum: one more loss stops the control plane/);
  t.match(view.warnings.join("\n"), /bring back or remove the 1 unhealthy/);
});

t.test("two servers tolerate none; an even count adds risk; one has no tolerance", async (t) => {
  const two = whatIf(voters(true, true));
  t.ok(two.servers.every((s) => !s.ifLost.quorumKept));
  t.match(two.warnings.join("\n"), /2 servers tolerate no failure/);
  const four = whatIf(voters(true, true, true, true));
  t.same(four.servers[0]!.ifLost, { quorumKept: true, toleranceLeft: 0 });
  t.match(four.warnings.join("\n"), /even count adds risk without tolerance/);
  const one = whatIf(voters(true));
  t.same(one.servers[0]!.ifLost, { quorumKept: false, toleranceLeft: 0 });
  t.match(one.warnings.join("\n"), /no fault tolerance/);
  t.same(whatIf([]), { servers: [], warnings: [] });
});

t.test("quorum already lost is said first", async (t) => {
  const view = whatIf(voters(true, false, false));
  t.match(view.warnings[0], /etcd has lost quorum: 1 of 3 members healthy, 2 needed/);
});

t.test("orphan members count as unhealthy members", async (t) => {
  t.same(quorumPicture(voters(true, true), 1), { members: 3, healthy: 2, quorum: 2 });
  const view = whatIf(voters(true, true), 1);
  t.ok(
    view.servers.every((s) => !s.ifLost.quorumKept),
    "with an orphan, 2 healthy of 3 is exact quorum",
  );
});

t.test("removal projection: the quorum guard's numbers", async (t) => {
  // 3 members, s3 lost: removing the lost one leaves 2 healthy of 2 (quorum 2).
  const lost = projectRemoval(voters(true, true, false), "s3");
  t.same(lost, {
    healthyNow: 2,
    healthyAfter: 2,
    membersAfter: 2,
    quorumNow: 2,
    quorumAfter: 2,
    refusal: null,
  });
  // Removing a healthy one while s3 is lost: 1 healthy of 2, below quorum 2.
  const healthy = projectRemoval(voters(true, true, false), "s1");
  t.equal(healthy.healthyAfter, 1);
  t.equal(healthy.quorumAfter, 2);
  t.match(healthy.refusal, /would leave 1 healthy of 2 members, below quorum 2/);
  // No quorum now: refused whatever is removed.
  t.match(projectRemoval(voters(true, false, false), "s3").refusal, /etcd has no quorum now/);
  // Three healthy: removing one is fine; 2 -> 1 is fine too (1 of 1, quorum 1).
  t.equal(projectRemoval(voters(true, true, true), "s2").refusal, null);
  t.equal(projectRemoval(voters(true, true), "s2").refusal, null);
  // An orphan counts against: 2 healthy + 1 orphan, removing a healthy server leaves 1 of 2.
  t.match(projectRemoval(voters(true, true), "s1", 1).refusal, /below quorum/);
  // A node that is no member (an agent) changes nothing.
  t.same(projectRemoval(voters(true, true, true), "a1").membersAfter, 3);
});
