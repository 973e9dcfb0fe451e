import {
  agentCredential,
  ClusterSpecSchema,
  DEDICATED_TAINT,
  publicSpec,
  renderRke2Config,
} from "@muster/shared";
import t from "tap";

const spec = ClusterSpecSchema.parse({
  registrationAddress: "10.0.0.100",
  vip: { address: "10.0.0.100", interface: "eth0" },
  tlsSan: ["k8s.example.com"],
  servers: { dedicated: true, config: { "cluster-cidr": "10.42.0.0/16" } },
  agents: { config: { "node-label": ["tier=worker"] } },
});
const token = `K10${"a".repeat(64)}::server:${"b".repeat(32)}`;

t.test("the init server has no server: key and no token when none is known", async (t) => {
  const c = renderRke2Config({
    spec,
    node: { name: "s1", role: "server", address: "10.0.0.11" },
    init: true,
    token: null,
    registrationAddress: null,
  });
  t.notOk("server" in c);
  t.notOk("token" in c);
  t.same(c["tls-san"], ["10.0.0.100", "k8s.example.com"]);
  t.same(c["node-taint"], [DEDICATED_TAINT]);
  t.equal(c["node-name"], "s1");
  t.equal(c["node-ip"], "10.0.0.11");
  t.equal(c["cluster-cidr"], "10.42.0.0/16");
  t.equal(c["write-kubeconfig-mode"], "0600");
});

t.test("joining servers point at the registration address on 9345", async (t) => {
  const c = renderRke2Config({
    spec,
    node: { name: "s2", role: "server", address: "10.0.0.12" },
    init: false,
    token,
    registrationAddress: "10.0.0.100",
  });
  t.equal(c["server"], "https://10.0.0.100:9345");
  t.equal(c["token"], token);
});

t.test("agents get agent config, no tls-san and no taint", async (t) => {
  const c = renderRke2Config({
    spec,
    node: { name: "w1", role: "agent", address: "10.0.0.21" },
    init: false,
    token,
    registrationAddress: "10.0.0.100",
  });
  t.notOk("tls-san" in c);
  t.notOk("node-taint" in c);
  t.same(c["node-label"], ["tier=worker"]);
});

t.test("impossible inputs are refused", async (t) => {
  const node = { name: "w1", role: "agent" as const, address: "10.0.0.21" };
  t.throws(
    () => renderRke2Config({ spec, node, init: true, token, registrationAddress: null }),
    /only a server/,
  );
  t.throws(
    () => renderRke2Config({ spec, node, init: false, token, registrationAddress: null }),
    /registration/,
  );
  t.throws(
    () => renderRke2Config({ spec, node, init: false, token: null, registrationAddress: "10.0.0.100" }),
    /token/,
  );
});

t.test("spec.backup: snapshot keys on servers only; S3 keys need the secret from the vault", async (t) => {
  const plain = ClusterSpecSchema.parse({ backup: {} });
  t.same(plain.backup, { schedule: "0 */12 * * *", retention: 5 }, "RKE2's defaults");
  const server = { name: "cp-1", role: "server" as const, address: "10.0.0.1" };
  const local = renderRke2Config({
    spec: plain,
    node: server,
    init: true,
    token: null,
    registrationAddress: null,
  });
  t.match(local, { "etcd-snapshot-schedule-cron": "0 */12 * * *", "etcd-snapshot-retention": 5 });
  t.notOk("etcd-s3" in local);
  const s3Spec = ClusterSpecSchema.parse({
    backup: {
      s3: { endpoint: "s3.example.com", bucket: "snaps", accessKey: "AK", endpointCA: "/etc/ca.pem" },
    },
  });
  t.throws(
    () =>
      renderRke2Config({ spec: s3Spec, node: server, init: true, token: null, registrationAddress: null }),
    /no S3 secret key/,
  );
  const withS3 = renderRke2Config({
    spec: s3Spec,
    node: server,
    init: true,
    token: null,
    registrationAddress: null,
    s3SecretKey: "sekrit",
  });
  t.match(withS3, { "etcd-s3": true, "etcd-s3-secret-key": "sekrit", "etcd-s3-endpoint-ca": "/etc/ca.pem" });
  t.notOk("etcd-s3-folder" in withS3, "an empty folder is left out");
  t.notOk("etcd-s3-insecure" in withS3);
  const agent = renderRke2Config({
    spec: s3Spec,
    node: { name: "w-1", role: "agent", address: "10.0.0.9" },
    init: false,
    token: "K10x::server:y",
    registrationAddress: "10.0.0.1",
    s3SecretKey: "sekrit",
  });
  t.notOk(
    Object.keys(agent).some((k) => k.startsWith("etcd-")),
    "agents take no snapshots",
  );

  const refused = ClusterSpecSchema.safeParse({ servers: { config: { "etcd-s3-secret-key": "x" } } });
  t.notOk(refused.success, "the secret cannot hide in servers.config (it would be stored in clear)");
  const shown = publicSpec(
    ClusterSpecSchema.parse({ backup: { s3: { ...s3Spec.backup!.s3, secretKey: "sekrit" } } }),
  );
  t.same(shown.backup?.s3?.secretKeySet, true);
  t.notOk(JSON.stringify(shown).includes("sekrit"), "publicSpec drops the secret");
});

t.test("with an agent token: servers carry agent-token, agents get only the node credential", async (t) => {
  const agentToken = "0123456789abcdef0123456789abcdef";
  const full = `K10${"cd".repeat(32)}::server:serverpassword`;
  const server = renderRke2Config({
    spec,
    node: { name: "s2", role: "server", address: "10.0.0.12" },
    init: false,
    token: full,
    registrationAddress: "10.0.0.100",
    agentToken,
  });
  t.same([server["token"], server["agent-token"]], [full, agentToken]);
  const agent = renderRke2Config({
    spec,
    node: { name: "w1", role: "agent", address: "10.0.0.21" },
    init: false,
    token: full,
    registrationAddress: "10.0.0.100",
    agentToken,
  });
  t.equal(agent["token"], `K10${"cd".repeat(32)}::node:${agentToken}`, "pinned to the same CA");
  t.notOk("agent-token" in agent);
  t.notOk(JSON.stringify(agent).includes("serverpassword"));
  t.equal(agentCredential("bare-server-password", agentToken), agentToken, "a bare token gives a bare one");
});
