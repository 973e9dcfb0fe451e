import {
  crossNodeChecks,
  vipInterfaceConsistent,
  vipSubnetMatches,
} from "@muster/coordinator/domain/cluster/cross-node-checks";
import { AGENT_CHECK_NAMES, COORDINATOR_CHECK_NAMES } from "@muster/shared";
import t from "tap";
import { answerChecks, join, makeWorld, nodeFacts } from "../../helpers/domain.ts";

const vip = { address: "10.0.0.100", interface: "eth0" };
const withIface = (name: string, n: number, iface: string) => ({
  name,
  facts: nodeFacts(name, n, {
    interfaces: [{ name: iface, up: true, mac: "", ipv4: [{ address: `10.0.0.${10 + n}`, prefix: 24 }] }],
  }),
});

t.test("vip-interface-consistent fails on the node lacking it and names every node lacking it", async (t) => {
  const a = withIface("a", 1, "eth0");
  const b = withIface("b", 2, "ens3");
  const c = withIface("c", 3, "ens3");
  const onB = vipInterfaceConsistent(vip, b, [a, b, c]);
  t.equal(onB.status, "fail");
  t.equal(onB.message, "interface eth0 is missing on this node (servers lacking it: b, c)");
  t.match(onB.fix, "vip.interface");
  const onA = vipInterfaceConsistent(vip, a, [a, b, c]);
  t.same([onA.status, onA.message], ["warn", "interface eth0 is present here but missing on: b, c"]);
  t.equal(vipInterfaceConsistent(vip, a, [a]).status, "pass");
});

t.test("vip-subnet-matches uses the prefix of the interface holding the node address", async (t) => {
  const f = nodeFacts("a", 1); // 10.0.0.11/24
  t.equal(vipSubnetMatches(vip, "10.0.0.11", f).status, "pass");
  const far = vipSubnetMatches({ ...vip, address: "10.0.1.100" }, "10.0.0.11", f);
  t.same(
    [far.status, far.message],
    ["fail", "VIP 10.0.1.100 is not on this node's subnet 10.0.0.11/24 (eth0)"],
  );
  t.ok(far.fix);
  const wide = nodeFacts("a", 1, {
    interfaces: [{ name: "eth0", up: true, mac: "", ipv4: [{ address: "10.0.0.11", prefix: 16 }] }],
  });
  t.equal(
    vipSubnetMatches({ ...vip, address: "10.0.1.100" }, "10.0.0.11", wide).status,
    "pass",
    "a /16 holds it",
  );
  t.equal(vipSubnetMatches(vip, "192.168.9.9", f).status, "fail", "an address on no interface");
});

t.test("only servers, only with a VIP; names of their own, never an agent check's", async (t) => {
  const self = { ...withIface("a", 1, "eth0"), role: "server" as const, address: "10.0.0.11" };
  t.same(crossNodeChecks(undefined, self, [self]), []);
  t.same(crossNodeChecks(vip, { ...self, role: "agent" }, [self]), []);
  t.same(
    crossNodeChecks(vip, self, [self]).map((c) => c.name),
    ["vip-interface-consistent", "vip-subnet-matches"],
  );
  t.same([...COORDINATOR_CHECK_NAMES], ["vip-interface-consistent", "vip-subnet-matches"]);
  const agents = new Set<string>(AGENT_CHECK_NAMES);
  t.notOk(
    COORDINATOR_CHECK_NAMES.some((n) => agents.has(n)),
    "no coordinator check shares a name with an agent check",
  );
});

t.test(
  "in the service: a server off the VIP subnet fails its checks, unless the check is ignored",
  async (t) => {
    const w = makeWorld(t);
    w.coord.updateSpec({
      vip: { address: "10.0.5.100", interface: "eth0" },
      registrationAddress: "10.0.5.100",
    });
    join(w, "s1", "server");
    answerChecks(w, "s1");
    t.equal(w.coord.getNode("s1").state, "check-failed");
    t.equal(w.coord.getNode("s1").message, "check-failed: vip-subnet-matches");
    const run = w.links.get("s1")!.last("checks.run")!;
    t.same(
      run.vip,
      { address: "10.0.5.100", interface: "eth0" },
      "the agent gets the VIP for its local checks",
    );
    t.equal(run.vipInUse, false, "no server joined yet, so the VIP must be free");

    w.coord.updateSpec({
      vip: { address: "10.0.5.100", interface: "eth0" },
      registrationAddress: "10.0.5.100",
      checks: { ignore: ["vip-subnet-matches"] },
    });
    w.coord.retryNode("s1");
    w.coord.tick();
    answerChecks(w, "s1");
    t.not(w.coord.getNode("s1").state, "check-failed");
  },
);
