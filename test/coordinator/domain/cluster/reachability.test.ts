import { reachabilityTargets } from "@muster/coordinator/domain/cluster/reachability";
import t from "tap";

const key = (x: { node: string; port: number; protocol: string }) => `${x.node} ${x.protocol}/${x.port}`;

t.test(
  "server checked against a waiting server: the full server matrix with 2381 optional and 8472/udp",
  async (t) => {
    const r = reachabilityTargets(
      { name: "s2", role: "server", address: "10.0.0.2" },
      [
        { name: "s1", role: "server", state: "waiting", address: "10.0.0.1" },
        { name: "s2", role: "server", state: "checking", address: "10.0.0.2" },
      ],
      null,
    );
    t.same(r.map(key), [
      "s1 tcp/9345",
      "s1 tcp/6443",
      "s1 tcp/2379",
      "s1 tcp/2380",
      "s1 tcp/10250",
      "s1 tcp/2381",
      "s1 udp/8472",
    ]);
    t.ok(r.every((x) => x.responder));
    t.ok(r.find((x) => x.port === 2381)?.optional);
  },
);

t.test(
  "agent: supervisor+API of servers, VXLAN to everyone, kubelet only from servers; checking peers skipped",
  async (t) => {
    const peers = [
      { name: "s1", role: "server" as const, state: "joined", address: "10.0.0.1" },
      { name: "s2", role: "server" as const, state: "waiting", address: "10.0.0.2" },
      { name: "a1", role: "agent" as const, state: "waiting", address: "10.0.1.1" },
      { name: "a2", role: "agent" as const, state: "checking", address: "10.0.1.2" },
    ];
    const agent = reachabilityTargets({ name: "a9", role: "agent", address: "10.0.1.9" }, peers, {
      address: "10.0.0.100",
      up: true,
    });
    t.same(agent.map(key), [
      "s1 tcp/9345",
      "s1 tcp/6443",
      "s2 tcp/9345",
      "s2 tcp/6443",
      "s2 udp/8472",
      "a1 udp/8472",
      "registration tcp/9345",
      "registration tcp/6443",
    ]);
    t.notOk(agent.find((x) => x.node === "s1")?.responder, "a joined server answers with RKE2's listeners");
    const server = reachabilityTargets({ name: "s9", role: "server", address: "10.0.0.9" }, peers, null);
    t.ok(server.some((x) => key(x) === "a1 tcp/10250"));
    t.notOk(server.some((x) => x.node === "a2"));
  },
);

t.test("the registration address is not probed before a server answers behind it", async (t) => {
  const r = reachabilityTargets({ name: "a1", role: "agent", address: "10.0.1.1" }, [], {
    address: "10.0.0.100",
    up: false,
  });
  t.same(r, []);
});
