import {
  type NodeSnapshot,
  type PlannerInput,
  plan,
  planOrder,
} from "@muster/coordinator/domain/planner/planner";
import { type ClusterSpec, ClusterSpecSchema, type NodeState, type Role } from "@muster/shared";
import t from "tap";

// Table tests for the pure planner: every rule of docs/architecture.md invariants 1-4 and 6-7 as data in, data out.

const NOW = 1_000_000_000;
const spec = (over: object = {}): ClusterSpec => ClusterSpecSchema.parse(over);

let seq = 0;
function node(name: string, role: Role, state: NodeState, over: Partial<NodeSnapshot> = {}): NodeSnapshot {
  seq += 1;
  return {
    name,
    role,
    init: false,
    state,
    address: `10.0.0.${seq}`,
    connected: true,
    seq,
    releasedAt: state === "joining" ? NOW - 1000 : null,
    message: null,
    phase: null,
    failedChecks: [],
    ...over,
  };
}

function input(nodes: NodeSnapshot[], over: Partial<PlannerInput> = {}): PlannerInput {
  return { spec: spec(), nodes, lease: null, now: NOW, registrationHealthy: true, tokenKnown: true, ...over };
}

const releases = (out: ReturnType<typeof plan>) =>
  out.actions
    .filter((a) => a.type === "release-plan")
    .map((a) => (a.type === "release-plan" ? `${a.node}${a.init ? "*" : ""}` : ""));
const stepOf = (out: ReturnType<typeof plan>, name: string) => out.steps.find((s) => s.node === name);

/** A formed cluster: init s1 joined, lease free. */
const formed = () => [node("s1", "server", "joined", { init: true })];

t.test("five servers passing checks at the same instant: exactly one release, the init", async (t) => {
  const nodes = ["s1", "s2", "s3", "s4", "s5"].map((n) => node(n, "server", "waiting"));
  const out = plan(input(nodes, { tokenKnown: false, registrationHealthy: false }));
  t.same(releases(out), ["s1*"], "only the earliest-enrolled server, as init");
  for (const n of ["s2", "s3", "s4", "s5"])
    t.same(stepOf(out, n), {
      node: n,
      role: "server",
      status: "waiting",
      reason: "waiting for init server s1 to finish joining",
    });
  t.equal(stepOf(out, "s1")?.status, "running");
});

t.test("the init is the earliest server that passed checks and is connected", async (t) => {
  const out = plan(
    input(
      [
        node("s1", "server", "checking"),
        node("s2", "server", "waiting", { connected: false }),
        node("s3", "server", "waiting"),
      ],
      { tokenKnown: false },
    ),
  );
  t.same(releases(out), ["s3*"]);
  t.equal(stepOf(out, "s2")?.reason, "waiting for the node to reconnect");
  t.equal(stepOf(out, "s1")?.reason, "waiting for checks");
});

t.test("while the init server joins, nothing else is released (agents neither)", async (t) => {
  const nodes = [
    node("s1", "server", "joining", { init: true }),
    node("s2", "server", "waiting"),
    node("a1", "agent", "waiting"),
  ];
  const out = plan(input(nodes, { lease: { node: "s1", since: NOW - 1000 }, tokenKnown: false }));
  t.same(out.actions, []);
  t.equal(stepOf(out, "a1")?.reason, "waiting for init server s1 to finish joining");
});

t.test("init joined but no token yet: still nothing released", async (t) => {
  const out = plan(
    input([...formed(), node("s2", "server", "waiting"), node("a1", "agent", "waiting")], {
      tokenKnown: false,
    }),
  );
  t.same(out.actions, []);
  t.equal(stepOf(out, "s2")?.reason, "waiting for the cluster token from init server s1");
  t.equal(stepOf(out, "a1")?.reason, "waiting for the cluster token from init server s1");
});

t.test("after the init joined with the token: one server at a time, agents beside it", async (t) => {
  const nodes = [
    ...formed(),
    node("s2", "server", "waiting"),
    node("s3", "server", "waiting"),
    node("a1", "agent", "waiting"),
    node("a2", "agent", "waiting"),
  ];
  const out = plan(input(nodes));
  t.same(releases(out), ["s2", "a1", "a2"]);
  t.same(stepOf(out, "s3"), {
    node: "s3",
    role: "server",
    status: "waiting",
    reason: "waiting for server s2 to finish joining (etcd allows one learner at a time)",
  });
});

t.test("a held lease stops every server release, whoever holds it; agents still go", async (t) => {
  const nodes = [
    ...formed(),
    node("s2", "server", "joining"),
    node("s3", "server", "waiting"),
    node("a1", "agent", "waiting"),
  ];
  const out = plan(input(nodes, { lease: { node: "s2", since: NOW - 1000 } }));
  t.same(releases(out), ["a1"]);
  t.match(stepOf(out, "s3")?.reason, /waiting for server s2 to finish joining/);
  // Even a lease whose holder looks joined (never true in practice) still blocks.
  const odd = plan(
    input([...formed(), node("s3", "server", "waiting")], { lease: { node: "s1", since: NOW } }),
  );
  t.same(releases(odd), []);
});

t.test("a failed server join blocks further server joins, with the reason and the fix", async (t) => {
  const nodes = [
    ...formed(),
    node("s2", "server", "failed", { message: "phase start failed: etcd unhealthy" }),
    node("s3", "server", "waiting"),
    node("a1", "agent", "waiting"),
  ];
  const out = plan(input(nodes));
  t.same(releases(out), ["a1"], "agents are not blocked by a failed server");
  const expected =
    "blocked: server s2 failed to join: phase start failed: etcd unhealthy; run `muster retry s2` or remove it";
  t.same(stepOf(out, "s3"), { node: "s3", role: "server", status: "blocked", reason: expected });
  t.same(stepOf(out, "s2"), { node: "s2", role: "server", status: "blocked", reason: expected });
});

t.test("a failed init server blocks everyone; retried, it is released again as init", async (t) => {
  const failed = plan(
    input(
      [
        node("s1", "server", "failed", { init: true, message: "boom" }),
        node("s2", "server", "waiting"),
        node("a1", "agent", "waiting"),
      ],
      { tokenKnown: false },
    ),
  );
  t.same(failed.actions, []);
  t.equal(stepOf(failed, "a1")?.status, "blocked");
  t.match(stepOf(failed, "a1")?.reason, "server s1 failed to join: boom");

  const retried = plan(
    input([node("s1", "server", "waiting", { init: true }), node("s2", "server", "waiting")], {
      tokenKnown: false,
    }),
  );
  t.same(releases(retried), ["s1*"]);
  t.equal(stepOf(retried, "s2")?.reason, "waiting for init server s1 to finish joining");
});

t.test("agents wait for the registration address to answer; servers too", async (t) => {
  const nodes = [...formed(), node("s2", "server", "waiting"), node("a1", "agent", "waiting")];
  const out = plan(input(nodes, { registrationHealthy: false }));
  t.same(out.actions, []);
  const reason = `waiting for the registration address ${nodes[0]!.address} to answer on 9345 and 6443`;
  t.equal(stepOf(out, "a1")?.reason, reason, "the init server's address when the spec sets none");
  t.equal(stepOf(out, "s2")?.reason, reason);
  const fixed = plan(
    input(nodes, { registrationHealthy: false, spec: spec({ registrationAddress: "k8s.example.com" }) }),
  );
  t.match(stepOf(fixed, "a1")?.reason, "registration address k8s.example.com to answer");
});

t.test("agents join in parallel up to agents.concurrency", async (t) => {
  const agents = ["a1", "a2", "a3", "a4", "a5"].map((n) => node(n, "agent", "waiting"));
  const out = plan(
    input([...formed(), node("a0", "agent", "joining"), ...agents], {
      spec: spec({ agents: { concurrency: 3 } }),
    }),
  );
  t.same(releases(out), ["a1", "a2"], "one slot taken, two free");
  t.equal(stepOf(out, "a3")?.reason, "waiting for a free agent slot (3 of 3 joining)");
});

t.test("checks come first: enrolled nodes are asked, check-failed nodes never get a plan", async (t) => {
  const out = plan(
    input([
      ...formed(),
      node("s2", "server", "enrolled"),
      node("s3", "server", "enrolled", { connected: false }),
      node("a1", "agent", "check-failed", { failedChecks: ["cpu", "swap"] }),
    ]),
  );
  t.same(out.actions, [{ type: "request-checks", node: "s2" }]);
  t.equal(stepOf(out, "s3")?.reason, "waiting for the node to connect");
  t.same(stepOf(out, "a1"), {
    node: "a1",
    role: "agent",
    status: "blocked",
    reason: "check-failed: cpu, swap; fix them and run `muster retry a1`, or add them to spec checks.ignore",
  });
});

t.test("join timeouts fail the node with a reason, measured from release", async (t) => {
  const s = spec({ timeouts: { serverJoin: 900, agentJoin: 600 } });
  const nodes = [
    ...formed(),
    node("s2", "server", "joining", { releasedAt: NOW - 900_000, phase: "start started" }),
    node("s3", "server", "waiting"),
    node("a1", "agent", "joining", { releasedAt: NOW - 599_999 }),
    node("a2", "agent", "joining", { releasedAt: NOW - 600_000 }),
  ];
  const out = plan(input(nodes, { spec: s, lease: { node: "s2", since: NOW - 900_000 } }));
  t.same(
    out.actions.filter((a) => a.type === "fail"),
    [
      {
        type: "fail",
        node: "s2",
        reason: "join timed out after 900s (spec.timeouts.serverJoin); last phase: start started",
      },
      { type: "fail", node: "a2", reason: "join timed out after 600s (spec.timeouts.agentJoin)" },
    ],
  );
  t.same(releases(out), [], "the timed-out server now blocks s3");
  t.equal(stepOf(out, "s3")?.status, "blocked");
});

t.test(
  "rolling add into a formed cluster: a new server and a new agent are sequenced the same way",
  async (t) => {
    const nodes = [
      ...formed(),
      node("s2", "server", "joined"),
      node("a1", "agent", "joined"),
      node("s9", "server", "waiting"),
      node("a9", "agent", "waiting"),
    ];
    const out = plan(input(nodes));
    t.same(releases(out), ["s9", "a9"]);
    t.same(
      out.steps.map((s) => s.node),
      ["s9", "a9"],
      "joined nodes are not steps",
    );
  },
);

t.test("steps come in order (init, servers, agents) and the planner is deterministic", async (t) => {
  const nodes = [
    node("a1", "agent", "enrolled"),
    node("s2", "server", "waiting"),
    node("s1", "server", "joining", { init: true }),
    node("s3", "server", "checking"),
  ];
  const out = plan(input(nodes, { lease: { node: "s1", since: NOW }, tokenKnown: false }));
  t.same(
    out.steps.map((s) => s.node),
    ["s1", "s2", "s3", "a1"],
  );
  t.same(plan(input([...nodes].reverse(), { lease: { node: "s1", since: NOW }, tokenKnown: false })), out);
  t.same(
    planOrder(nodes).map((n) => n.name),
    ["s1", "s2", "s3", "a1"],
  );
});

t.test(
  "the planner never changes its input (the sequencer passes the store's frozen summaries)",
  async (t) => {
    const nodes = [
      node("s1", "server", "joined", { init: true }),
      node("s2", "server", "waiting"),
      node("a1", "agent", "joining", { releasedAt: NOW - 10_000_000 }),
      node("a2", "agent", "waiting"),
      node("a3", "agent", "enrolled"),
    ].map((n) => Object.freeze({ ...n, failedChecks: Object.freeze([...n.failedChecks]) }));
    const copy = structuredClone(nodes);
    const out = plan({ ...input([]), nodes: Object.freeze(nodes) });
    t.same(
      out.actions.map((a) => `${a.type} ${a.node}`),
      ["fail a1", "release-plan s2", "release-plan a2", "request-checks a3"],
      "a1 timed out; s2 and a2 released",
    );
    t.match(stepOf(out, "a1")?.reason, "join timed out");
    t.equal(stepOf(out, "s2")?.status, "running");
    t.same(nodes, copy, "the input is as it was");
  },
);

t.test("planOrder: the same order whether the nodes come in enrolment order or not", async (t) => {
  const nodes = [
    node("a1", "agent", "waiting"),
    node("s1", "server", "waiting"),
    node("a2", "agent", "waiting"),
    node("s2", "server", "joined", { init: true }),
    node("s3", "server", "waiting"),
  ];
  const expected = ["s2", "s1", "s3", "a1", "a2"];
  t.same(
    planOrder(nodes).map((n) => n.name),
    expected,
    "in enrolment order: split by rank",
  );
  t.same(
    planOrder([...nodes].reverse()).map((n) => n.name),
    expected,
    "shuffled: sorted",
  );
  t.same(
    planOrder([nodes[2]!, nodes[0]!, nodes[4]!, nodes[3]!, nodes[1]!]).map((n) => n.name),
    expected,
  );
});

t.test(
  "an operation holding the control-plane lease holds back server joins, not agents (invariant 9)",
  async (t) => {
    const nodes = [...formed(), node("s2", "server", "waiting"), node("a1", "agent", "waiting")];
    const operation = { id: "op-abc123-1", type: "remove", node: "s3", since: NOW - 5000 };
    const out = plan(input(nodes, { operation }));
    t.same(releases(out), ["a1"], "the agent joins beside it; the server waits");
    t.same(stepOf(out, "s2"), {
      node: "s2",
      role: "server",
      status: "waiting",
      reason:
        "waiting for operation op-abc123-1 (remove of s3) to finish: it holds the control-plane lease, one change at a time",
    });
    t.same(releases(plan(input(nodes))), ["s2", "a1"], "without the operation the server goes");
  },
);
