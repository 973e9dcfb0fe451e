import type { MusterEvent, NodeView } from "@muster/shared";
import t from "tap";
import { lowerBoundSeconds, serverJoins } from "./demo-report.ts";

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
