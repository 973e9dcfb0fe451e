import { checksContext, PEERS_LIMIT } from "@muster/coordinator/domain/nodes/transitions/index";
import { ClusterSpecSchema } from "@muster/shared";
import t from "tap";
import { answerChecks, join, makeWorld } from "../../../helpers/domain.ts";

// checks.run: other nodes' addresses (servers first, at most PEERS_LIMIT), worked out once per
// planning pass and shared by every request of that pass.

const spec = ClusterSpecSchema.parse({ name: "peers" });
const node = (name: string, role: "server" | "agent", address: string, over = {}) => ({
  name,
  role,
  address,
  state: "waiting" as const,
  init: false,
  ...over,
});

t.test("peers: lost, removing and removed machines are not probed", async (t) => {
  const nodes = [
    node("s1", "server", "10.0.0.1", { init: true, state: "joined" }),
    node("s2", "server", "10.0.0.2", { state: "lost" }),
    node("s3", "server", "10.0.0.3", { state: "removing" }),
    node("s4", "server", "10.0.0.4", { state: "removed" }),
    node("a1", "agent", "10.0.0.5", { state: "lost" }),
    node("s5", "server", "10.0.0.6"),
  ];
  const shared = checksContext(
    ClusterSpecSchema.parse({ name: "peers", checks: { reachability: true } }),
    nodes,
  );
  t.same(shared.peers("s5"), ["10.0.0.1"], "only the joined server is a peer");
  t.same(
    shared
      .reachability("s5")
      .map((r) => r.address)
      .filter((a, i, all) => all.indexOf(a) === i),
    ["10.0.0.1"],
    "the reachability row names no gone machine",
  );
});

t.test("the reachability matrix is on by default; checks.reachability: false turns it off", async (t) => {
  const nodes = [
    node("s1", "server", "10.0.0.1", { init: true, state: "joined" }),
    node("s2", "server", "10.0.0.2"),
  ];
  t.ok(checksContext(spec, nodes).reachability("s2").length > 0, "by default the row names its targets");
  const off = ClusterSpecSchema.parse({ name: "peers", checks: { reachability: false } });
  t.same(checksContext(off, nodes).reachability("s2"), [], "off: no targets sent");
});

t.test(
  "the registration address is a target only once the coordinator's probe found it answering",
  async (t) => {
    const on = ClusterSpecSchema.parse({
      name: "peers",
      checks: { reachability: true },
      vip: { address: "10.0.0.100", interface: "eth0" },
    });
    const nodes = [
      node("s1", "server", "10.0.0.1", { init: true, state: "joined" }),
      node("a1", "agent", "10.0.0.5"),
    ];
    const targets = (healthy: boolean) =>
      checksContext(on, nodes, () => null, healthy)
        .reachability("a1")
        .filter((r) => r.node === "registration")
        .map((r) => `${r.address}:${r.port}`);
    // A VIP nobody holds yet is what the join gate waits for: the agent waits, its checks do not fail.
    t.same(targets(false), [], "a joined server alone does not make the VIP a target");
    t.same(targets(true), ["10.0.0.100:9345", "10.0.0.100:6443"], "once it answers, both ports are probed");
  },
);

t.test("vipOwnerNames: each server's MAC names it, for vip-free's messages", async (t) => {
  const withVip = ClusterSpecSchema.parse({
    name: "peers",
    vip: { address: "10.0.0.100", interface: "eth0" },
  });
  const nodes = [
    node("s1", "server", "10.0.0.1", { init: true, state: "joined" }),
    node("s2", "server", "10.0.0.2"),
    node("a1", "agent", "10.0.0.3"),
  ];
  const macs: Record<string, string> = {
    s1: "02:00:00:00:00:0A",
    s2: "02:00:00:00:00:0b",
    a1: "02:00:00:00:00:0c",
  };
  const shared = checksContext(withVip, nodes, (n) => macs[n] ?? null);
  t.same(
    shared.vipOwnerNames,
    { "02:00:00:00:00:0a": "s1", "02:00:00:00:00:0b": "s2" },
    "servers only, lower case",
  );
  t.same(checksContext(spec, nodes, (n) => macs[n] ?? null).vipOwnerNames, {}, "no VIP: none");
});

t.test("peers: every other node's address, servers first", async (t) => {
  const nodes = [
    node("s1", "server", "10.0.0.1", { init: true, state: "joined" }),
    node("a1", "agent", "10.0.0.2"),
    node("s2", "server", "10.0.0.3"),
  ];
  const shared = checksContext(spec, nodes);
  t.same(shared.peers("a1"), ["10.0.0.1", "10.0.0.3"]);
  t.same(shared.peers("s1"), ["10.0.0.3", "10.0.0.2"]);
  t.same(shared.peers("new"), ["10.0.0.1", "10.0.0.3", "10.0.0.2"], "a node not in the snapshot");
  const mine = shared.peers("s2");
  mine.push("changed");
  t.same(shared.peers("s2"), ["10.0.0.1", "10.0.0.2"], "each call gets its own array");
  t.equal(shared.vipInUse, false, "no VIP in the spec");

  const vip = ClusterSpecSchema.parse({
    name: "vip",
    vip: { address: "10.0.0.100", interface: "eth0" },
    registrationAddress: "10.0.0.100",
  });
  t.equal(
    checksContext(vip, nodes).vipInUse,
    true,
    "a server joined and the VIP is the registration address",
  );
  t.equal(checksContext(vip, nodes.slice(1)).vipInUse, false, "no server joined yet");
});

t.test("peers of a large cluster: every server, then the earliest agents, PEERS_LIMIT in all", async (t) => {
  const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const nodes = Array.from({ length: 10_000 }, (_, i) => node(`a${i}`, "agent", ip(i)));
  nodes.push(node("s-late", "server", "192.168.0.1"));
  const shared = checksContext(spec, nodes);
  const peers = shared.peers("a3");
  t.equal(peers.length, PEERS_LIMIT);
  t.equal(peers[0], "192.168.0.1", "the server, enrolled last, comes first");
  t.notOk(peers.includes(ip(3)), "never the node itself");
  t.same(peers.slice(1, 4), [ip(0), ip(1), ip(2)], "then agents in enrolment order");
  t.equal(shared.peers("a9999").length, PEERS_LIMIT, "a node outside the sample gets as many");
  t.equal(shared.peers("a9999")[PEERS_LIMIT - 1], ip(PEERS_LIMIT - 2));
});

t.test("in the service: checks.run lists the other nodes", async (t) => {
  const w = makeWorld(t);
  const s1 = join(w, "s1", "server");
  const a1 = join(w, "a1", "agent");
  answerChecks(w, "s1");
  const a2 = join(w, "a2", "agent");
  t.same(a2.link.last("checks.run")?.peers, [s1.facts.address, a1.facts.address], "the server first");
  t.same(s1.link.last("checks.run")?.peers, [], "the first node had no peers yet");
});
