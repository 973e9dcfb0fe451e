import {
  joinBars,
  layoutTimeline,
  offsetLabel,
  type RoleOf,
  serverOverlaps,
} from "@muster/console/model/timeline";
import type { MusterEvent } from "@muster/shared";
import t from "tap";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
let seq = 0;
function ev(type: MusterEvent["type"], node: string, atS: number, message = `${type} ${node}`): MusterEvent {
  seq += 1;
  return { seq, time: new Date(T0 + atS * 1000).toISOString(), type, node, message };
}
const roles: RoleOf = (n) =>
  n.startsWith("server")
    ? { role: "server", init: n === "server-1" }
    : n.startsWith("agent")
      ? { role: "agent", init: false }
      : undefined;

t.test("bars run from plan release to the result, one per attempt", async (t) => {
  const events = [
    ev("node.enrolled", "server-1", 0),
    ev("node.join.started", "server-1", 5),
    ev("node.phase", "server-1", 10),
    ev("node.join.succeeded", "server-1", 65),
    ev("node.join.started", "server-2", 66),
    ev("node.join.started", "agent-1", 66),
    ev("node.join.failed", "server-2", 100),
    ev("node.join.succeeded", "agent-1", 96),
    ev("node.join.started", "server-2", 120), // the retry
  ];
  const bars = joinBars(events, roles);
  t.same(
    bars.map((b) => [
      b.node,
      b.role,
      b.init,
      b.attempt,
      (b.start - T0) / 1000,
      b.end && (b.end - T0) / 1000,
      b.outcome,
    ]),
    [
      ["server-1", "server", true, 1, 5, 65, "succeeded"],
      ["server-2", "server", false, 1, 66, 100, "failed"],
      ["agent-1", "agent", false, 1, 66, 96, "succeeded"],
      ["server-2", "server", false, 2, 120, null, "running"],
    ],
  );
});

t.test(
  "events out of order are read in seq order; unknown nodes take their role from the words",
  async (t) => {
    const a = ev("node.join.started", "x", 0, "plan released to init server (initialises the cluster) x");
    const b = ev("node.join.succeeded", "x", 30);
    const c = ev("node.join.started", "y", 31, "plan released to agent y");
    const d = ev("node.join.started", "z", 32, "plan released to server z");
    const bars = joinBars([d, b, c, a], () => undefined);
    t.same(
      bars.map((x) => [x.node, x.role, x.init, x.outcome]),
      [
        ["x", "server", true, "succeeded"],
        ["y", "agent", false, "running"],
        ["z", "server", false, "running"],
      ],
    );
    t.same(joinBars([ev("node.join.succeeded", "q", 1)], roles), [], "a result without a release is no bar");
  },
);

t.test("a second release without a result cuts the first short", async (t) => {
  const bars = joinBars(
    [ev("node.join.started", "server-3", 0), ev("node.join.started", "server-3", 10)],
    roles,
  );
  t.same(
    bars.map((b) => [b.attempt, b.outcome, b.end && (b.end - T0) / 1000]),
    [
      [1, "interrupted", 10],
      [2, "running", null],
    ],
  );
});

t.test("server overlaps are found; back-to-back joins and agents do not count", async (t) => {
  const serial = joinBars(
    [
      ev("node.join.started", "server-1", 0),
      ev("node.join.succeeded", "server-1", 60),
      ev("node.join.started", "server-2", 60),
      ev("node.join.started", "agent-1", 10),
      ev("node.join.succeeded", "server-2", 120),
    ],
    roles,
  );
  t.same(serverOverlaps(serial, T0 + 200_000), [], "end at 60 s, next start at 60 s: no overlap");
  const overlapping = joinBars(
    [
      ev("node.join.started", "server-1", 0),
      ev("node.join.started", "server-2", 30),
      ev("node.join.succeeded", "server-2", 50),
    ],
    roles,
  );
  const found = serverOverlaps(overlapping, T0 + 100_000);
  t.same(
    found.map(([a, b]) => [a.node, b.node]),
    [["server-1", "server-2"]],
    "a running server-1 overlaps server-2",
  );
  t.same(serverOverlaps(overlapping, T0 + 20_000).length, 0, "not yet at 20 s");
});

t.test("layout: one axis, servers first, percentages and round ticks", async (t) => {
  const bars = joinBars(
    [
      ev("node.join.started", "agent-1", 0),
      ev("node.join.started", "server-1", 0),
      ev("node.join.succeeded", "server-1", 60),
      ev("node.join.succeeded", "agent-1", 30),
      ev("node.join.started", "server-2", 60),
      ev("node.join.succeeded", "server-2", 120),
    ],
    roles,
  );
  const layout = layoutTimeline(bars, T0 + 500_000);
  t.equal(layout.start, T0);
  t.equal(layout.end, T0 + 120_000, "a finished sequence ends at its last result, not now");
  t.same(
    layout.bars.map((b) => [b.node, b.left, b.width]),
    [
      ["server-1", 0, 50],
      ["server-2", 50, 50],
      ["agent-1", 0, 25],
    ],
  );
  t.same(
    layout.ticks.map((x) => [x.left, x.label]),
    [
      [0, "+0s"],
      [25, "+30s"],
      [50, "+1m"],
      [75, "+1m30s"],
      [100, "+2m"],
    ],
  );
  t.ok(layout.ticks.length <= 6);

  const live = layoutTimeline(joinBars([ev("node.join.started", "server-1", 0)], roles), T0 + 40_000);
  t.equal(live.end, T0 + 40_000, "a running join stretches the axis to now");
  t.same([live.bars[0]!.left, live.bars[0]!.width, live.bars[0]!.to], [0, 100, 40_000]);
  t.same(layoutTimeline([], T0).bars, []);
});

t.test("offset labels", async (t) => {
  t.same([0, 45_000, 60_000, 90_000, 3_600_000, 4_500_000].map(offsetLabel), [
    "+0s",
    "+45s",
    "+1m",
    "+1m30s",
    "+1h",
    "+1h15m",
  ]);
});
