import { TaskRunner } from "@muster/agent/tasks/runner";
import { TaskFailed, type TaskHandlers } from "@muster/agent/tasks/types";
import { createLogger, TaskResultFrameSchema, TaskRunFrameSchema } from "@muster/shared";
import t from "tap";
import { fakeHost } from "../helpers/fakes.ts";

const log = createLogger({ name: "test", level: "silent" });

function runner(handlers: TaskHandlers, progress: [string, string][] = []) {
  return new TaskRunner({
    host: fakeHost("/nonexistent-root"),
    log,
    signal: new AbortController().signal,
    stateDir: "/var/lib/muster/agent",
    handlers,
    progress: (id, message) => progress.push([id, message]),
  });
}

const frame = (id: string, task: unknown) => TaskRunFrameSchema.parse({ type: "task.run", id, task });

t.test("a kind without a handler is refused by name, not left unanswered", async (t) => {
  const reply = await runner({}).run(frame("task-0001", { kind: "etcd.status" }));
  t.same(reply, {
    type: "task.result",
    id: "task-0001",
    ok: false,
    message: "this agent cannot run etcd.status tasks",
  });
  t.ok(TaskResultFrameSchema.safeParse(reply).success, "the reply is a valid frame");
});

t.test("a result is validated against its kind's schema", async (t) => {
  const good = runner({ "rke2.wipe-db": async () => ({ existed: true }) });
  t.same(await good.run(frame("task-0002", { kind: "rke2.wipe-db" })), {
    type: "task.result",
    id: "task-0002",
    ok: true,
    result: { existed: true },
  });
  const bad = runner({ "rke2.wipe-db": async () => ({ existed: "yes" }) as never });
  const reply = await bad.run(frame("task-0003", { kind: "rke2.wipe-db" }));
  t.equal(reply.ok, false, "a malformed result is a failure");
  t.match(reply.message, /^rke2\.wipe-db failed: /);
});

t.test("TaskFailed's message is shown as is; other errors are prefixed with the kind", async (t) => {
  const r = runner({
    "kube.cordon": async () => {
      throw new TaskFailed("node agent-9 does not exist");
    },
    "kube.delete-node": async () => {
      throw new Error("kubectl exited 1");
    },
  });
  t.equal(
    (await r.run(frame("task-0004", { kind: "kube.cordon", node: "agent-9" }))).message,
    "node agent-9 does not exist",
  );
  t.equal(
    (await r.run(frame("task-0005", { kind: "kube.delete-node", node: "agent-9" }))).message,
    "kube.delete-node failed: kubectl exited 1",
  );
});

t.test("the same id is run once: joined while running, answered from the kept result after", async (t) => {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const r = runner({
    "rke2.uninstall": async () => {
      calls++;
      await gate;
      return { wasInstalled: true };
    },
  });
  const f = frame("task-0006", { kind: "rke2.uninstall" });
  const first = r.run(f);
  const second = r.run(f);
  release();
  t.same(await first, await second, "both callers get the one result");
  t.same(await r.run(f), await first, "a re-send after it finished gets the kept result");
  t.equal(calls, 1, "the handler ran once");
});

t.test("a secret result is not kept: a re-sent kubeconfig task runs again", async (t) => {
  let calls = 0;
  const r = runner({
    "kube.kubeconfig": async () => {
      calls++;
      return { kubeconfig: "apiVersion: v1\n" };
    },
  });
  const f = frame("task-0007", { kind: "kube.kubeconfig" });
  await r.run(f);
  await r.run(f);
  t.equal(calls, 2);
});

t.test("progress lines go out under the task's id", async (t) => {
  const progress: [string, string][] = [];
  const r = runner(
    {
      "kube.drain": async (_task, ctx) => {
        ctx.progress("evicting pod rke2-coredns");
        return { evicted: 1 };
      },
    },
    progress,
  );
  await r.run(frame("task-0008", { kind: "kube.drain", node: "agent-1", timeoutSeconds: 60 }));
  t.same(progress, [["task-0008", "evicting pod rke2-coredns"]]);
});
