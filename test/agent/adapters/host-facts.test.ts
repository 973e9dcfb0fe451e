import {
  hexToIPv4,
  normaliseMachineId,
  parseDefaultRoute,
  parseRke2Version,
  pickNodeAddress,
  rke2Arch,
} from "@muster/agent/adapters/host-facts";
import t from "tap";

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;

t.test("default route: lowest metric wins, gateway decoded from little-endian hex", async (t) => {
  t.same(parseDefaultRoute(ROUTE), { interface: "eth0", gateway: "192.0.2.1" });
  t.equal(parseDefaultRoute("Iface\tDestination\n"), undefined);
  t.equal(hexToIPv4("0101A8C0"), "192.168.1.1");
});

t.test("arch names follow RKE2's artifacts", async (t) => {
  t.equal(rke2Arch("x64"), "amd64");
  t.equal(rke2Arch("aarch64"), "arm64");
  t.equal(rke2Arch("s390x"), "s390x");
  t.equal(rke2Arch("riscv64"), "riscv64");
});

t.test("node address: override if present, default route, VIP interface, first non-loopback", async (t) => {
  const ifaces = [
    { name: "lo", up: true, mac: "", ipv4: [{ address: "127.0.0.1", prefix: 8 }] },
    { name: "eth0", up: true, mac: "", ipv4: [{ address: "10.0.0.5", prefix: 24 }] },
    { name: "eth1", up: true, mac: "", ipv4: [{ address: "192.168.1.5", prefix: 24 }] },
  ];
  t.equal(pickNodeAddress(ifaces, "eth1"), "192.168.1.5");
  t.equal(pickNodeAddress(ifaces, undefined, { vipInterface: "eth1" }), "192.168.1.5");
  t.equal(pickNodeAddress(ifaces, undefined), "10.0.0.5");
  t.equal(pickNodeAddress(ifaces, "eth1", { address: "10.0.0.5" }), "10.0.0.5");
  t.equal(
    pickNodeAddress(ifaces, "eth1", { address: "172.16.0.1" }),
    "192.168.1.5",
    "override not on host ignored",
  );
});

t.test("rke2 --version and machine id parsing", async (t) => {
  t.equal(parseRke2Version("rke2 version v1.33.5+rke2r1 (abc123)\ngo version go1.24.6\n"), "v1.33.5+rke2r1");
  t.equal(parseRke2Version("garbage"), undefined);
  t.equal(normaliseMachineId("0123456789ABCDEF0123456789abcdef\n"), "0123456789abcdef0123456789abcdef");
  t.equal(normaliseMachineId("short"), null);
  t.equal(normaliseMachineId(null), null);
});
