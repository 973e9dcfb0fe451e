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
    t.same(silent.calls, ["owners eth0 10.0.0.100"]);

    const taken = await vipFreeCheck.run(
      checkContext(dir, { request: { vip }, host: { arp: fakeArp({ "10.0.0.100": "answered" }).arp } }),
    );
    t.equal(taken.status, "fail");
    t.match(taken.message, /already answers ARP on eth0 from 02:00:00:00:00:99/, "names who holds it");

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
  t.match(r.message, /held by this node \(interface eth0\)/);
});

const CLUSTER = ["02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"];
const twoNics = (withVip: boolean) => ({
  interfaces: [
    {
      name: "eth0",
      up: true,
      mac: "02:00:00:00:00:01",
      ipv4: [
        { address: "10.0.0.11", prefix: 24 },
        ...(withVip ? [{ address: "10.0.0.100", prefix: 32 }] : []),
      ],
    },
  ],
});

t.test("vip-free with vipOwners: the cluster's MACs pass, a foreign MAC fails by name", async (t) => {
  const dir = t.testdir();
  const run = (macs: string[], o: { local?: boolean; owners?: string[] } = {}) =>
    vipFreeCheck.run(
      checkContext(dir, {
        request: { vip, vipInUse: true, vipOwners: o.owners ?? CLUSTER },
        facts: twoNics(o.local ?? false),
        host: { arp: fakeArp({}, { "10.0.0.100": macs }).arp },
      }),
    );
  const peer = await run(["02:00:00:00:00:02"]);
  t.equal(peer.status, "pass");
  t.match(peer.message, /held by the cluster: 02:00:00:00:00:02/);

  const upper = await run(["02:00:00:00:00:03"], { owners: CLUSTER.map((m) => m.toUpperCase()) });
  t.equal(upper.status, "pass", "MACs compare case-insensitively");

  const self = await run([], { local: true });
  t.equal(self.status, "pass", "this node holding it is the cluster holding it");
  t.match(self.message, /held by the cluster: this node/);

  const taken = await run(["02:00:00:00:00:02", "0a:bb:cc:dd:ee:ff"]);
  t.equal(taken.status, "fail");
  t.match(taken.message, /answered on eth0 by 0a:bb:cc:dd:ee:ff, not one of the cluster's servers/);
  t.match(taken.message, /also held by 02:00:00:00:00:02/);

  const stranger = await run(["0a:bb:cc:dd:ee:ff"], { local: true, owners: ["02:00:00:00:00:02"] });
  t.equal(stranger.status, "fail", "holding the VIP without being a cluster server fails");
  t.match(stranger.message, /held by this node \(interface eth0, 02:00:00:00:00:01\), which is not one/);

  const none = await run([]);
  t.equal(none.status, "pass");
  t.match(none.message, /nothing answers ARP for VIP 10.0.0.100 on eth0 yet/);
});

t.test("vip-free names the holder's node when the coordinator sent vipOwnerNames", async (t) => {
  const dir = t.testdir();
  const run = (macs: string[], names?: Record<string, string>) =>
    vipFreeCheck.run(
      checkContext(dir, {
        request: { vip, vipInUse: true, vipOwners: CLUSTER, ...(names ? { vipOwnerNames: names } : {}) },
        facts: twoNics(false),
        host: { arp: fakeArp({}, { "10.0.0.100": macs }).arp },
      }),
    );
  const names = { "02:00:00:00:00:02": "server-2", "02:00:00:00:00:03": "server-3" };
  const held = await run(["02:00:00:00:00:02"], names);
  t.equal(held.status, "pass");
  t.match(held.message, "held by the cluster: server-2 (02:00:00:00:00:02)");
  const taken = await run(["02:00:00:00:00:03", "0a:bb:cc:dd:ee:ff"], names);
  t.equal(taken.status, "fail");
  t.match(taken.message, "by 0a:bb:cc:dd:ee:ff, not one of the cluster's servers");
  t.match(taken.message, "also held by server-3 (02:00:00:00:00:03)");
  const unnamed = await run(["02:00:00:00:00:02"]);
  t.match(unnamed.message, /held by the cluster: 02:00:00:00:00:02$/, "no names: the MAC alone");
});

t.test(
  "negative control: the same foreign answer without vipOwners but vipInUse is not examined",
  async (t) => {
    // vipInUse alone (an older coordinator) cannot tell the cluster's MAC from another host's: it
    // passes without probing, which is exactly the blind spot vipOwners closes.
    const arp = fakeArp({}, { "10.0.0.100": ["0a:bb:cc:dd:ee:ff"] });
    const r = await vipFreeCheck.run(
      checkContext(t.testdir(), { request: { vip, vipInUse: true }, host: { arp: arp.arp } }),
    );
    t.equal(r.status, "pass");
    t.same(arp.calls, []);
  },
);

t.test("vip-free names a MAC by its machine's address from the neighbour table", async (t) => {
  const mac = "0a:bb:cc:dd:ee:ff";
  const check = (neighbours: Record<string, string[]>) =>
    vipFreeCheck.run(
      checkContext(t.testdir(), {
        request: { vip },
        host: { arp: fakeArp({}, { "10.0.0.100": [mac] }, neighbours).arp },
      }),
    );
  const named = await check({ [mac]: ["10.0.0.100", "10.0.0.12"] });
  t.equal(named.status, "fail", "still taken before the cluster holds it");
  t.match(
    named.message,
    `VIP 10.0.0.100 already answers ARP on eth0 from ${mac} (10.0.0.12): another host uses it`,
    "the holder's own address, not the VIP it answers for",
  );
  const unknown = await check({ "02:00:00:00:00:07": ["10.0.0.17"] });
  t.match(unknown.message, new RegExp(`from ${mac}: another host`), "not in the table: the MAC alone");
});
