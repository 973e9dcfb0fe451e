// vip.observe and vip-free with real ARP: three namespaced nodes on one bridge, real arping and
// iproute2, the agent's real host adapters running inside each node's namespace. A holder (the
// cluster's server), a peer, and a foreign host that later takes the same address.
// Root only; builds namespaces, so run it under the heavy lock.
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import t from "tap";

const isRoot = process.getuid?.() === 0;
const HOST_TASK = fileURLToPath(new URL("../../helpers/host-task.ts", import.meta.url));
const CLI = fileURLToPath(new URL("../../../../packages/agent/src/cli.ts", import.meta.url));
const tag = `w2v${process.pid % 100000}`;
const SWITCH = `${tag}-sw`;
const VIP = "10.250.231.100";
const NODES = { holder: "10.250.231.11", peer: "10.250.231.12", foreign: "10.250.231.13" } as const;
type Name = keyof typeof NODES;
const ns = (n: Name) => `${tag}-${n}`;

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] }).toString();
const inNs = (n: Name, cmd: string, args: string[]) =>
  execFileSync("ip", ["netns", "exec", ns(n), cmd, ...args], { encoding: "utf8", timeout: 60_000 });

function mac(n: Name): string {
  return /link\/ether (\S+)/.exec(ip("-n", ns(n), "-o", "link", "show", "dev", "eth0"))![1]!;
}

function task(n: Name, body: unknown) {
  return JSON.parse(inNs(n, process.execPath, [HOST_TASK, "task", JSON.stringify(body)]));
}

function vipFree(n: Name, vipOwners?: string[]) {
  const request = {
    vip: { address: VIP, interface: "eth0" },
    ...(vipOwners ? { vipOwners, vipInUse: true } : {}),
  };
  return JSON.parse(inNs(n, process.execPath, [HOST_TASK, "check", "vip-free", JSON.stringify(request)]));
}

t.test(
  "vip.observe and vip-free over real ARP",
  { skip: !isRoot && "needs root for network namespaces" },
  async (t) => {
    t.teardown(() => {
      for (const n of [SWITCH, ...Object.keys(NODES).map((k) => ns(k as Name))])
        try {
          ip("netns", "del", n);
        } catch {}
    });
    ip("netns", "add", SWITCH);
    ip("-n", SWITCH, "link", "add", "br0", "type", "bridge");
    ip("-n", SWITCH, "link", "set", "br0", "up");
    for (const [n, addr] of Object.entries(NODES) as Array<[Name, string]>) {
      ip("netns", "add", ns(n));
      ip("link", "add", "eth0", "netns", ns(n), "type", "veth", "peer", "name", `p-${n}`, "netns", SWITCH);
      ip("-n", SWITCH, "link", "set", `p-${n}`, "master", "br0", "up");
      ip("-n", ns(n), "link", "set", "lo", "up");
      ip("-n", ns(n), "addr", "add", `${addr}/24`, "dev", "eth0");
      ip("-n", ns(n), "link", "set", "eth0", "up");
    }
    ip("-n", ns("holder"), "addr", "add", `${VIP}/32`, "dev", "eth0");
    const holderMac = mac("holder");
    const peerMac = mac("peer");
    const foreignMac = mac("foreign");

    const fromPeer = task("peer", { kind: "vip.observe", address: VIP, interface: "eth0" });
    t.same(fromPeer, { ok: true, result: { macs: [holderMac], local: false, localMac: peerMac } });
    const fromHolder = task("holder", { kind: "vip.observe", address: VIP, interface: "eth0" });
    t.same(
      fromHolder,
      { ok: true, result: { macs: [], local: true, localMac: holderMac } },
      "the holder does not hear itself: local says it holds the VIP",
    );
    const missing = task("peer", { kind: "vip.observe", address: VIP, interface: "eth9" });
    t.same(missing, { ok: false, message: "interface eth9 does not exist on this node" });

    const owned = vipFree("peer", [holderMac, peerMac]);
    t.equal(owned.status, "pass");
    t.match(owned.message, `VIP ${VIP} is held by the cluster: ${holderMac}`);
    const onHolder = vipFree("holder", [holderMac, peerMac]);
    t.equal(onHolder.status, "pass");
    t.match(onHolder.message, "held by the cluster: this node");

    // The CLI, without owners: it names who holds the VIP, by its machine's own address once the
    // peer's neighbour table knows it: one TCP connection attempt to the holder's node address (the
    // kernel resolves it over ARP; the refusal that follows does not matter).
    spawnSync("ip", ["netns", "exec", ns("peer"), "curl", "-s", "-m", "2", `http://${NODES.holder}:9/`], {
      timeout: 10_000,
    });
    const run = spawnSync(
      "ip",
      [
        "netns",
        "exec",
        ns("peer"),
        process.execPath,
        CLI,
        "check",
        "--vip",
        VIP,
        "--interface",
        "eth0",
        "--json",
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    t.equal(run.status, 1, "a failing check exits 1");
    const cli = JSON.parse(run.stdout);
    const cliVip = cli.checks.find((c: { name: string }) => c.name === "vip-free");
    t.equal(cliVip.status, "fail");
    t.match(cliVip.message, `answers ARP on eth0 from ${holderMac} (${NODES.holder})`);

    // Another host takes the VIP: both answer; the check names the foreign MAC only.
    ip("-n", ns("foreign"), "addr", "add", `${VIP}/32`, "dev", "eth0");
    const both = task("peer", { kind: "vip.observe", address: VIP, interface: "eth0" });
    t.same([...both.result.macs].sort(), [holderMac, foreignMac].sort());
    const taken = vipFree("peer", [holderMac, peerMac]);
    t.equal(taken.status, "fail");
    t.match(taken.message, `answered on eth0 by ${foreignMac}, not one of the cluster's servers`);
    t.match(
      taken.message,
      `(also held by ${holderMac} (${NODES.holder}))`,
      "the cluster's own holder is not called foreign, and is named by its address",
    );
  },
);
