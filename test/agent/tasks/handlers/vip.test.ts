import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { isInterfaceName, parseIpAddrShow, vipObserve } from "@muster/agent/tasks/handlers/vip";
import { TaskFailed } from "@muster/agent/tasks/types";
import t from "tap";
import { failed, fakeArp, fakeExec, ok } from "../../helpers/fakes.ts";
import { taskContext } from "../../helpers/task-context.ts";

// `ip -o -4 addr show dev eth0` on a node that holds the VIP (kube-vip adds it as a /32).
const HOLDER = `2: eth0    inet 10.0.0.11/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.0.0.100/32 scope global eth0\\       valid_lft forever preferred_lft forever
`;
const PLAIN =
  "2: eth0    inet 10.0.0.12/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever preferred_lft forever\n";

function node(root: string, addrs: string, macs: string[]) {
  mkdirSync(path.join(root, "sys/class/net/eth0"), { recursive: true });
  writeFileSync(path.join(root, "sys/class/net/eth0/address"), "02:00:00:00:00:0B\n");
  const ex = fakeExec((cmd, args) =>
    cmd === "ip" && args.at(-1) === "eth0"
      ? ok(addrs)
      : failed(1, `Device "${args.at(-1)}" does not exist.\n`),
  );
  const arp = fakeArp({}, { "10.0.0.100": macs });
  return { ...taskContext(root, { exec: ex.exec, arp: arp.arp }), ex, arp };
}

t.test("vip.observe on the holder: local, its MAC, and only the other holders' answers", async (t) => {
  const n = node(t.testdir(), HOLDER, []);
  t.same(await vipObserve({ kind: "vip.observe", address: "10.0.0.100", interface: "eth0" }, n.ctx), {
    macs: [],
    local: true,
    localMac: "02:00:00:00:00:0b",
  });
  t.same(n.ex.calls[0]!.args, ["-o", "-4", "addr", "show", "dev", "eth0"]);
  t.same(n.arp.calls, ["owners eth0 10.0.0.100"]);
});

t.test("vip.observe on a peer: not local, the holder's MAC answering", async (t) => {
  const n = node(t.testdir(), PLAIN, ["02:00:00:00:00:0a"]);
  t.same(await vipObserve({ kind: "vip.observe", address: "10.0.0.100", interface: "eth0" }, n.ctx), {
    macs: ["02:00:00:00:00:0a"],
    local: false,
    localMac: "02:00:00:00:00:0b",
  });
});

t.test("vip.observe: a missing interface, a bad name, or arping trouble is TaskFailed", async (t) => {
  const n = node(t.testdir(), PLAIN, []);
  await t.rejects(vipObserve({ kind: "vip.observe", address: "10.0.0.100", interface: "ens9" }, n.ctx), {
    constructor: TaskFailed,
    message: "interface ens9 does not exist on this node",
  });
  await t.rejects(vipObserve({ kind: "vip.observe", address: "10.0.0.100", interface: "-h" }, n.ctx), {
    message: '"-h" is not an interface name',
  });
  const broken = taskContext(t.testdir(), {
    exec: fakeExec(() => ok(PLAIN)).exec,
    arp: fakeArp({ "10.0.0.100": "error" }).arp,
  });
  await t.rejects(vipObserve({ kind: "vip.observe", address: "10.0.0.100", interface: "eth0" }, broken.ctx), {
    message: "could not ask who answers ARP for 10.0.0.100: arping: permission denied",
  });
});

t.test("helpers: interface names and ip addr output", async (t) => {
  for (const good of ["eth0", "ens3", "br-1a2b3c", "eth0.100", "veth@if2"]) t.ok(isInterfaceName(good), good);
  for (const bad of ["", "-i", "..", "a/b", "sixteen-chars-xx"]) t.notOk(isInterfaceName(bad), bad);
  t.same(parseIpAddrShow(HOLDER), ["10.0.0.11", "10.0.0.100"]);
  t.same(parseIpAddrShow(""), []);
});
