import {
  type ClusterNode,
  clusterPhase,
  clusterView,
  eventsPage,
  nodeView,
} from "@muster/coordinator/domain/cluster/views";
import type { NodeRecord } from "@muster/coordinator/store/nodes-repo";
import { ClusterSpecSchema, type NodeState, type Role } from "@muster/shared";
import t from "tap";
import { makeWorld, nodeFacts } from "../../helpers/domain.ts";

type Rec = NodeRecord & ClusterNode;

let id = 0;
function rec(name: string, role: Role, state: NodeState, over: Partial<Rec> = {}): Rec {
  id += 1;
  return {
    id,
    name,
    machineId: String(id).padStart(32, "0"),
    role,
    init: false,
    state,
    address: `10.0.0.${id}`,
    facts: nodeFacts(name, id),
    checks: null,
    failedChecks: [],
    checksRequestId: null,
    message: null,
    phase: null,
    credentialHash: "c0ffee".repeat(10),
    planChecksum: null,
    plan: '{"config":{"token":"SECRET"}}',
    releasedAt: null,
    stateSince: 0,
    enrolledAt: 0,
    joinedAt: state === "joined" ? 1000 : null,
    connected: true,
    lastSeen: null,
    attempts: 0,
    ...over,
  };
}

t.test("cluster phase: empty, initializing, forming, ready, degraded, blocked", async (t) => {
  const init = (state: NodeState, over: Partial<Rec> = {}) =>
    rec("s1", "server", state, { init: true, ...over });
  const cases: [string, Rec[], "unknown" | "healthy" | "unhealthy", string][] = [
    ["empty", [], "unknown", "empty"],
    ["init joining", [init("joining"), rec("a1", "agent", "waiting")], "unknown", "initializing"],
    ["no init yet", [rec("s2", "server", "checking")], "unknown", "initializing"],
    ["some joined", [init("joined"), rec("s2", "server", "joining")], "healthy", "forming"],
    ["all joined", [init("joined"), rec("a1", "agent", "joined")], "healthy", "ready"],
    [
      "joined node offline",
      [init("joined"), rec("a1", "agent", "joined", { connected: false })],
      "healthy",
      "degraded",
    ],
    ["registration down", [init("joined")], "unhealthy", "degraded"],
    ["failed server", [init("joined"), rec("s2", "server", "failed")], "healthy", "blocked"],
    ["failed agent is not blocking", [init("joined"), rec("a1", "agent", "failed")], "healthy", "forming"],
  ];
  for (const [what, nodes, registration, phase] of cases)
    t.equal(clusterPhase({ nodes, registration }), phase, what);
});

t.test("cluster view: counts, quorum of joined servers, lease, registration address, warnings", async (t) => {
  const spec = ClusterSpecSchema.parse({ name: "prod" });
  const nodes = [
    rec("s1", "server", "joined", { init: true, address: "10.1.1.1" }),
    rec("s2", "server", "joined"),
    rec("s3", "server", "joining"),
    rec("a1", "agent", "joined"),
    rec("a2", "agent", "failed", { message: "install failed" }),
    rec("a3", "agent", "check-failed", { failedChecks: ["cpus", "swap"] }),
  ];
  const view = clusterView({
    spec,
    nodes,
    lease: { node: "s3", since: 0, kind: "server-join" },
    registration: "healthy",
  });
  t.same(view, {
    name: "prod",
    phase: "forming",
    registrationAddress: "10.1.1.1",
    servers: { total: 3, ready: 2, quorum: 2, faultTolerance: 0 },
    agents: { total: 3, ready: 1 },
    joinInFlight: { node: "s3", since: "1970-01-01T00:00:00.000Z" },
    warnings: [
      "2 servers tolerate only 0 failure(s), the same as 1; use an odd number of servers",
      "agent a2 failed to join: install failed; run `muster retry a2`",
      "agent a3 failed its checks (cpus, swap); fix them and run `muster retry a3`",
    ],
  });
  const fixed = clusterView({
    spec: { ...spec, registrationAddress: "k8s.example.com" },
    nodes,
    lease: null,
    registration: "unhealthy",
  });
  t.equal(fixed.registrationAddress, "k8s.example.com");
  t.ok(fixed.warnings.includes("registration address k8s.example.com does not answer on 9345 and 6443"));
  t.equal(clusterView({ spec, nodes: [], lease: null, registration: "unknown" }).registrationAddress, null);
});

t.test("a node view holds no credential and no plan", async (t) => {
  const view = nodeView(rec("s1", "server", "joined"));
  const text = JSON.stringify(view);
  t.notOk(text.includes("c0ffee"));
  t.notOk(text.includes("SECRET"));
  t.same(Object.keys(view).sort(), [
    "address",
    "connected",
    "enrolledAt",
    "init",
    "joinedAt",
    "name",
    "role",
    "state",
  ]);
});

t.test("events page: after/limit, next is the last seq returned (or after)", async (t) => {
  const w = makeWorld(t);
  const start = w.coord.listEvents(0, 1000);
  t.same(
    start.events.map((e) => [e.seq, e.type]),
    [[1, "cluster.spec.updated"]],
    "first start stores the spec",
  );
  for (let i = 0; i < 5; i++) w.coord.createJoinToken({ role: "agent" });
  const first = w.coord.listEvents(start.next, 2);
  t.same(
    first.events.map((e) => e.seq),
    [2, 3],
  );
  t.equal(first.next, 3);
  const rest = w.coord.listEvents(first.next, 100);
  t.same(
    rest.events.map((e) => e.seq),
    [4, 5, 6],
  );
  t.equal(rest.events[0]?.type, "join-token.created");
  t.same(w.coord.listEvents(6, 100), { events: [], next: 6 }, "nothing new: next stays at after");
  t.same(eventsPage({ after: () => [] } as never, 7, 10), { events: [], next: 7 });
});

t.test("a lost server: degraded, still a member, tolerance gone, the fix named", async (t) => {
  const spec = ClusterSpecSchema.parse({ name: "prod" });
  const nodes = [
    rec("s1", "server", "joined", { init: true }),
    rec("s2", "server", "joined"),
    rec("s3", "server", "lost", { connected: false, message: "agent gone since 00:00, Node NotReady" }),
    rec("a1", "agent", "joined"),
    rec("old", "server", "removed", { connected: false }),
  ];
  const view = clusterView({ spec, nodes, lease: null, registration: "healthy" });
  t.equal(view.phase, "degraded");
  t.same(view.servers, { total: 3, ready: 2, quorum: 2, faultTolerance: 0 }, "removed ones are not counted");
  t.ok(view.warnings.some((w) => /etcd has exactly quorum: one more loss stops the control plane/.test(w)));
  t.ok(
    view.warnings.includes(
      "server s3 is lost (agent gone since 00:00, Node NotReady); bring it back or run `muster remove s3 --force`",
    ),
  );
  t.equal(clusterPhase({ nodes: [nodes[0]!, nodes[3]!, nodes[4]!], registration: "healthy" }), "ready");
  const healthy = clusterView({
    spec,
    nodes: [nodes[0]!, nodes[1]!, rec("s4", "server", "joined")],
    lease: null,
    registration: "healthy",
  });
  t.same(healthy.servers, { total: 3, ready: 3, quorum: 2, faultTolerance: 1 });
  t.same(healthy.warnings, []);
});
