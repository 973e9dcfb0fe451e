import {
  clusterPhase,
  formatClock,
  formatDuration,
  nodeState,
  quorumSummary,
  sortNodes,
  TTL_CHOICES,
  toleranceSummary,
  waitReasons,
  whyItWaits,
} from "@muster/console/model/format";
import type { NodeView } from "@muster/shared";
import { CLUSTER_PHASES, NODE_STATES } from "@muster/shared";
import t from "tap";

const node = (over: Partial<NodeView>): NodeView => ({
  name: "n",
  role: "server",
  init: false,
  state: "waiting",
  address: "10.0.0.1",
  connected: true,
  enrolledAt: "2030-01-01T00:00:00.000Z",
  ...over,
});

t.test("every node state and cluster phase has words and a tone; unknown ones pass through", async (t) => {
  for (const s of NODE_STATES) {
    const d = nodeState(s);
    t.ok(d.label.length > 0 && d.description.length > 0, s);
    // A removed node is history, shown muted on purpose; every live state has a tone.
    if (s === "removed") t.equal(d.tone, "muted", "removed is muted");
    else t.not(d.tone, "muted", `${s} has a tone`);
  }
  t.same(
    [nodeState("joined").tone, nodeState("failed").tone, nodeState("check-failed").label],
    ["ok", "bad", "check failed"],
  );
  t.same(nodeState("frobbing"), { label: "frobbing", tone: "muted", description: "state frobbing" });
  for (const p of CLUSTER_PHASES) t.ok(clusterPhase(p).description.length > 0, p);
  t.same(
    [clusterPhase("ready").tone, clusterPhase("degraded").tone, clusterPhase("upgrading").label],
    ["ok", "bad", "upgrading"],
  );
});

t.test("quorum and fault tolerance in words", async (t) => {
  const cases: Array<[number, number, number, string, string]> = [
    [0, 1, 0, "no etcd member yet", "none yet"],
    [1, 1, 0, "1 of 1 server", "none: losing a server loses quorum"],
    [2, 2, 0, "2 of 2 servers", "none: losing a server loses quorum"],
    [3, 2, 1, "2 of 3 servers", "1 server may be lost"],
    [5, 3, 2, "3 of 5 servers", "2 servers may be lost"],
  ];
  for (const [ready, q, ft, quorumWords, toleranceWords] of cases) {
    const servers = { total: 5, ready, quorum: q, faultTolerance: ft };
    t.equal(quorumSummary(servers), quorumWords);
    t.equal(toleranceSummary(servers), toleranceWords);
  }
});

t.test("why it waits: the plan's reason, else the node's message, nothing once joined", async (t) => {
  const steps = waitReasons([
    { node: "a", role: "server", status: "waiting", reason: "waiting for server s1 to finish joining" },
  ]);
  t.equal(whyItWaits(node({ name: "a" }), steps), "waiting for server s1 to finish joining");
  t.equal(
    whyItWaits(node({ name: "b", state: "failed", message: "installer exited 1" }), steps),
    "installer exited 1",
  );
  t.equal(whyItWaits(node({ name: "c", state: "joined", message: "old" }), steps), "");
  t.equal(whyItWaits(node({ name: "d" }), steps), "");
});

t.test("durations and clock times", async (t) => {
  t.same([0, 999, 45_000, 185_000, 7_440_000].map(formatDuration), ["0s", "1s", "45s", "3m 05s", "2h 04m"]);
  t.equal(formatDuration(-5), "0s");
  const now = Date.parse("2030-06-01T12:00:00Z");
  t.match(formatClock("2030-06-01T11:59:00Z", now), /^\d\d:\d\d:\d\d$/, "today: the time");
  t.match(formatClock("2030-05-20T11:59:00Z", now), /\d\d:\d\d:\d\d$/);
  t.not(
    formatClock("2030-05-20T11:59:00Z", now),
    formatClock("2030-06-01T11:59:00Z", now),
    "another day shows the date",
  );
  t.equal(formatClock("not a time", now), "not a time");
});

t.test("nodes sort init server, servers, agents; TTL choices are what the API accepts", async (t) => {
  const sorted = sortNodes([
    node({ name: "w2", role: "agent" }),
    node({ name: "s3" }),
    node({ name: "w1", role: "agent" }),
    node({ name: "s9", init: true }),
    node({ name: "s2" }),
  ]);
  t.same(
    sorted.map((n) => n.name),
    ["s9", "s2", "s3", "w1", "w2"],
  );
  for (const c of TTL_CHOICES) t.ok(c.seconds >= 60 && c.seconds <= 30 * 24 * 3600, c.label);
});
