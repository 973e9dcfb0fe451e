import type { HttpGetOptions } from "@muster/agent/adapters/types";
import { etcdMembership } from "@muster/agent/phases/readiness";
import { waitReadyPhase } from "@muster/agent/phases/wait-ready";
import { formatRke2Token } from "@muster/shared";
import t from "tap";
import { fakeHost, fakeHttp, fakeSystemd, type Route, samplePlan } from "../helpers/fakes.ts";
import { phaseContext } from "../helpers/phase-context.ts";

const CA = "-----BEGIN CERTIFICATE-----\nY2x1c3RlciBjYQ==\n-----END CERTIFICATE-----\n";
const TOKEN = formatRke2Token(CA, "p4ssw0rdp4ssw0rdp4ssw0rdp4ssw0rd");
const body = (b: string) => ({ status: 200, body: b });
const members = (learner: boolean) =>
  body(
    JSON.stringify({
      members: [
        { ID: 1, name: "other-9f9f", peerURLs: ["https://10.0.0.10:2380"] },
        {
          ID: 2,
          name: "node-1-1a2b3c4d",
          peerURLs: ["https://10.0.0.11:2380"],
          ...(learner ? { isLearner: true } : {}),
        },
      ],
    }),
  );

function serverRoutes(over: Record<string, Route> = {}): Record<string, Route> {
  return {
    "https://127.0.0.1:9345/cacerts": body(CA),
    "https://127.0.0.1:9345/ping": body("pong"),
    "https://10.0.0.11:6443/readyz": body("ok"),
    "https://127.0.0.1:9345/db/info": members(false),
    ...over,
  };
}
const serverPlan = () =>
  samplePlan({
    config: {
      server: "https://10.0.0.100:9345",
      token: TOKEN,
      "node-name": "node-1",
      "node-ip": "10.0.0.11",
    },
  });
const active = () =>
  fakeSystemd({
    "rke2-server": { active: true, enabled: true },
    "rke2-agent": { active: true, enabled: true },
  }).systemd;

t.test(
  "server ready: active, ping, readyz and etcd voter, all over TLS pinned by the token's CA hash",
  async (t) => {
    const { http, gets } = fakeHttp(serverRoutes());
    const { ctx } = phaseContext(fakeHost(t.testdir(), { http, systemd: active() }), serverPlan());
    t.match(
      await waitReadyPhase.run(ctx),
      /^ready \(service active, :9345\/ping pong, :6443\/readyz ok, etcd voter\)$/,
    );
    t.same(
      gets[0],
      { url: "https://127.0.0.1:9345/cacerts", opts: { insecure: true, timeoutMs: 5000 } },
      "only /cacerts unverified",
    );
    for (const g of gets.slice(1)) t.equal(g.opts.ca, CA, `${g.url} verified against the pinned CA`);
  },
);

t.test("waits while this node is an etcd learner, then succeeds once promoted", async (t) => {
  let polls = 0;
  const { http } = fakeHttp(serverRoutes({ "https://127.0.0.1:9345/db/info": () => members(++polls < 3) }));
  const { ctx } = phaseContext(fakeHost(t.testdir(), { http, systemd: active() }), serverPlan());
  await waitReadyPhase.run(ctx);
  t.equal(polls, 3);
});

t.test("times out with the last reason (learner never promoted)", async (t) => {
  const { http } = fakeHttp(serverRoutes({ "https://127.0.0.1:9345/db/info": members(true) }));
  const plan = samplePlan({
    ...serverPlan(),
    readiness: { registrationAddress: "10.0.0.100", timeoutSeconds: 1 },
  });
  const { ctx } = phaseContext(fakeHost(t.testdir(), { http, systemd: active() }), plan, { pollMs: 100 });
  await t.rejects(waitReadyPhase.run(ctx), /not ready after 1s: this node is still an etcd learner/);
});

t.test("a CA that does not match the token's hash fails at once", async (t) => {
  const { http, gets } = fakeHttp(
    serverRoutes({
      "https://127.0.0.1:9345/cacerts": body(
        "-----BEGIN CERTIFICATE-----\nZXZpbA==\n-----END CERTIFICATE-----\n",
      ),
    }),
  );
  const { ctx } = phaseContext(fakeHost(t.testdir(), { http, systemd: active() }), serverPlan());
  await t.rejects(waitReadyPhase.run(ctx), /does not match the cluster token's CA hash/);
  t.equal(gets.length, 1, "nothing else was asked of an untrusted server");
});

t.test("init server: the CA hash comes from RKE2's token file", async (t) => {
  const root = t.testdir({ var: { lib: { rancher: { rke2: { server: { token: `${TOKEN}\n` } } } } } });
  const { http } = fakeHttp(serverRoutes());
  const plan = samplePlan({
    init: true,
    captureToken: true,
    config: { "node-name": "node-1", "node-ip": "10.0.0.11" },
    readiness: { registrationAddress: null, timeoutSeconds: 5 },
  });
  await waitReadyPhase.run(phaseContext(fakeHost(root, { http, systemd: active() }), plan).ctx);
  t.pass("ready with the token file's CA");
});

t.test("readyz 401 (anonymous auth off) is retried with RKE2's admin client certificate", async (t) => {
  const root = t.testdir({
    var: {
      lib: {
        rancher: { rke2: { server: { tls: { "client-admin.crt": "CERT", "client-admin.key": "KEY" } } } },
      },
    },
  });
  const readyz = (o: HttpGetOptions) =>
    o.cert === "CERT" && o.key === "KEY" ? body("ok") : { status: 401, body: "Unauthorized" };
  const { http } = fakeHttp(serverRoutes({ "https://10.0.0.11:6443/readyz": readyz }));
  await waitReadyPhase.run(phaseContext(fakeHost(root, { http, systemd: active() }), serverPlan()).ctx);
  t.pass();
});

t.test("agent ready: kubelet healthz and the registration address on 9345 and 6443", async (t) => {
  const agentPlan = samplePlan({
    role: "agent",
    config: {
      server: "https://10.0.0.100:9345",
      token: TOKEN,
      "node-name": "node-1",
      "node-ip": "10.0.0.11",
    },
  });
  const routes = {
    "http://127.0.0.1:10248/healthz": body("ok"),
    "https://10.0.0.100:9345/cacerts": body(CA),
    "https://10.0.0.100:9345/ping": body("pong"),
    "https://10.0.0.100:6443/readyz": body("ok"),
  };
  const { http, gets } = fakeHttp(routes);
  t.match(
    await waitReadyPhase.run(phaseContext(fakeHost(t.testdir(), { http, systemd: active() }), agentPlan).ctx),
    /kubelet healthy/,
  );
  t.same(
    gets.map((g) => g.url),
    Object.keys(routes),
  );

  const { http: down } = fakeHttp({ ...routes, "https://10.0.0.100:6443/readyz": { status: 503, body: "" } });
  const plan1s = samplePlan({
    ...agentPlan,
    readiness: { registrationAddress: "10.0.0.100", timeoutSeconds: 1 },
  });
  await t.rejects(
    waitReadyPhase.run(
      phaseContext(fakeHost(t.testdir(), { http: down, systemd: active() }), plan1s, { pollMs: 200 }).ctx,
    ),
    /10\.0\.0\.100:6443\/readyz answered HTTP 503/,
  );
});

t.test("an inactive unit is not ready", async (t) => {
  const plan = samplePlan({
    ...serverPlan(),
    readiness: { registrationAddress: "10.0.0.100", timeoutSeconds: 1 },
  });
  await t.rejects(
    waitReadyPhase.run(phaseContext(fakeHost(t.testdir()), plan, { pollMs: 200 }).ctx),
    /rke2-server is not active/,
  );
});

t.test("etcdMembership matches by member name prefix or peer URL", async (t) => {
  const plan = serverPlan();
  t.equal(etcdMembership(members(true).body, plan), "learner");
  t.equal(etcdMembership(members(false).body, plan), "voter");
  t.equal(
    etcdMembership(JSON.stringify({ members: [{ name: "x", peerURLs: ["https://10.0.0.11:2380"] }] }), plan),
    "voter",
  );
  t.equal(
    etcdMembership(
      JSON.stringify({ members: [{ name: "node-10-abc", peerURLs: ["https://10.0.0.12:2380"] }] }),
      plan,
    ),
    "absent",
  );
  t.equal(etcdMembership("not json", plan), "absent");
});
