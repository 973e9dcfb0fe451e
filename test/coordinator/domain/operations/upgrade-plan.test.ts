import { upgradeSteps } from "@muster/coordinator/domain/operations/upgrade-plan";
import t from "tap";

// The rolling upgrade's step list (docs/reference.md#upgrades): snapshot, servers one per step (init
// last), the release recorded once every server runs it, then agents in batches of agents.concurrency; nodes not joined are not touched.

const n = (name: string, role: "server" | "agent", init = false, state = "joined") =>
  ({ name, role, init, state, connected: true }) as never;
const V = "v1.34.1+rke2r1";

t.test("servers one at a time, init last, then agents by concurrency", async (t) => {
  const steps = upgradeSteps(
    V,
    [
      n("s1", "server", true),
      n("s2", "server"),
      n("s3", "server"),
      n("a1", "agent"),
      n("a2", "agent"),
      n("a3", "agent"),
      n("a4", "agent", false, "lost"),
    ],
    { concurrency: 2, drain: false },
  );
  t.same(
    steps.map((s) => [s.kind, s.args.nodes]),
    [
      ["pre-snapshot", ["s1"]],
      ["server", ["s2"]],
      ["server", ["s3"]],
      ["server", ["s1"]],
      ["record-release", []],
      ["agents", ["a1", "a2"]],
      ["agents", ["a3"]],
    ],
  );
  t.ok(steps.every((s) => s.args.version === V && s.args.drain === false));
  t.ok(
    steps.filter((s) => s.kind === "server").every((s) => s.args.nodes.length === 1),
    "never two servers in a step",
  );
  t.match(steps[1]!.name, /cordon, install, restart, readiness gate, uncordon/);
});

t.test("drain is in each server's step; concurrency 1 gives one agent per step", async (t) => {
  const steps = upgradeSteps(V, [n("s1", "server", true), n("a1", "agent"), n("a2", "agent")], {
    concurrency: 1,
    drain: true,
  });
  t.match(steps[1]!.name, /cordon, drain, install/);
  t.same(
    steps.filter((s) => s.kind === "agents").map((s) => s.args.nodes),
    [["a1"], ["a2"]],
  );
});
