import { setImmediate as turn } from "node:timers/promises";
import { ClusterSpecSchema } from "@muster/shared";
import t, { type Test } from "tap";
import {
  answerChecks,
  finish,
  formInit,
  join,
  link,
  makeWorld,
  stateOf,
  type World,
} from "../../helpers/domain.ts";

// How often the sequencer plans (sequencer.ts): changes ask for a pass, passes are coalesced and
// spaced, so a burst of frames from many agents costs a bounded number of passes, while a lone
// change after a quiet spell is planned on the next turn of the event loop.

const spec = ClusterSpecSchema.parse({ name: "passes", agents: { concurrency: 1000 } });

/** An init server joined, the registration address healthy: agents may be released. */
async function formedCluster(t: Test, planning = {}): Promise<World> {
  const w = makeWorld(t, { spec, planning });
  formInit(w);
  await w.coord.settle();
  t.equal(w.coord.getCluster().phase, "ready");
  return w;
}

/** Enrols agent i (any number of them: addresses beyond one /24) and asks it for checks. */
function agent(w: World, i: number): string {
  return join(w, `a${i}`, "agent", { address: `10.1.${i >> 8}.${i & 255}` }, 1000 + i).node;
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

t.test("a burst of frames in one turn of the event loop is planned in one pass", async (t) => {
  const w = await formedCluster(t);
  const agents = Array.from({ length: 100 }, (_, i) => agent(w, i));
  const before = w.coord.planningStats().passes;
  for (const a of agents) answerChecks(w, a);
  await until("the pass", () => w.coord.planningStats().passes > before);
  await turn();
  t.equal(w.coord.planningStats().passes - before, 1, "100 check results, one pass");
  t.ok(
    agents.every((a) => stateOf(w, a) === "joining"),
    "that one pass released every agent",
  );
});

t.test("frames spread over many turns cause a bounded number of passes", async (t) => {
  const minIntervalMs = 20;
  const w = await formedCluster(t, { minIntervalMs });
  const agents = Array.from({ length: 300 }, (_, i) => agent(w, i));
  const before = w.coord.planningStats().passes;
  const started = performance.now();
  for (const a of agents) {
    answerChecks(w, a); // each result in its own turn, as frames from 300 sockets arrive
    await turn();
  }
  await until("every agent released", () => agents.every((a) => stateOf(w, a) === "joining"));
  const elapsed = performance.now() - started;
  const passes = w.coord.planningStats().passes - before;
  // One pass at once, then at most one per minIntervalMs (or more apart, when passes are slow).
  const bound = Math.ceil(elapsed / minIntervalMs) + 2;
  t.ok(passes <= bound, `${passes} passes for 300 frames over ${Math.round(elapsed)} ms (bound ${bound})`);
  t.ok(passes < agents.length / 4, "far fewer passes than frames");

  // The same burst finishing its joins: plan.done frames are coalesced the same way.
  const mid = w.coord.planningStats().passes;
  const t1 = performance.now();
  for (const a of agents) {
    finish(w, a);
    await turn();
  }
  await until("the last pass", () => w.coord.planningStats().passes > mid);
  await new Promise((r) => setTimeout(r, minIntervalMs * 3));
  const more = w.coord.planningStats().passes - mid;
  const bound2 = Math.ceil((performance.now() - t1) / minIntervalMs) + 2;
  t.ok(more <= bound2, `${more} passes for 300 plan.done frames (bound ${bound2})`);
  t.equal(w.coord.getCluster().agents.ready, 300);
});

t.test(
  "a lone change after a quiet spell is planned on the next turn; one right after a pass waits",
  async (t) => {
    const minIntervalMs = 500; // long enough that two turns of a loaded machine cannot span it
    const w = await formedCluster(t, { minIntervalMs });
    const [a1, a2] = [agent(w, 1), agent(w, 2)];
    await new Promise((r) => setTimeout(r, minIntervalMs * 1.5)); // quiet: the last pass is long past
    const before = w.coord.planningStats().passes;
    answerChecks(w, a1);
    await turn();
    t.equal(w.coord.planningStats().passes, before + 1, "planned on the next turn");
    t.equal(stateOf(w, a1), "joining");
    answerChecks(w, a2);
    await turn();
    await turn();
    t.equal(stateOf(w, a2), "waiting", "right after a pass: not yet");
    await until("the spaced pass", () => stateOf(w, a2) === "joining", minIntervalMs * 10);
    t.equal(w.coord.planningStats().passes, before + 2, "one more pass, minIntervalMs after the last");
  },
);

t.test("a pass applies at most maxActionsPerPass actions; the rest follow at once", async (t) => {
  const w = await formedCluster(t, { maxActionsPerPass: 5, minIntervalMs: 1000 });
  const agents = Array.from({ length: 12 }, (_, i) => agent(w, i));
  for (const a of agents) answerChecks(w, a);
  const before = w.coord.planningStats();
  w.coord.tick();
  const after = w.coord.planningStats();
  t.equal(after.actions - before.actions, 5, "the first 5 releases");
  t.equal(agents.filter((a) => stateOf(w, a) === "joining").length, 5);
  t.same(
    agents.filter((a) => stateOf(w, a) === "joining"),
    agents.slice(0, 5),
    "in plan order: the earliest enrolled first",
  );
  // The rest are not held back by the 1 s spacing: the cut-short pass continues on the next turns.
  await until("the rest", () => agents.every((a) => link(w, a).last("plan.apply")), 500);
  t.ok(
    agents.every((a) => stateOf(w, a) === "joining"),
    "every agent released, and sent its plan once the release committed",
  );
});
