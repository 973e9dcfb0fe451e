import { peersArpCheck } from "@muster/agent/checks/peers";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";
import { fakeArp } from "../helpers/fakes.ts";

t.test("peers-arp: no peers is a pass without probing", async (t) => {
  const arp = fakeArp();
  const r = await peersArpCheck.run(checkContext(t.testdir(), { host: { arp: arp.arp } }));
  t.equal(r.status, "pass");
  t.match(r.message, /no peers/);
  t.same(arp.calls, []);
});

t.test(
  "peers-arp: every local peer answering passes; own address and routed peers are not probed",
  async (t) => {
    const arp = fakeArp({ "10.0.0.12": "answered", "10.0.0.13": "answered" });
    const r = await peersArpCheck.run(
      checkContext(t.testdir(), {
        request: { peers: ["10.0.0.12", "10.0.0.13", "10.0.0.11", "192.168.5.5"] },
        host: { arp: arp.arp },
      }),
    );
    t.equal(r.status, "pass");
    t.match(r.message, /2 peer\(s\) answer ARP on eth0/);
    t.match(r.message, /routed \(not ARP-checked\): 192\.168\.5\.5/);
    t.same(arp.calls.sort(), ["reachable eth0 10.0.0.12", "reachable eth0 10.0.0.13"]);
  },
);

t.test("peers-arp: fail names exactly the silent peers", async (t) => {
  const arp = fakeArp({ "10.0.0.12": "answered" });
  const r = await peersArpCheck.run(
    checkContext(t.testdir(), {
      request: { peers: ["10.0.0.12", "10.0.0.13", "10.0.0.14"] },
      host: { arp: arp.arp },
    }),
  );
  t.equal(r.status, "fail");
  t.match(r.message, /from: 10\.0\.0\.13, 10\.0\.0\.14/);
  t.notMatch(r.message, /10\.0\.0\.12/);
});

t.test("peers-arp: arping errors warn", async (t) => {
  const arp = fakeArp({ "10.0.0.12": "error" });
  const r = await peersArpCheck.run(
    checkContext(t.testdir(), { request: { peers: ["10.0.0.12"] }, host: { arp: arp.arp } }),
  );
  t.equal(r.status, "warn");
  t.match(r.message, /could not probe 10\.0\.0\.12/);
});

t.test("peers-arp probes on the VIP interface when one is set", async (t) => {
  const arp = fakeArp({ "10.0.0.12": "answered" });
  await peersArpCheck.run(
    checkContext(t.testdir(), {
      request: { peers: ["10.0.0.12"], vip: { address: "10.0.0.100", interface: "bond0" } },
      host: { arp: arp.arp },
    }),
  );
  t.same(arp.calls, ["reachable bond0 10.0.0.12"]);
});
