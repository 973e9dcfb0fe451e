import {
  type StopServerDeps,
  stopServerSafely,
  VipDidNotMove,
} from "@muster/coordinator/domain/registration/stop-server";
import { ClusterSpecSchema, type TaskInput, type TaskResultOf } from "@muster/shared";
import t from "tap";

// stopServerSafely: rke2.stop with killall, the stale VIP deleted, and the VIP verified to have moved
// (one MAC, not the stopped node's) from the other servers; VipDidNotMove when it does not.

const VIP = "10.0.0.100";
const MAC = { s1: "02:00:00:00:00:01", s2: "02:00:00:00:00:02", s3: "02:00:00:00:00:03" } as const;
type Name = keyof typeof MAC;
const vipSpec = ClusterSpecSchema.parse({ vip: { address: VIP, interface: "eth0" } });

/** A fake cluster: who holds the VIP over time, as vip.observe would answer from each node. */
function world(holdersOverTime: Name[][], opts: { staleOnStopped?: boolean } = {}) {
  const calls: { node: string; task: TaskInput }[] = [];
  let round = 0;
  let clock = 0;
  let staleAddress = opts.staleOnStopped ?? false;
  let stopped: string | null = null;
  const holdersNow = (): Name[] => {
    const hs = holdersOverTime[Math.min(round, holdersOverTime.length - 1)]!;
    return staleAddress && stopped ? [...new Set([...hs, stopped as Name])] : hs;
  };
  const deps: StopServerDeps = {
    spec: () => vipSpec,
    observers: () => ["s1", "s2", "s3"],
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
      round++;
    },
    tasks: {
      run: (async (node: string, task: TaskInput) => {
        calls.push({ node, task });
        switch (task.kind) {
          case "rke2.stop":
            stopped = node;
            return { killed: true } satisfies TaskResultOf<"rke2.stop">;
          case "vip.release": {
            const had = staleAddress && stopped === node;
            staleAddress = false;
            return { removed: had } satisfies TaskResultOf<"vip.release">;
          }
          case "vip.observe": {
            const hs = holdersNow();
            const local = hs.includes(node as Name);
            return {
              macs: hs.filter((h) => h !== node).map((h) => MAC[h]),
              local,
              localMac: MAC[node as Name],
            } satisfies TaskResultOf<"vip.observe">;
          }
          default:
            throw new Error(`unexpected task ${task.kind}`);
        }
      }) as StopServerDeps["tasks"]["run"],
    },
  };
  return { deps, calls };
}

t.test("stops with killall, deletes the stale VIP, waits until another server holds it", async (t) => {
  const { deps, calls } = world([[], [], ["s2"]], { staleOnStopped: true });
  const progress: string[] = [];
  const out = await stopServerSafely(deps, "s1", { progress: (m) => progress.push(m), pollMs: 500 });
  t.same(calls[0], { node: "s1", task: { kind: "rke2.stop", unit: "rke2-server", killall: true } });
  t.same(calls[1], { node: "s1", task: { kind: "vip.release", address: VIP, interface: "eth0" } });
  t.equal(out.releasedStaleVip, true, "the address SIGKILLed kube-vip left was deleted");
  t.match(out.vip, { from: "s1", to: "s2", seconds: 1 });
  t.match(progress.join("\n"), /deleted the stale VIP 10\.0\.0\.100 left on s1/);
  t.match(progress.join("\n"), /moved from s1 to s2/);
});

t.test(
  "the VIP staying on the stopped server (kube-vip#1786) stops the operation with the reason",
  async (t) => {
    const { deps } = world([["s1"]]);
    const err = await stopServerSafely(deps, "s1", { moveTimeoutMs: 3000, pollMs: 1000 }).catch((e) => e);
    t.type(err, VipDidNotMove);
    t.match(err.message, /did not move off s1 within 3 s: .*02:00:00:00:00:01 \(s1\)/);
    t.match(err.message, /the operation stops here/);
  },
);

t.test("two machines answering after the stop is not a move", async (t) => {
  const { deps } = world([["s2", "s3"]]);
  const err = await stopServerSafely(deps, "s1", { moveTimeoutMs: 2000 }).catch((e) => e);
  t.type(err, VipDidNotMove);
  t.match(err.message, /2 machines answer ARP/);
});

t.test("stopping a server that did not hold the VIP: it stays where it was, verified", async (t) => {
  const { deps } = world([["s2"]]);
  const out = await stopServerSafely(deps, "s3");
  t.match(out.vip, { from: "s3", to: "s2", seconds: 0 });
  t.equal(out.releasedStaleVip, false);
});

t.test("no VIP: just the stop", async (t) => {
  const { deps, calls } = world([[]]);
  const out = await stopServerSafely({ ...deps, spec: () => ClusterSpecSchema.parse({}) }, "s1", {
    taskId: (s) => `op-1/step-2/${s}`,
  });
  t.same(out, { node: "s1", killed: true, releasedStaleVip: false, vip: null });
  t.same(
    calls.map((c) => c.task.kind),
    ["rke2.stop"],
  );
});
