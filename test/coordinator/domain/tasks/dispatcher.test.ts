import {
  createTaskDispatcher,
  TaskFailedError,
  TaskTimedOutError,
} from "@muster/coordinator/domain/tasks/dispatcher";
import type { CoordinatorFrame } from "@muster/shared";
import { createLogger } from "@muster/shared";
import t from "tap";

const log = createLogger({ name: "test", level: "silent" });

function world(connected: Set<string>) {
  const sent: { node: string; frame: CoordinatorFrame }[] = [];
  const d = createTaskDispatcher({
    log,
    send: (node, frame) => {
      if (!connected.has(node)) return false;
      sent.push({ node, frame });
      return true;
    },
  });
  return { d, sent };
}

t.test("a task is sent, and its validated result resolves the caller", async (t) => {
  const { d, sent } = world(new Set(["server-1"]));
  const p = d.run("server-1", { kind: "rke2.wipe-db" }, { timeoutMs: 5000, id: "op1-wipe-1" });
  t.same(sent, [
    { node: "server-1", frame: { type: "task.run", id: "op1-wipe-1", task: { kind: "rke2.wipe-db" } } },
  ]);
  d.result("server-1", { type: "task.result", id: "op1-wipe-1", ok: true, result: { existed: true } });
  t.same(await p, { existed: true });
  t.same(d.inFlight(), []);
});

t.test("a node that is not connected gets the task when it attaches", async (t) => {
  const connected = new Set<string>();
  const { d, sent } = world(connected);
  const p = d.run("agent-1", { kind: "kube.nodes" }, { timeoutMs: 5000, id: "audit-0001" });
  t.equal(sent.length, 0);
  connected.add("agent-1");
  d.attached("agent-1");
  d.attached("agent-1"); // a second reconnect before the answer: sent again, same id
  t.same(
    sent.map((s) => s.frame.type === "task.run" && s.frame.id),
    ["audit-0001", "audit-0001"],
  );
  d.result("agent-1", { type: "task.result", id: "audit-0001", ok: true, result: { nodes: [] } });
  t.same(await p, { nodes: [] });
});

t.test("ok:false, a malformed result, a result from another node", async (t) => {
  const { d } = world(new Set(["server-1", "server-2"]));
  const failed = d.run(
    "server-1",
    { kind: "kube.cordon", node: "agent-1" },
    { timeoutMs: 5000, id: "c-000001" },
  );
  d.result("server-1", { type: "task.result", id: "c-000001", ok: false, message: "node agent-1 not found" });
  await t.rejects(failed, new TaskFailedError("server-1", "kube.cordon", "node agent-1 not found"));

  const malformed = d.run(
    "server-1",
    { kind: "kube.delete-node", node: "a" },
    { timeoutMs: 5000, id: "d-000001" },
  );
  d.result("server-2", { type: "task.result", id: "d-000001", ok: true, result: { existed: true } });
  t.same(
    d.inFlight(),
    [{ id: "d-000001", node: "server-1", kind: "kube.delete-node" }],
    "another node cannot answer it",
  );
  d.result("server-1", { type: "task.result", id: "d-000001", ok: true, result: { existed: "yes" } });
  await t.rejects(malformed, { name: "TaskFailedError", message: /malformed/ });
});

t.test("no answer in time: TaskTimedOut says whether the agent was connected", async (t) => {
  const { d } = world(new Set());
  await t.rejects(
    d.run("server-3", { kind: "etcd.status" }, { timeoutMs: 20 }),
    new TaskTimedOutError("server-3", "etcd.status", 20, false),
  );
  t.same(d.inFlight(), []);
});

t.test("progress reaches the caller; abort and closeAll end waiting tasks", async (t) => {
  const { d } = world(new Set(["server-1"]));
  const lines: string[] = [];
  const ac = new AbortController();
  const p = d.run(
    "server-1",
    { kind: "kube.drain", node: "agent-1", timeoutSeconds: 60 },
    { timeoutMs: 5000, id: "drain-001", onProgress: (m) => lines.push(m), signal: ac.signal },
  );
  d.progress("server-1", "drain-001", "evicting pod rke2-coredns");
  d.progress("server-2", "drain-001", "not from the right node");
  t.same(lines, ["evicting pod rke2-coredns"]);
  ac.abort(new Error("operation cancelled"));
  await t.rejects(p, { message: "operation cancelled" });
  const q = d.run("server-1", { kind: "etcd.status" }, { timeoutMs: 5000 });
  d.closeAll("coordinator shutting down");
  await t.rejects(q, { message: "coordinator shutting down" });
});

t.test("an unknown task kind is refused before anything is sent", async (t) => {
  const { d, sent } = world(new Set(["server-1"]));
  await t.rejects(async () => d.run("server-1", { kind: "shell" } as never, { timeoutMs: 100 }));
  t.same(sent, []);
});
