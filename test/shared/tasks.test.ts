import {
  AgentFrameSchema,
  CoordinatorFrameSchema,
  SECRET_TASK_RESULTS,
  TASK_KINDS,
  TaskResultSchemas,
} from "@muster/shared";
import t from "tap";

t.test("task.run carries only known, well-formed tasks", async (t) => {
  const ok = CoordinatorFrameSchema.safeParse({
    type: "task.run",
    id: "op1-step2-a",
    task: { kind: "kube.drain", node: "agent-1", timeoutSeconds: 300 },
  });
  t.ok(ok.success);
  t.same(ok.data, {
    type: "task.run",
    id: "op1-step2-a",
    task: { kind: "kube.drain", node: "agent-1", timeoutSeconds: 300, force: false },
  });
  for (const task of [
    { kind: "shell", command: "rm -rf /" },
    { kind: "kube.drain", node: "agent-1" },
    { kind: "etcd.move-leader", toId: "not-hex" },
    { kind: "kube.cordon", node: "a", extra: 1 },
  ])
    t.notOk(CoordinatorFrameSchema.safeParse({ type: "task.run", id: "abcdefgh", task }).success, task.kind);
  t.notOk(
    CoordinatorFrameSchema.safeParse({ type: "task.run", id: "x", task: { kind: "etcd.status" } }).success,
    "a short id is refused",
  );
});

t.test("task.result and task.progress are agent frames", async (t) => {
  t.ok(AgentFrameSchema.safeParse({ type: "task.result", id: "abcdefgh", ok: true, result: {} }).success);
  t.ok(AgentFrameSchema.safeParse({ type: "task.progress", id: "abcdefgh", message: "evicting" }).success);
  t.notOk(AgentFrameSchema.safeParse({ type: "task.result", id: "abcdefgh" }).success, "ok is required");
});

t.test("every kind has a result schema; the kubeconfig is a secret result", async (t) => {
  t.same(Object.keys(TaskResultSchemas).sort(), [...TASK_KINDS].sort());
  t.ok(SECRET_TASK_RESULTS.has("kube.kubeconfig"));
  t.notOk(TaskResultSchemas["etcd.status"].safeParse({ members: [], leaderId: 1, localId: null }).success);
});
