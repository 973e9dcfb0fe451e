// A small network of namespaces for tests that need real ARP (kube-vip): a hub netns with a bridge,
// and one netns per machine wired to it by a veth pair (the machine's end is named as asked, eth0 by
// default). Simulated nodes run inside their netns with `ip netns exec`; teardown SIGKILLs whatever
// still runs in each netns (rke2, etcd, kube-vip, systemctl supervisors) and deletes them all.
import { execFileSync, spawnSync } from "node:child_process";

export interface Machine {
  name: string;
  netns: string;
  ip: string;
  ifname: string;
}

function ip(args: string[], input?: string): void {
  const r = spawnSync("ip", args, { input, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr.trim()}`);
}

export function netnsPids(netns: string): number[] {
  const r = spawnSync("ip", ["netns", "pids", netns], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split("\n").filter(Boolean).map(Number) : [];
}

/** SIGKILL to every process in the netns: what losing power does to a machine's processes. */
export function killAll(netns: string): void {
  for (const pid of netnsPids(netns)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
}

export class Network {
  readonly prefix: string;
  readonly subnet: string;
  readonly hub: string;
  readonly machines = new Map<string, Machine>();
  #port = 0;

  constructor(prefix: string, subnet: string) {
    this.prefix = prefix;
    this.subnet = subnet;
    this.hub = `${prefix}-hub`;
    ip(["netns", "add", this.hub]);
    ip(
      ["-n", this.hub, "-batch", "-"],
      "link set lo up\nlink add br0 type bridge stp_state 0 forward_delay 0\nlink set br0 up\n",
    );
    const cleanup = () => this.destroy();
    process.once("exit", cleanup);
  }

  add(name: string, host: number, ifname = "eth0"): Machine {
    const netns = `${this.prefix}-${name}`;
    const addr = `${this.subnet}.${host}`;
    ip(["netns", "add", netns]);
    const veth = `v${++this.#port}`;
    ip(
      ["-n", this.hub, "-batch", "-"],
      `link add ${veth} type veth peer name ${ifname} netns ${netns}\nlink set ${veth} master br0\nlink set ${veth} up\n`,
    );
    ip(
      ["-n", netns, "-batch", "-"],
      `link set lo up\naddr add ${addr}/24 dev ${ifname}\nlink set ${ifname} up\n`,
    );
    const m = { name, netns, ip: addr, ifname };
    this.machines.set(name, m);
    return m;
  }

  /** Runs a command inside the machine's netns, returning stdout (throws on failure). */
  exec(m: Machine, cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
    return execFileSync("ip", ["netns", "exec", m.netns, cmd, ...args], {
      encoding: "utf8",
      env: env ?? process.env,
      timeout: 120_000,
    });
  }

  /** Like exec, but never throws: exit status and output. */
  try(m: Machine, cmd: string, args: string[]): { status: number | null; stdout: string } {
    const r = spawnSync("ip", ["netns", "exec", m.netns, cmd, ...args], {
      encoding: "utf8",
      timeout: 30_000,
    });
    return { status: r.status, stdout: r.stdout ?? "" };
  }

  /** True when the machine's interface is up and carries `addr` (it would answer ARP for it). */
  holds(m: Machine, addr: string): boolean {
    const r = spawnSync("ip", ["-n", m.netns, "-o", "-4", "addr", "show", "dev", m.ifname], {
      encoding: "utf8",
    });
    if (r.status !== 0 || !r.stdout.includes(` ${addr}/`)) return false;
    const link = spawnSync("ip", ["-n", m.netns, "-o", "link", "show", "dev", m.ifname], {
      encoding: "utf8",
    });
    return /state UP|,UP[,>]/.test(link.stdout);
  }

  mac(m: Machine): string {
    const out = spawnSync("ip", ["-n", m.netns, "-o", "link", "show", "dev", m.ifname], {
      encoding: "utf8",
    }).stdout;
    return /link\/ether ([0-9a-f:]+)/.exec(out)?.[1] ?? "";
  }

  destroy(): void {
    for (const m of this.machines.values()) killAll(m.netns);
    for (const ns of [...[...this.machines.values()].map((m) => m.netns), this.hub]) {
      spawnSync("ip", ["netns", "delete", ns]);
    }
    this.machines.clear();
  }
}

/** MACs that answer ARP for `addr`, asked from `from` (Habets' arping prints one line per reply). */
export function arpAnswers(from: Machine, addr: string): string[] {
  const help = spawnSync("arping", ["--help"], { encoding: "utf8" });
  const habets = /habets/i.test(`${help.stdout}${help.stderr}`);
  const args = habets
    ? ["-c", "3", "-w", "3", "-i", from.ifname, addr]
    : ["-c", "3", "-w", "3", "-I", from.ifname, addr];
  const r = spawnSync("ip", ["netns", "exec", from.netns, "arping", ...args], {
    encoding: "utf8",
    timeout: 10_000,
  });
  const macs = new Set<string>();
  for (const m of `${r.stdout}`.matchAll(/([0-9a-f]{2}(?::[0-9a-f]{2}){5})/gi)) macs.add(m[1]!.toLowerCase());
  return [...macs];
}
