import { type NodeSnapshot, type PlannerInput, plan } from "@muster/coordinator/domain/planner/planner";
import { judgeVip, type VipObservation } from "@muster/coordinator/domain/registration/vip-verdict";
import { ClusterSpecSchema, type NodeState, type Role } from "@muster/shared";
import t from "tap";

// The gate before any joiner with a VIP (invariant 12): the VIP answers on 9345/6443 AND peers see
// exactly one MAC answering ARP for it. judgeVip turns vip.observe answers into a verdict; the pure
// planner holds every joiner until the verdict is "one", and its reason says which part waits.

const VIP = "10.0.0.100";
const A = "02:00:00:00:00:0a";
const B = "02:00:00:00:00:0b";
const saw = (
  node: string,
  macs: string[],
  local = false,
  localMac: string | null = null,
): VipObservation => ({
  node,
  ok: true,
  result: { macs, local, localMac },
});

t.test("judgeVip: exactly one MAC, seen from a peer", async (t) => {
  const v = judgeVip(VIP, [saw("s1", [], true, A), saw("s2", [A]), saw("s3", [A])]);
  t.equal(v.state, "one");
  t.match(v, { mac: A, holder: "s1" });
  t.match(v.detail, /exactly one machine: 02:00:00:00:00:0a \(s1\) \(seen from s2, s3\)/);
});

t.test("judgeVip: the holder alone cannot vouch for itself", async (t) => {
  const v = judgeVip(VIP, [saw("s1", [], true, A)]);
  t.equal(v.state, "unknown");
  t.match(v.detail, /waiting for a peer server to confirm it/);
});

t.test("judgeVip: two holders (kube-vip#1786) name both and the fix", async (t) => {
  const v = judgeVip(VIP, [saw("s1", [B], true, A), saw("s2", [A, B]), saw("s3", [A, B])], (m) =>
    m === B ? "s2" : null,
  );
  t.equal(v.state, "many");
  t.match(v, { macs: [A, B], holders: ["s1", "s2"] });
  t.match(
    v.detail,
    /2 machines answer ARP for VIP 10\.0\.0\.100: 02:00:00:00:00:0a \(s1\), 02:00:00:00:00:0b \(s2\)/,
  );
  t.match(v.detail, /ip addr del 10\.0\.0\.100\/32/);
});

t.test("judgeVip: nobody answers; nobody could observe", async (t) => {
  t.equal(judgeVip(VIP, [saw("s2", []), saw("s3", [])]).state, "none");
  const failed = judgeVip(VIP, [
    { node: "s2", ok: false, error: "interface eth1 does not exist on this node" },
  ]);
  t.equal(failed.state, "unknown");
  t.match(failed.detail, /s2: interface eth1 does not exist/);
  t.match(judgeVip(VIP, []).detail, /no connected server/);
});

let seq = 0;
function node(name: string, role: Role, state: NodeState, over: Partial<NodeSnapshot> = {}): NodeSnapshot {
  seq += 1;
  return {
    name,
    role,
    init: false,
    state,
    address: `10.0.0.${seq}`,
    connected: true,
    seq,
    releasedAt: null,
    message: null,
    phase: null,
    failedChecks: [],
    ...over,
  };
}
const spec = ClusterSpecSchema.parse({ vip: { address: VIP, interface: "eth1" } });
const nodes = () => [
  node("s1", "server", "joined", { init: true }),
  node("s2", "server", "waiting"),
  node("a1", "agent", "waiting"),
];
const input = (over: Partial<PlannerInput>): PlannerInput => ({
  spec,
  nodes: nodes(),
  lease: null,
  now: 1_000_000,
  registrationHealthy: true,
  tokenKnown: true,
  ...over,
});
const released = (out: ReturnType<typeof plan>) =>
  out.actions.filter((a) => a.type === "release-plan").map((a) => a.node);
const reason = (out: ReturnType<typeof plan>, n: string) => out.steps.find((s) => s.node === n)?.reason;

t.test("planner: joiners wait while the VIP does not answer on 9345/6443, and say so", async (t) => {
  const out = plan(input({ registrationHealthy: false, vip: judgeVip(VIP, [saw("s2", [A])]) }));
  t.same(released(out), []);
  t.equal(
    reason(out, "s2"),
    `waiting for the registration address ${VIP} (the VIP, run by kube-vip) to answer on 9345 and 6443`,
  );
  t.equal(reason(out, "a1"), reason(out, "s2"), "agents wait on the same gate");
});

t.test("planner: joiners wait until peers see exactly one MAC, and say which part waits", async (t) => {
  const many = plan(input({ vip: judgeVip(VIP, [saw("s1", [B], true, A), saw("s2", [A, B])]) }));
  t.same(released(many), [], "two holders: nobody is released");
  t.match(
    reason(many, "s2"),
    /^waiting for exactly one machine to answer ARP for the VIP: 2 machines answer/,
  );
  t.match(reason(many, "a1"), /^waiting for exactly one machine to answer ARP for the VIP/);

  const none = plan(input({ vip: judgeVip(VIP, [saw("s2", [])]) }));
  t.same(released(none), []);
  t.match(reason(none, "s2"), /nothing answers ARP for VIP 10\.0\.0\.100/);

  const unobserved = plan(input({ vip: { state: "unknown", detail: "the VIP was not observed yet" } }));
  t.same(released(unobserved), [], "not observed yet: wait");

  const one = plan(input({ vip: judgeVip(VIP, [saw("s1", [], true, A), saw("s2", [A])]) }));
  t.same(released(one), ["s2", "a1"], "one holder seen from a peer: the gate opens");
});

t.test("planner: without a VIP verdict (no VIP to verify) registration health alone gates", async (t) => {
  t.same(released(plan(input({ vip: null }))), ["s2", "a1"]);
});
