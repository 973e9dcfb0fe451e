import { arpingCommand, createArp, detectArpingFlavour, parseNeighbours } from "@muster/agent/adapters/arp";
import t from "tap";
import { failed, fakeExec, ok } from "../helpers/fakes.ts";

const HABETS_HELP =
  "ARPing 2.23, by Thomas Habets <thomas@habets.se>\nusage: arping [ -0aAbdDeFpPqrRuUvzZ ] ...";
const IPUTILS_HELP = "Usage: arping [-fqbDUAV] [-c count] [-w timeout] [-I device] [-s source] destination";

t.test("detects which arping is installed", async (t) => {
  t.equal(detectArpingFlavour(0, HABETS_HELP), "habets");
  t.equal(detectArpingFlavour(2, IPUTILS_HELP), "iputils");
  t.equal(detectArpingFlavour(127, ""), "missing");
});

t.test("habets: -i, -0 for the in-use probe, exit 0 = answered, 1 silent = free", async (t) => {
  const dad = arpingCommand("habets", "in-use", "eth0", "10.0.0.100", 1);
  t.same(dad.args, ["-q", "-c", "1", "-C", "1", "-w", "1", "-i", "eth0", "-0", "10.0.0.100"]);
  t.equal(dad.answered(0, ""), true);
  t.equal(dad.answered(1, ""), false);
  t.equal(
    dad.answered(1, "arping: libnet_init(LIBNET_LINK, eth9): No such device"),
    null,
    "exit 1 with stderr is an error",
  );
});

t.test("iputils: -I, -D duplicate detection has inverted exit codes", async (t) => {
  const dad = arpingCommand("iputils", "in-use", "eth0", "10.0.0.100", 1);
  t.ok(dad.args.includes("-D") && dad.args.includes("-I"));
  t.equal(dad.answered(0, ""), false, "DAD exit 0 = nobody answered = free");
  t.equal(dad.answered(1, ""), true);
  t.equal(dad.answered(2, "arping: unknown iface"), null);
  const ping = arpingCommand("iputils", "reachable", "eth0", "10.0.0.12", 1);
  t.notOk(ping.args.includes("-D"));
  t.equal(ping.answered(0, ""), true);
  t.equal(ping.answered(1, ""), false);
});

t.test("createArp detects once and interprets results per flavour", async (t) => {
  const habets = fakeExec((_cmd, args) =>
    args[0] === "--help" ? ok(HABETS_HELP) : args.includes("10.0.0.12") ? ok() : failed(1),
  );
  const arp = createArp(habets.exec);
  t.equal((await arp.probeReachable("eth0", "10.0.0.12")).status, "answered");
  t.equal((await arp.probeReachable("eth0", "10.0.0.13")).status, "silent");
  t.equal((await arp.probeInUse("eth0", "10.0.0.100")).status, "silent");
  t.equal(habets.calls.filter((c) => c.args[0] === "--help").length, 1, "flavour detected once");

  const iputils = fakeExec((_cmd, args) =>
    args[0] === "--help" ? failed(2, IPUTILS_HELP) : args.includes("-D") ? failed(1) : ok(),
  );
  t.equal((await createArp(iputils.exec).probeInUse("eth0", "10.0.0.100")).status, "answered");

  const missing = await createArp(fakeExec(() => failed(127)).exec).probeInUse("eth0", "10.0.0.100");
  t.equal(missing.status, "error");
  t.match(missing.detail, /not installed/);
});

t.test("parseNeighbours: ip -4 -j neigh, failed and incomplete entries left out", async (t) => {
  const json = JSON.stringify([
    { dst: "10.0.0.12", dev: "eth0", lladdr: "0A:BB:CC:DD:EE:FF", state: ["REACHABLE"] },
    { dst: "10.0.0.100", dev: "eth0", lladdr: "0a:bb:cc:dd:ee:ff", state: ["STALE"] },
    { dst: "10.0.0.13", dev: "eth0", state: ["FAILED"] },
    { dst: "10.0.0.14", dev: "eth0", lladdr: "02:00:00:00:00:14", state: ["INCOMPLETE"] },
  ]);
  t.same(Object.fromEntries(parseNeighbours(json)), { "0a:bb:cc:dd:ee:ff": ["10.0.0.12", "10.0.0.100"] });
  t.same(parseNeighbours("not json").size, 0);
});
