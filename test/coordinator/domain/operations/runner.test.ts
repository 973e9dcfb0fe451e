import { createOperationRunner } from "@muster/coordinator/domain/operations/runner";
import { type OperationDefinition, StepFailed } from "@muster/coordinator/domain/operations/types";
import { operationView } from "@muster/coordinator/domain/operations/views";
import { openStore, type Store } from "@muster/coordinator/store/store";
import { createLogger, MusterError } from "@muster/shared";
import t, { type Test } from "tap";
import { nodeFacts } from "../../helpers/domain.ts";

const log = createLogger({ name: "test", level: "silent" });

interface Probe {
  ran: string[];
  taskIds: string[];
  /** Steps named here wait until released. */
  gates: Map<string, { release(): void; started: Promise<void> }>;
}

function gate(probe: Probe, name: string) {
  let release!: () => void;
  let started!: () => void;
  const startedP = new Promise<void>((r) => {
    started = r;
  });
  const released = new Promise<void>((r) => {
    release = r;
  });
  probe.gates.set(name, { release, started: startedP });
  return { released, started };
}

function definitions(probe: Probe, gates: Map<string, { released: Promise<void>; started: () => void }>) {
  const remove: OperationDefinition = {
    type: "remove",
    controlPlane: true,
    kinds: {
      note: {
        async run(ctx) {
          probe.ran.push(ctx.step.name);
          probe.taskIds.push(ctx.taskId("a"));
          const g = gates.get(ctx.step.name);
          if (g) {
            ctx.progress(`waiting in ${ctx.step.name}`);
            g.started();
            await Promise.race([
              g.released,
              new Promise((_, reject) =>
                ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)),
              ),
            ]);
          }
          return undefined;
        },
      },
      skip: {
        async run(ctx) {
          probe.ran.push(ctx.step.name);
          return { state: "skipped", message: "not the etcd leader" };
        },
      },
      fail: {
        async run(ctx) {
          probe.ran.push(ctx.step.name);
          throw new StepFailed("etcd still lists server-2 after 60 s");
        },
      },
    },
  };
  const backup: OperationDefinition = { type: "backup", controlPlane: false, kinds: remove.kinds };
  return [remove, backup];
}

function world(t: Test, dir = t.testdir()) {
  const store = openStore(dir, Date.now);
  const probe: Probe = { ran: [], taskIds: [], gates: new Map() };
  const gates = new Map<string, { released: Promise<void>; started: () => void }>();
  let changed = 0;
  const runner = createOperationRunner({
    store,
    log,
    now: Date.now,
    definitions: definitions(probe, gates),
    onChanged: () => {
      changed++;
    },
  });
  t.teardown(async () => {
    await runner.close();
    store.close();
  });
  return {
    store,
    runner,
    probe,
    dir,
    changes: () => changed,
    gate: (name: string) => {
      const g = gate(probe, name);
      gates.set(name, g);
      return probe.gates.get(name)!;
    },
  };
}

function addServer(store: Store, name: string, n: number): void {
  store.tx(() =>
    store.nodes.insert({
      name,
      machineId: n.toString(16).padStart(32, "0"),
      role: "server",
      address: `10.0.0.${n}`,
      facts: nodeFacts(name, n),
      credentialHash: "0".repeat(64),
      now: Date.now(),
    }),
  );
}

/** Polls a condition every few ms; fails the test after 5 s. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met within 5 s");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const steps = (...names: [string, string][]) => names.map(([name, kind]) => ({ name, kind }));

t.test("a control-plane operation holds the lease while its steps run in order, then frees it", async (t) => {
  const w = world(t);
  addServer(w.store, "server-2", 2);
  const g = w.gate("cordon server-2");
  const op = w.runner.submit({
    type: "remove",
    node: "server-2",
    steps: steps(["move etcd leadership", "skip"], ["cordon server-2", "note"], ["drain server-2", "note"]),
    requestedBy: "10.0.0.9",
  });
  t.equal(op.state, "running");
  await g.started;
  t.same(w.store.lease.current(), {
    kind: "operation",
    operationId: op.id,
    node: "server-2",
    since: op.createdAt,
  });
  t.equal(w.runner.get(op.id)!.reason, "waiting in cordon server-2", "progress is the reason while it waits");
  g.release();
  await w.runner.idle();
  const done = w.runner.get(op.id)!;
  t.equal(done.state, "succeeded");
  t.same(w.probe.ran, ["move etcd leadership", "cordon server-2", "drain server-2"]);
  t.same(
    done.steps.map((s) => [s.name, s.state]),
    [
      ["move etcd leadership", "skipped"],
      ["cordon server-2", "succeeded"],
      ["drain server-2", "succeeded"],
    ],
  );
  t.equal(w.store.lease.current(), null, "the lease is free again");
  t.equal(w.changes(), 1, "the end is announced once, so joins can be planned");
  const view = operationView(done);
  t.equal(view.requestedBy, "10.0.0.9");
  t.equal(view.steps[0]!.message, "not the etcd leader");
  const types = w.store.events.after(0, 100).map((e) => e.type);
  t.same([types[0], types.at(-1)], ["operation.requested", "operation.succeeded"]);
});

t.test("refused while the lease is held, or by the guard: nothing is written", async (t) => {
  const w = world(t);
  addServer(w.store, "server-4", 4);
  w.store.tx(() => w.store.lease.take("server-4", Date.parse("2026-12-01T10:00:00Z")));
  const err = t.throws(() =>
    w.runner.submit({ type: "remove", node: "server-2", steps: steps(["cordon", "note"]) }),
  ) as MusterError;
  t.equal(err.code, "OPERATION_IN_FLIGHT");
  t.equal(err.status, 409);
  t.match(err.message, /server server-4 is joining \(since 2026-12-01T10:00:00.000Z\)/);
  t.same(err.details, [
    {
      path: "lease",
      message: "server server-4 is joining since 2026-12-01T10:00:00.000Z",
      value: "server-4",
    },
  ]);
  w.store.tx(() => w.store.lease.release("server-4"));
  t.throws(
    () =>
      w.runner.submit({
        type: "remove",
        node: "server-2",
        steps: steps(["cordon", "note"]),
        guard: () => {
          throw new MusterError("QUORUM_GUARD", "2 healthy now, 1 after; quorum 2");
        },
      }),
    { code: "QUORUM_GUARD" },
  );
  t.same(w.runner.list(), [], "no operation was recorded");
  t.same(w.store.events.after(0, 10), [], "no event either");
  t.equal(w.store.lease.current(), null);
});

t.test("a second control-plane operation is refused while one runs; a backup runs beside it", async (t) => {
  const w = world(t);
  const g = w.gate("cordon");
  const first = w.runner.submit({ type: "remove", node: null, steps: steps(["cordon", "note"]) });
  await g.started;
  t.throws(() => w.runner.submit({ type: "remove", node: null, steps: steps(["x", "note"]) }), {
    code: "OPERATION_IN_FLIGHT",
    message: new RegExp(`operation ${first.id} is running`),
  });
  const backup = w.runner.submit({ type: "backup", node: null, steps: steps(["snapshot", "note"]) });
  await until(() => w.runner.get(backup.id)!.state === "succeeded");
  t.equal(w.runner.get(first.id)!.state, "running", "the backup did not wait for the lease");
  g.release();
  await w.runner.idle();
  t.equal(w.runner.get(first.id)!.state, "succeeded");
});

t.test("a failing step fails the operation with its message; later steps never run", async (t) => {
  const w = world(t);
  const op = w.runner.submit({
    type: "remove",
    node: null,
    steps: steps(["remove member", "note"], ["wait until etcd no longer lists it", "fail"], ["stop", "note"]),
  });
  await w.runner.idle();
  const done = w.runner.get(op.id)!;
  t.equal(done.state, "failed");
  t.equal(done.reason, "etcd still lists server-2 after 60 s");
  t.same(
    done.steps.map((s) => s.state),
    ["succeeded", "failed", "pending"],
  );
  t.same(w.probe.ran, ["remove member", "wait until etcd no longer lists it"]);
  t.equal(w.store.lease.current(), null, "a failed operation frees the lease");
  t.match(w.store.events.after(0, 100).at(-1), { type: "operation.failed", message: /etcd still lists/ });
});

t.test("after a restart the operation resumes at the step it reached, with the same task ids", async (t) => {
  const dir = t.testdir();
  const first = world(t, dir);
  const g = first.gate("drain");
  const op = first.runner.submit({
    type: "remove",
    node: null,
    steps: steps(["cordon", "note"], ["drain", "note"], ["delete node", "note"]),
  });
  await g.started;
  await first.runner.close(); // as a coordinator going down mid-step
  first.store.close();

  const second = world(t, dir);
  t.same(second.store.lease.current()?.kind, "operation", "the lease survived the restart");
  second.runner.start();
  await second.runner.idle();
  const done = second.runner.get(op.id)!;
  t.equal(done.state, "succeeded");
  t.same(first.probe.ran, ["cordon", "drain"]);
  t.same(second.probe.ran, ["drain", "delete node"], "cordon is not run again; drain is");
  t.equal(second.probe.taskIds[0], first.probe.taskIds[1], "the re-run drain sends the same task id");
  t.equal(second.store.lease.current(), null);
  // The record shows the restart: on the step it resumed at (same attempt), in an event; the step
  // before it was neither re-run nor marked.
  const view = operationView(done);
  t.same(
    view.steps.map((s) => [s.name, s.state, s.attempts, s.restarts]),
    [
      ["cordon", "succeeded", 1, undefined],
      ["drain", "succeeded", 1, 1],
      ["delete node", "succeeded", 1, undefined],
    ],
  );
  const events = second.store.events.after(0, 100);
  t.same(
    events.filter((e) => e.type === "operation.started").map((e) => e.message),
    [`remove resumed after a coordinator restart at step 2 (drain) (operation ${op.id})`],
  );
  t.same(
    events.filter((e) => e.type === "operation.step" && /: drain started/.test(e.message)).length,
    2,
    "drain started once per coordinator",
  );
});

t.test("a restart during a restart's re-run counts both restarts on the step", async (t) => {
  const dir = t.testdir();
  const op = await (async () => {
    const first = world(t, dir);
    const g = first.gate("drain");
    const submitted = first.runner.submit({
      type: "remove",
      node: null,
      steps: steps(["cordon", "note"], ["drain", "note"]),
    });
    await g.started;
    await first.runner.close();
    first.store.close();
    return submitted;
  })();
  const second = world(t, dir);
  const g2 = second.gate("drain");
  second.runner.start();
  await g2.started;
  await second.runner.close();
  second.store.close();

  const third = world(t, dir);
  third.runner.start();
  await third.runner.idle();
  const done = third.runner.get(op.id)!;
  t.equal(done.state, "succeeded");
  t.same(
    done.steps.map((s) => [s.attempts, s.restarts]),
    [
      [1, undefined],
      [1, 2],
    ],
  );
  t.same(third.probe.ran, ["drain"], "only drain ran again");
});
