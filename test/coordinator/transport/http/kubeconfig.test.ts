import t from "tap";
import { parse } from "yaml";
import {
  ADMIN_TOKEN,
  auth,
  createJoinToken,
  enrol,
  facts,
  makeApp,
  passChecks,
} from "../../helpers/harness.ts";

// GET /v1/kubeconfig (docs/reference.md#kubeconfig): the admin kubeconfig read by a joined server's
// agent (kube.kubeconfig), its server rewritten to the registration address; admin only, never logged.

const KEY = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tc2VjcmV0LWtleS1kYXRh";
const RKE2_YAML = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EtREFUQQ==
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: ${KEY}
`;

t.test("kubeconfig through a joined server's agent, server moved to the registration address", async (t) => {
  const { app, logs } = await makeApp(t);
  const get = (headers: Record<string, string> = auth) =>
    app.inject({ method: "GET", url: "/v1/kubeconfig", headers });

  t.equal((await get({})).statusCode, 401, "no token: refused");
  t.equal(
    (await get({ authorization: "Bearer not-the-admin-token" })).statusCode,
    401,
    "wrong token: refused",
  );
  const none = await get();
  t.equal(none.statusCode, 409, "no server yet");
  t.match(none.json(), { error: { code: "CONFLICT", message: /no joined server.*muster nodes/ } });
  t.equal((await app.inject({ method: "GET", url: "/v1/kubeconfig?x=1", headers: auth })).statusCode, 400);

  const cp1 = await enrol(app, (await createJoinToken(app, "server")).token, facts("cp-1"));
  await passChecks(cp1.agent);
  const plan = (await cp1.agent.next("plan.apply")).plan;
  cp1.agent.send({
    type: "token.captured",
    checksum: plan.checksum,
    token: `K10${"ab".repeat(32)}::server:${"cd".repeat(16)}`,
  });
  cp1.agent.send({ type: "plan.done", checksum: plan.checksum, ok: true });
  await waitFor(
    async () =>
      (await app.inject({ method: "GET", url: "/v1/nodes/cp-1", headers: auth })).json().state === "joined",
  );
  const cluster = (await app.inject({ method: "GET", url: "/v1/cluster", headers: auth })).json();
  t.ok(cluster.registrationAddress, "the cluster has a registration address");

  const pending = get();
  const run = await cp1.agent.next("task.run");
  t.same(run.task, { kind: "kube.kubeconfig" }, "the agent is asked for rke2.yaml");
  cp1.agent.send({ type: "task.result", id: run.id, ok: true, result: { kubeconfig: RKE2_YAML } });
  const res = await pending;
  t.equal(res.statusCode, 200, res.body);
  t.equal(res.headers["cache-control"], "no-store");
  const doc = parse(res.json().kubeconfig);
  t.equal(doc.clusters[0].cluster.server, `https://${cluster.registrationAddress}:6443`);
  t.equal(doc.clusters[0].cluster["certificate-authority-data"], "Q0EtREFUQQ==", "CA kept");
  t.equal(doc.users[0].user["client-key-data"], KEY, "client key kept");

  const all = logs.join("\n");
  t.notMatch(all, KEY, "the key never reaches a log line");
  t.notMatch(all, ADMIN_TOKEN, "nor does the admin token");
  t.ok(
    logs.some((l) => l.includes("admin kubeconfig handed out")),
    "an audit line says it was handed out",
  );

  // The agent fails: 503 with the reason, never the content.
  const failing = get();
  const run2 = await cp1.agent.next("task.run");
  cp1.agent.send({
    type: "task.result",
    id: run2.id,
    ok: false,
    message: "could not read the admin kubeconfig: ENOENT",
  });
  const failed = await failing;
  t.equal(failed.statusCode, 503, failed.body);
  t.match(failed.json(), {
    error: { code: "UNAVAILABLE", message: /cp-1: could not read the admin kubeconfig: ENOENT/ },
  });
});

async function waitFor(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
