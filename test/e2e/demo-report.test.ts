import type { MusterEvent, NodeView } from "@muster/shared";
import t from "tap";
import {
  formatBootstrapLine,
  formatEvent,
  formatSummary,
  lowerBoundSeconds,
  overheadOf,
  overlappingServerJoins,
  progressLine,
  serverJoins,
  withoutNodeName,
} from "./demo-report.ts";

const d = { initSeconds: 30, joinSeconds: 20, agentSeconds: 10, promoteIntervalSeconds: 1 };

t.test("the lower bound is the init then every further server in series; agents overlap", async (t) => {
  t.equal(lowerBoundSeconds(d, 3, 2), 30 + 2 * 20);
  t.equal(lowerBoundSeconds(d, 1, 0), 30);
  t.equal(lowerBoundSeconds({ ...d, agentSeconds: 100 }, 2, 1), 130, "a slow agent can be the critical path");
  t.equal(lowerBoundSeconds(d, 0, 3), 0);
});

t.test("server joins pair each plan release with its outcome; agents are left out", async (t) => {
  const ev = (seq: number, type: MusterEvent["type"], node: string): MusterEvent => ({
    seq,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    type,
    node,
    message: "",
  });
  const node = (name: string, role: NodeView["role"]) => ({ name, role }) as NodeView;
  const joins = serverJoins(
    [
      ev(1, "node.join.started", "s1"),
      ev(2, "node.join.started", "a1"),
      ev(3, "node.join.succeeded", "s1"),
      ev(4, "node.join.started", "s2"),
      ev(5, "node.join.failed", "s2"),
      ev(6, "node.join.started", "s2"),
    ],
    [node("s1", "server"), node("s2", "server"), node("a1", "agent")],
  );
  t.same(
    joins.map((j) => [j.node, j.start.slice(17, 19), j.end?.slice(17, 19) ?? null]),
    [
      ["s1", "01", "03"],
      ["s2", "04", "05"],
      ["s2", "06", null],
    ],
  );
});

t.test("overhead is wall minus the lower bound, split into before-init, gaps, excess and tail", async (t) => {
  const t0 = Date.UTC(2026, 0, 1);
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  // init released at +5 s, ready at +37 (2 s over its 30); s2 released at +40, ready at +61 (1 over 20);
  // s3 released at +61, ready at +81; the last agent joins at +84.
  const joins = [
    { node: "s2", start: at(40), end: at(61) },
    { node: "s1", start: at(5), end: at(37) },
    { node: "s3", start: at(61), end: at(81) },
  ];
  const lower = lowerBoundSeconds(d, 3, 2);
  t.same(overheadOf(joins, t0, 84, lower, d), {
    overheadSeconds: 84 - 70,
    overheadSplit: { beforeInitRelease: 5, joinGaps: 3, joinExcess: 3, tail: 3 },
  });
  t.equal(5 + 3 + 3 + 3, 84 - lower, "on the server path the parts add up to the total");
  const none = overheadOf([{ node: "s1", start: at(9), end: null }], t0, 50, 30, d);
  t.same(none.overheadSplit, { beforeInitRelease: 50, joinGaps: 0, joinExcess: 0, tail: 0 });
});

t.test("overlapping server joins are found; joins in turn are not", async (t) => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  t.same(
    overlappingServerJoins([
      { node: "s1", start: at(1), end: at(10) },
      { node: "s2", start: at(10), end: at(20) },
      { node: "s3", start: at(20), end: null },
    ]),
    [],
    "one after another (a release at the previous ready is not an overlap)",
  );
  t.same(
    overlappingServerJoins([
      { node: "s2", start: at(5), end: at(12) },
      { node: "s1", start: at(1), end: at(10) },
      { node: "s3", start: at(30), end: at(40) },
    ]),
    ["s1 / s2"],
  );
  t.same(
    overlappingServerJoins([
      { node: "s1", start: at(1), end: null },
      { node: "s2", start: at(50), end: at(60) },
    ]),
    ["s1 / s2"],
    "a join that never ended overlaps every later one",
  );
});

t.test("the summary says FAILED and names the overlap", async (t) => {
  const t0 = Date.UTC(2026, 0, 1);
  const base = {
    ok: false,
    servers: 2,
    agents: 0,
    etcdMembers: [],
    nodesReady: 2,
    serverJoins: [],
    wallSeconds: 1,
    lowerBoundSeconds: 1,
    overheadSeconds: 0,
    overheadSplit: { beforeInitRelease: 0, joinGaps: 0, joinExcess: 0, tail: 0 },
    registration: { mode: "node" as const, address: "10.0.0.1" },
  };
  const out = formatSummary({ ...base, overlaps: ["s1 / s2"] }, [], t0);
  t.match(out, /result +FAILED/);
  t.match(out, /OVERLAPPED: s1 \/ s2/);
  t.match(formatSummary({ ...base, ok: true, overlaps: [] }, [], t0), /never overlapping/);
});

t.test("each event line names its node once", async (t) => {
  const t0 = Date.UTC(2026, 0, 1);
  const line = (node: string, message: string) =>
    formatEvent({ seq: 1, time: new Date(t0 + 1500).toISOString(), type: "node.phase", node, message }, t0);
  const cases: Array<[string, string, string]> = [
    ["server-2", "server server-2 joined in 21 s (released 2026-01-01T00:00:00Z)", "server joined in 21 s"],
    ["server-2", "server-2 connected", "connected"],
    ["agent-1", "agent-1: install running", "install running"],
    ["server-3", "plan released to server server-3", "plan released to server"],
    ["agent-1", "checks failed on agent-1: disk", "checks failed: disk"],
    ["agent-10", "agent agent-10 enrolled from 10.0.0.5 (join token abc)", "agent enrolled from 10.0.0.5"],
  ];
  for (const [node, message, starts] of cases) {
    const l = line(node, message);
    t.equal(l.split(node).length - 1, 1, `"${message}": the name appears once`);
    t.ok(l.includes(starts), `"${l}" reads "${starts}"`);
  }
  t.equal(withoutNodeName("agent-1 connected", "agent-10"), "agent-1 connected", "another node's name stays");
  t.match(line("", "join token abc created"), /^ +\+ +1\.5s +join token abc created$/);
});

t.test("the progress line covers every node, before and after enrolment", async (t) => {
  const nodes = [
    { name: "server-1", state: "joining" },
    { name: "agent-1", state: "enrolled" },
  ] as NodeView[];
  const l = progressLine(4, ["server-1", "server-2", "agent-1"], nodes);
  t.match(l, /^ +\+ +4\.0s +waiting: /);
  t.match(l, "joining 1 (server-1)");
  t.match(l, "bootstrapping 1 (server-2)");
  t.match(l, "enrolled 1 (agent-1)");
});

t.test("a node's bootstrap line: the event columns, the node once, the token never", async (t) => {
  const token = "abcdef.0123456789abcdef";
  const line = formatBootstrapLine(
    1.25,
    "server-2",
    "muster-bootstrap: downloaded muster-agent-linux-amd64.tar.gz: 41 MiB (42991616 bytes) in 1 s",
  );
  t.equal(
    line,
    "  +   1.3s  server-2   bootstrap: downloaded muster-agent-linux-amd64.tar.gz: 41 MiB (42991616 bytes) in 1 s",
  );
  const event = formatEvent(
    { seq: 1, time: new Date(1250).toISOString(), type: "node.enrolled", node: "server-2", message: "x" },
    0,
  );
  t.equal(line.indexOf("bootstrap:"), event.indexOf("x"), "the text starts in the events' column");
  t.equal(line.match(/server-2/g)?.length, 1, "the node's name once");
  const leaked = formatBootstrapLine(2, "agent-1", `curl: (22) https://c/v1/x?token=${token} 403`, [token]);
  t.notMatch(leaked, token, "a token in a line is masked");
  t.match(leaked, "token=<join token> 403");
  t.equal(
    formatBootstrapLine(0, "agent-1", "curl: (7) Failed to connect", []),
    "  +   0.0s  agent-1    bootstrap: curl: (7) Failed to connect",
    "lines not from the script (curl on stderr) are shown as printed",
  );
});
