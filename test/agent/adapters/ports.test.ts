import dgram from "node:dgram";
import net, { type AddressInfo } from "node:net";
import { tcpProbe, udpProbe } from "@muster/agent/adapters/ports";
import t from "tap";

// Real sockets on loopback: a listener answers, a closed port refuses (TCP RST, ICMP for UDP).
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

t.test("tcp: a listener is ok, a closed port is refused", async (t) => {
  const server = net.createServer((c) => c.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const open = await tcpProbe("127.0.0.1", (server.address() as AddressInfo).port, 2000);
  t.equal(open.ok, true);
  t.match(open.detail, /^connected in \d+ ms$/);
  const closed = await tcpProbe("127.0.0.1", await freePort(), 2000);
  t.same(closed, {
    ok: false,
    detail: "connection refused (nothing listens, or a firewall rejects)",
    refused: true,
  });
});

t.test("udp: ICMP port-unreachable is closed; silence is open-or-filtered", async (t) => {
  const closed = await udpProbe("127.0.0.1", await freePort(), 1000);
  t.same(closed, { ok: false, detail: "ICMP port unreachable: closed" });

  const listener = dgram.createSocket("udp4");
  const got = new Promise<string>((r) => listener.once("message", (m) => r(String(m))));
  await new Promise<void>((r) => listener.bind(0, "127.0.0.1", r));
  t.teardown(() => listener.close());
  const open = await udpProbe("127.0.0.1", listener.address().port, 300);
  t.equal(open.ok, true);
  t.match(open.detail, /open or filtered/, "the detail says UDP cannot tell open from filtered");
  t.equal(await got, "muster-probe\n", "a datagram really went out");
});
