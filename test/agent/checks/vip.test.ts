import { checksFor, runChecks } from "@muster/agent/checks/runner";
import { vipFreeCheck, vipInterfaceCheck, vipSubnetCheck } from "@muster/agent/checks/vip";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";
import { fakeArp } from "../helpers/fakes.ts";

const vip = { address: "10.0.0.100", interface: "eth0" };

t.test("VIP checks run only when a VIP is set", async (t) => {
  const dir = t.testdir();
  const names = (v?: typeof vip) =>
    checksFor(checkContext(dir, { request: v ? { vip: v } : {} })).map((c): string => c.name);
  t.notOk(names().includes("vip-free"));
  t.ok(["vip-interface", "vip-subnet", "vip-free"].every((n) => names(vip).includes(n)));
});

t.test("vip-interface: up with IPv4 passes; missing, down or unaddressed fails", async (t) => {
  const dir = t.testdir();
  t.equal((await vipInterfaceCheck.run(checkContext(dir, { request: { vip } }))).status, "pass");
  const missing = await vipInterfaceCheck.run(
    checkContext(dir, { request: { vip: { ...vip, interface: "ens3" } } }),
  );
  t.equal(missing.status, "fail");
  t.match(missing.message, /ens3 does not exist.*eth0/);
  const down = await vipInterfaceCheck.run(
    checkContext(dir, {
      request: { vip },
      facts: {
        interfaces: [{ name: "eth0", up: false, mac: "", ipv4: [{ address: "10.0.0.11", prefix: 24 }] }],
      },
    }),
  );
  t.equal(down.status, "fail");
  t.match(down.message, /down/);
  const bare = await vipInterfaceCheck.run(
    checkContext(dir, {
      request: { vip },
      facts: { interfaces: [{ name: "eth0", up: true, mac: "", ipv4: [] }] },
    }),
  );
  t.equal(bare.status, "fail");
  t.match(bare.message, /no IPv4/);
  const [ignored] = await runChecks(
    checkContext(dir, { request: { vip: { ...vip, interface: "ens3" }, ignore: ["vip-interface"] } }),
    [vipInterfaceCheck],
  );
  t.equal(ignored!.status, "warn");
});

t.test("vip-subnet: same subnet passes, another subnet fails", async (t) => {
  const dir = t.testdir();
  t.equal((await vipSubnetCheck.run(checkContext(dir, { request: { vip } }))).status, "pass");
  const far = await vipSubnetCheck.run(
    checkContext(dir, { request: { vip: { ...vip, address: "10.0.1.100" } } }),
  );
  t.equal(far.status, "fail");
  t.match(far.message, /10\.0\.1\.100 is not in this node's subnet 10\.0\.0\.11\/24/);
  const [ignored] = await runChecks(
    checkContext(dir, { request: { vip: { ...vip, address: "10.0.1.100" }, ignore: ["vip-subnet"] } }),
    [vipSubnetCheck],
  );
  t.equal(ignored!.status, "warn");
});

t.test(
  "vip-free: silent passes, an answer fails, arping trouble warns, vipInUse passes without probing",
  async (t) => {
    const dir = t.testdir();
    const silent = fakeArp();
    const free = await vipFreeCheck.run(checkContext(dir, { request: { vip }, host: { arp: silent.arp } }));
    t.equal(free.status, "pass");
    t.same(silent.calls, ["in-use eth0 10.0.0.100"]);

    const taken = await vipFreeCheck.run(
      checkContext(dir, { request: { vip }, host: { arp: fakeArp({ "10.0.0.100": "answered" }).arp } }),
    );
    t.equal(taken.status, "fail");
    t.match(taken.message, /already answers ARP/);

    const broken = await vipFreeCheck.run(
      checkContext(dir, { request: { vip }, host: { arp: fakeArp({ "10.0.0.100": "error" }).arp } }),
    );
    t.equal(broken.status, "warn");
    t.match(broken.message, /could not check/);

    const inUse = fakeArp({ "10.0.0.100": "answered" });
    const held = await vipFreeCheck.run(
      checkContext(dir, { request: { vip, vipInUse: true }, host: { arp: inUse.arp } }),
    );
    t.equal(held.status, "pass");
    t.match(held.message, /in use by the cluster/);
    t.same(inUse.calls, [], "no probe when the cluster already holds the VIP");
  },
);

t.test("vip-free fails when this node already carries the VIP", async (t) => {
  const dir = t.testdir();
  const r = await vipFreeCheck.run(
    checkContext(dir, {
      request: { vip },
      facts: {
        interfaces: [
          {
            name: "eth0",
            up: true,
            mac: "",
            ipv4: [
              { address: "10.0.0.11", prefix: 24 },
              { address: "10.0.0.100", prefix: 32 },
            ],
          },
        ],
      },
    }),
  );
  t.equal(r.status, "fail");
  t.match(r.message, /already assigned to this node's interface eth0/);
});
