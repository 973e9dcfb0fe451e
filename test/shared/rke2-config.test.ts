import { agentCredential, ClusterSpecSchema, DEDICATED_TAINT, renderRke2Config } from "@muster/shared";
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
