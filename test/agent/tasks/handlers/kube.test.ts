import { TASK_HANDLERS } from "@muster/agent/tasks/handlers/index";
import {
  countDrained,
  drainArgs,
  kubeAnnotate,
  kubeCordon,
  kubeDeleteNode,
  kubeDeleteNodePassword,
  kubeDrain,
  kubeKubeconfig,
  kubeNodes,
  parseNodeList,
} from "@muster/agent/tasks/handlers/kube";
import { TaskRunner } from "@muster/agent/tasks/runner";
import { TaskFailed } from "@muster/agent/tasks/types";
import { TaskResultSchemas, TaskRunFrameSchema } from "@muster/shared";
import t from "tap";
import { failed, fakeHost, fakeKubectl, memoryLogger, ok } from "../../helpers/fakes.ts";
import { taskContext } from "../../helpers/task-context.ts";

// `kubectl get nodes -o json` as a v1.33 server prints it (trimmed to what matters).
const NODES_JSON = JSON.stringify({
  apiVersion: "v1",
  kind: "List",
  items: [
    {
      metadata: {
        name: "server-1",
        annotations: {
          "etcd.rke2.cattle.io/node-name": "server-1-4f1a2b3c",
          "etcd.rke2.cattle.io/node-address": "10.0.0.11",
          "rke2.io/node-args": `["server","--token","********",${'"x",'.repeat(2000)}"y"]`,
        },
      },
      spec: { podCIDR: "10.42.0.0/24" },
      status: {
        conditions: [
          { type: "MemoryPressure", status: "False" },
          { type: "Ready", status: "True", reason: "KubeletReady" },
        ],
        nodeInfo: { kubeletVersion: "v1.33.5+rke2r1", osImage: "Debian GNU/Linux 12" },
      },
    },
    {
      metadata: { name: "agent-1" },
      spec: { unschedulable: true, taints: [{ key: "node.kubernetes.io/unschedulable" }] },
      status: {
        conditions: [{ type: "Ready", status: "Unknown" }],
        nodeInfo: { kubeletVersion: "v1.33.5+rke2r1" },
      },
    },
    { metadata: { name: "agent-2" } },
  ],
});

const server = (handler: Parameters<typeof fakeKubectl>[0], o: Parameters<typeof fakeKubectl>[1] = {}) =>
  fakeKubectl(handler, o);

t.test("kube.nodes: Ready, unschedulable, kubelet version and annotations from kubectl's JSON", async (t) => {
  const k = server(() => ok(NODES_JSON));
  const { ctx } = taskContext(t.testdir(), { kubectl: k.kubectl });
  const r = await kubeNodes({ kind: "kube.nodes" }, ctx);
  t.same(k.calls, [["get", "nodes", "-o", "json"]]);
  t.same(r.nodes, [
    {
      name: "server-1",
      ready: "True",
      unschedulable: false,
      kubeletVersion: "v1.33.5+rke2r1",
      annotations: {
        "etcd.rke2.cattle.io/node-name": "server-1-4f1a2b3c",
        "etcd.rke2.cattle.io/node-address": "10.0.0.11",
      },
    },
    {
      name: "agent-1",
      ready: "Unknown",
      unschedulable: true,
      kubeletVersion: "v1.33.5+rke2r1",
      annotations: {},
    },
    { name: "agent-2", ready: "Unknown", unschedulable: false, kubeletVersion: "", annotations: {} },
  ]);
  t.ok(
    TaskResultSchemas["kube.nodes"].safeParse(r).success,
    "an oversized annotation does not break the result",
  );
  t.throws(() => parseNodeList("{not json"), TaskFailed);
  t.throws(() => parseNodeList('{"items":[{"metadata":{}}]}'), TaskFailed);
});

t.test("kube tasks on a node without the admin kubeconfig: TaskFailed naming servers", async (t) => {
  const k = server(() => ok(), { presence: { kubeconfig: false, kubectl: false } });
  const { ctx } = taskContext(t.testdir(), { kubectl: k.kubectl });
  for (const run of [
    (): Promise<unknown> => kubeNodes({ kind: "kube.nodes" }, ctx),
    () => kubeCordon({ kind: "kube.cordon", node: "agent-1", undo: false }, ctx),
    () => kubeKubeconfig({ kind: "kube.kubeconfig" }, ctx),
  ])
    await t.rejects(run(), {
      constructor: TaskFailed,
      message: "no admin kubeconfig here: kube tasks run on servers",
    });
  t.same(k.calls, [], "kubectl never ran");
});

t.test("cordon, uncordon, annotate, delete node and node-password: kubectl's own argv", async (t) => {
  const k = server((args) => {
    if (args[0] === "delete" && args.includes("agent-1")) return ok('node "agent-1" deleted\n');
    if (args[0] === "delete" && args.includes("agent-1.node-password.rke2"))
      return ok('secret "agent-1.node-password.rke2" deleted\n');
    return ok("");
  });
  const { ctx } = taskContext(t.testdir(), { kubectl: k.kubectl });
  await kubeCordon({ kind: "kube.cordon", node: "agent-1", undo: false }, ctx);
  await kubeCordon({ kind: "kube.cordon", node: "agent-1", undo: true }, ctx);
  await kubeAnnotate(
    { kind: "kube.annotate", node: "server-2", key: "etcd.rke2.cattle.io/remove", value: "true" },
    ctx,
  );
  t.same(await kubeDeleteNode({ kind: "kube.delete-node", node: "agent-1" }, ctx), { existed: true });
  t.same(await kubeDeleteNode({ kind: "kube.delete-node", node: "agent-9" }, ctx), { existed: false });
  t.same(await kubeDeleteNodePassword({ kind: "kube.delete-node-password", node: "agent-1" }, ctx), {
    existed: true,
  });
  t.same(k.calls, [
    ["cordon", "agent-1"],
    ["uncordon", "agent-1"],
    ["annotate", "node", "server-2", "etcd.rke2.cattle.io/remove=true", "--overwrite"],
    ["delete", "node", "agent-1", "--ignore-not-found"],
    ["delete", "node", "agent-9", "--ignore-not-found"],
    ["delete", "secret", "-n", "kube-system", "agent-1.node-password.rke2", "--ignore-not-found"],
  ]);
});

t.test("names and keys that kubectl would read as flags or reject are refused first", async (t) => {
  const k = server(() => ok());
  const { ctx } = taskContext(t.testdir(), { kubectl: k.kubectl });
  await t.rejects(kubeDeleteNode({ kind: "kube.delete-node", node: "--all" }, ctx), {
    message: '"--all" is not a Kubernetes node name',
  });
  await t.rejects(kubeAnnotate({ kind: "kube.annotate", node: "server-1", key: "remove-", value: "" }, ctx), {
    message: '"remove-" is not an annotation key',
  });
  await t.rejects(
    kubeAnnotate({ kind: "kube.annotate", node: "server-1", key: "a/b/c", value: "" }, ctx),
    TaskFailed,
  );
  t.same(k.calls, []);
});

t.test("a kubectl failure is TaskFailed with its error line, scrubbed of tokens", async (t) => {
  const jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06YWRtaW4ifQ.c2lnbmF0dXJl";
  const k = server(() =>
    failed(
      1,
      `Warning: something harmless\nerror: You must be logged in to the server (Unauthorized): Bearer ${jwt}\n`,
    ),
  );
  const { ctx } = taskContext(t.testdir(), { kubectl: k.kubectl });
  const err = await kubeCordon({ kind: "kube.cordon", node: "agent-1", undo: false }, ctx).catch((e) => e);
  t.type(err, TaskFailed);
  t.equal(
    err.message,
    "kubectl cordon agent-1 failed (exit 1): error: You must be logged in to the server (Unauthorized): Bearer [redacted]",
  );
  t.notMatch(err.message, jwt);

  const notFound = server(() => failed(1, 'Error from server (NotFound): nodes "agent-9" not found\n'));
  await t.rejects(
    kubeCordon(
      { kind: "kube.cordon", node: "agent-9", undo: false },
      taskContext(t.testdir(), { kubectl: notFound.kubectl }).ctx,
    ),
    {
      message:
        'kubectl cordon agent-9 failed (exit 1): Error from server (NotFound): nodes "agent-9" not found',
    },
  );
});

// What `kubectl drain` prints: cordon and pod lines on stdout, warnings on stderr.
const DRAIN_STDOUT = `node/agent-1 cordoned
pod/web-7c9f8d6b5-2xkqz evicted
pod/web-7c9f8d6b5-9sd7l evicted
pod/coredns-6799fbcd5-4hnqd evicted
node/agent-1 drained
`;
const FORCE_DRAIN_STDOUT = `node/agent-2 already cordoned
pod/db-0 deleted
pod "web-7c9f8d6b5-x1" has DeletionTimestamp older than 1 seconds, skipping
pod "web-7c9f8d6b5-x2" has DeletionTimestamp older than 1 seconds, skipping
node/agent-2 drained
`;

t.test("drain: flags, and the evicted count from kubectl's output", async (t) => {
  t.same(drainArgs("agent-1", 300, false), [
    "drain",
    "agent-1",
    "--ignore-daemonsets",
    "--delete-emptydir-data",
    "--timeout=300s",
  ]);
  t.same(drainArgs("agent-2", 60, true).slice(5), [
    "--force",
    "--disable-eviction",
    "--grace-period=1",
    "--skip-wait-for-delete-timeout=1",
  ]);
  t.equal(countDrained(DRAIN_STDOUT), 3);
  t.equal(countDrained(FORCE_DRAIN_STDOUT), 3, "deleted and skipped (lost kubelet) pods both count");
  t.equal(countDrained("node/agent-1 cordoned\nnode/agent-1 drained\n"), 0);
  t.equal(countDrained("pod default/web-1 evicted\n"), 1, "kubectl's printer-less fallback line counts too");
});

t.test("drain runs with a timeout beyond kubectl's own and reports progress while it blocks", async (t) => {
  let release!: () => void;
  const blocked = new Promise<void>((r) => {
    release = r;
  });
  const k = fakeKubectl(async () => {
    await blocked;
    return ok(DRAIN_STDOUT);
  });
  const { ctx, progress } = taskContext(t.testdir(), { kubectl: k.kubectl, progressEveryMs: 5 });
  const running = kubeDrain({ kind: "kube.drain", node: "agent-1", timeoutSeconds: 120, force: false }, ctx);
  const deadline = Date.now() + 5000;
  while (progress.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  release();
  t.same(await running, { evicted: 3 });
  t.ok(progress.length >= 2, "progress lines while kubectl blocked");
  t.match(progress[0], /^draining agent-1: \d+ s$/);
  const frozen = progress.length;
  await new Promise((r) => setTimeout(r, 30));
  t.equal(progress.length, frozen, "no progress after the drain ended");
});

t.test("drain that times out says so", async (t) => {
  const k = fakeKubectl(() => ({ exitCode: 124, stdout: "", stderr: "", timedOut: true }));
  const { ctx } = taskContext(t.testdir(), { kubectl: k.kubectl });
  await t.rejects(kubeDrain({ kind: "kube.drain", node: "agent-1", timeoutSeconds: 10, force: false }, ctx), {
    message: "kubectl drain agent-1 timed out after 40 s",
  });
});

const KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJlRENDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmh5YTJVeQ==
    server: https://127.0.0.1:6443
  name: default
users:
- name: default
  user:
    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUZzZWNyZXRrZXlkYXRhCg==
`;

t.test("kube.kubeconfig: the file's text, and never in a log line", async (t) => {
  const k = fakeKubectl(() => ok(), { kubeconfig: KUBECONFIG });
  const { log, lines } = memoryLogger("trace");
  const runner = new TaskRunner({
    host: { ...fakeHost(t.testdir()), kubectl: k.kubectl },
    log,
    signal: new AbortController().signal,
    stateDir: "/var/lib/muster/agent",
    handlers: TASK_HANDLERS,
    progress: () => {},
  });
  const reply = await runner.run(
    TaskRunFrameSchema.parse({ type: "task.run", id: "task-kc01", task: { kind: "kube.kubeconfig" } }),
  );
  t.same(reply, { type: "task.result", id: "task-kc01", ok: true, result: { kubeconfig: KUBECONFIG } });
  t.ok(lines.length >= 2, "the runner did log the task");
  for (const secret of ["client-key-data", "LS0tLS1CRUdJTiBFQyBQUklWQVRF"])
    t.notOk(
      lines.some((l) => l.includes(secret)),
      `no log line holds ${secret}`,
    );
});

t.test("kube.kubeconfig failures never carry the content", async (t) => {
  const unreadable = {
    ...fakeKubectl().kubectl,
    readKubeconfig: async () => {
      throw Object.assign(new Error(`EACCES: permission denied, and here is ${KUBECONFIG}`), {
        code: "EACCES",
      });
    },
  };
  const err = await kubeKubeconfig(
    { kind: "kube.kubeconfig" },
    taskContext(t.testdir(), { kubectl: unreadable }).ctx,
  ).catch((e) => e);
  t.equal(err.message, "could not read the admin kubeconfig: EACCES");
  const huge = fakeKubectl(() => ok(), { kubeconfig: `${KUBECONFIG}${"#".repeat(1_000_001)}` });
  const big = await kubeKubeconfig(
    { kind: "kube.kubeconfig" },
    taskContext(t.testdir(), { kubectl: huge.kubectl }).ctx,
  ).catch((e) => e);
  t.equal(big.message, "the admin kubeconfig is larger than 1 MB");
});
