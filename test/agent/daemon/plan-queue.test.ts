import { PlanQueue } from "@muster/agent/daemon/plan-queue";
import t from "tap";
import { samplePlan } from "../helpers/fakes.ts";

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

t.test("plans run one at a time; the newest waiting plan supersedes older ones", async (t) => {
  const order: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred>>();
  const q = new PlanQueue(async (p) => {
    order.push(`start ${p.node}`);
    const g = deferred();
    gates.set(p.node, g);
    await g.promise;
    order.push(`end ${p.node}`);
  });
  const a = samplePlan({ node: "a" });
  t.equal(q.submit(a), "started");
  t.equal(q.submit(a), "duplicate", "the running plan again is ignored");
  t.equal(q.submit(samplePlan({ node: "b" })), "queued");
  const c = samplePlan({ node: "c" });
  t.equal(q.submit(c), "queued");
  t.equal(q.submit(c), "duplicate");
  await new Promise((r) => setImmediate(r));
  t.same(order, ["start a"], "b and c wait");
  gates.get("a")!.resolve();
  await new Promise((r) => setImmediate(r));
  t.same(order, ["start a", "end a", "start c"], "b was superseded by c");
  gates.get("c")!.resolve();
  await q.idle();
  t.same(order, ["start a", "end a", "start c", "end c"]);
});

t.test("stop waits for the running plan and drops the pending one", async (t) => {
  const ran: string[] = [];
  const g = deferred();
  const q = new PlanQueue(async (p) => {
    ran.push(p.node);
    await g.promise;
  });
  q.submit(samplePlan({ node: "a" }));
  q.submit(samplePlan({ node: "b" }));
  const stopped = q.stop();
  t.equal(q.submit(samplePlan({ node: "c" })), "stopped");
  g.resolve();
  await stopped;
  t.same(ran, ["a"]);
});
