import type { MusterEvent, NodeView } from "@muster/shared";
import t from "tap";
import { lowerBoundSeconds, overheadOf, serverJoins } from "./demo-report.ts";

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
