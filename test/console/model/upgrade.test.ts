import { upgradePlan, upgradeVerdict, versionProblem } from "@muster/console/model/upgrade";
import type { NodeView } from "@muster/shared";
import t from "tap";

const node = (name: string, role: NodeView["role"], init = false, state: NodeView["state"] = "joined") =>
  ({
    name,
    role,
    init,
    state,
    address: "10.0.0.1",
    connected: true,
    enrolledAt: "2030-01-01T00:00:00Z",
  }) as NodeView;

t.test("the version must be an RKE2 release name; the message says how to write one", async (t) => {
  t.equal(versionProblem("v1.32.4+rke2r1"), null);
  t.equal(versionProblem(" v1.31.10+rke2r2 "), null, "surrounding blanks are trimmed");
  t.match(versionProblem(""), /Type the RKE2 version/);
  for (const bad of ["1.32.4", "v1.32", "v1.32.4+k3s1", "latest"])
    t.match(versionProblem(bad), /is not an RKE2 version: write it like v1\.32\.4\+rke2r1/, bad);
});

t.test("the plan: snapshot, servers one at a time with the init server last, then agents", async (t) => {
  const nodes = [
    node("server-1", "server", true),
    node("server-3", "server"),
    node("server-2", "server"),
    node("agent-1", "agent"),
    node("agent-9", "agent", false, "failed"),
  ];
  const plan = upgradePlan(nodes, "v1.32.4+rke2r1", false);
  t.equal(plan.length, 4);
  t.match(plan[0], /^Snapshot etcd first/);
  t.match(
    plan[1],
    /one at a time, the init server last: server-2, server-3, server-1 \(each: cordon, install v1\.32\.4\+rke2r1,/,
  );
  t.notMatch(plan[1], /drain/);
  t.match(plan[2], /^Record v1\.32\.4\+rke2r1 as the cluster's release: nodes added later install it\.$/);
  t.match(
    plan[3],
    /agents.*fewer while other nodes are not ready.*: agent-1\.$/,
    "only joined nodes are upgraded",
  );
  t.match(upgradePlan(nodes, "v1.32.4+rke2r1", true)[1], /cordon, drain, install/);
  t.same(
    upgradePlan([node("server-1", "server", true)], "v", false).length,
    3,
    "no agent step without agents",
  );
});

t.test("the quorum guard's verdict comes from the what-if numbers", async (t) => {
  const three = {
    servers: ["server-1", "server-2", "server-3"].map((n) => ({
      node: n,
      ifLost: { quorumKept: true, toleranceLeft: 0 },
    })),
    warnings: [],
  };
  t.equal(
    upgradeVerdict(three),
    "Quorum guard: with any one of the 3 servers down for its restart, quorum kept; no further server may be lost.",
  );
  const five = {
    servers: three.servers.map((s) => ({ ...s, ifLost: { quorumKept: true, toleranceLeft: 1 } })),
    warnings: [],
  };
  t.match(upgradeVerdict(five), /quorum kept; 1 more server may be lost\.$/);
  const one = {
    servers: [{ node: "server-1", ifLost: { quorumKept: false, toleranceLeft: 0 } }],
    warnings: [],
  };
  t.equal(
    upgradeVerdict(one),
    "Quorum guard: while server-1 restarts, quorum lost: etcd would stop accepting writes. Add servers first (3 or more keep quorum through an upgrade).",
  );
  t.match(
    upgradeVerdict(null),
    /holds the upgrade while any server is not ready/,
    "no what-if: the rule, not numbers",
  );
});
