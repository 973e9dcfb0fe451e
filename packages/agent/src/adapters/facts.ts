import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { InterfaceFact, NodeFacts } from "@muster/shared";
import { findInstalledRke2 } from "../rke2-paths.ts";
import { normaliseMachineId, parseDefaultRoute, pickNodeAddress, rke2Arch } from "./host-facts.ts";
import type { Exec, FactsOptions, FactsSource, Files, Systemd } from "./types.ts";

// Host facts. OS from /etc/os-release and node:os, memory and swap from /proc/meminfo (a few reads,
// no library: the agent stays small and starts fast); interfaces come from /sys/class/net (flags and
// MAC, including interfaces without an address) plus os.networkInterfaces() (every IPv4 with its
// prefix); the default route from /proc/net/route. All reads run in parallel: `check` must be fast.
export const RKE2_DATA_ROOT = "/var/lib/rancher";

export interface SystemInfo {
  hostname(): string;
  osInfo(): Promise<{ platform: string; distro: string; release: string; kernel: string; arch: string }>;
  memory(): Promise<{ total: number; swaptotal: number }>;
  cpus(): number;
  addresses(): NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  /** Free bytes for unprivileged use on the filesystem holding `realPath`. */
  freeBytes(realPath: string): Promise<number>;
}

export const realSystemInfo: SystemInfo = {
  hostname: () => os.hostname(),
  async osInfo() {
    const release =
      (await readIfExists("/etc/os-release")) ?? (await readIfExists("/usr/lib/os-release")) ?? "";
    return { platform: os.platform(), ...parseOsRelease(release), kernel: os.release(), arch: os.arch() };
  },
  async memory() {
    return parseMeminfo((await readIfExists("/proc/meminfo")) ?? "");
  },
  cpus: () => os.cpus().length,
  addresses: () => os.networkInterfaces(),
  async freeBytes(realPath) {
    const s = await fs.statfs(realPath);
    return s.bavail * s.bsize;
  },
};

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch {
    return null;
  }
}

/** os-release(5): NAME and VERSION_ID (quotes stripped); "unknown" where absent. */
export function parseOsRelease(text: string): { distro: string; release: string } {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Z_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) fields[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return { distro: fields.NAME || "unknown", release: fields.VERSION_ID || "unknown" };
}

/** /proc/meminfo's MemTotal and SwapTotal (kB) in bytes; 0 where absent. */
export function parseMeminfo(text: string): { total: number; swaptotal: number } {
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { total: kib("MemTotal"), swaptotal: kib("SwapTotal") };
}

export interface FactsDeps {
  files: Files;
  exec: Exec;
  systemd: Systemd;
  system?: SystemInfo;
}

export function createFacts(deps: FactsDeps): FactsSource {
  const { files, exec, systemd } = deps;
  const system = deps.system ?? realSystemInfo;

  async function interfaces(): Promise<InterfaceFact[]> {
    const addrs = system.addresses();
    const names = new Set([...(await files.readdir("/sys/class/net")), ...Object.keys(addrs)]);
    return Promise.all(
      [...names].sort().map(async (name) => {
        const flags = await files.readTextIfExists(`/sys/class/net/${name}/flags`);
        const mac = (await files.readTextIfExists(`/sys/class/net/${name}/address`))?.trim();
        const v4 = (addrs[name] ?? []).filter((a) => a.family === "IPv4");
        // IFF_UP (0x1) is the administrative state kube-vip and RKE2 care about.
        const up = flags !== null ? (Number.parseInt(flags.trim(), 16) & 0x1) === 1 : v4.length > 0;
        return {
          name,
          up,
          mac: mac ?? v4[0]?.mac ?? "",
          ipv4: v4.map((a) => ({ address: a.address, prefix: Number(a.cidr?.split("/")[1] ?? 32) })),
        };
      }),
    );
  }

  async function machineId(hostname: string, ifaces: InterfaceFact[]): Promise<string> {
    const id =
      normaliseMachineId(await files.readTextIfExists("/etc/machine-id")) ??
      normaliseMachineId(await files.readTextIfExists("/var/lib/dbus/machine-id"));
    if (id) return id;
    // No machine id (minimal containers): derive a stable one from the hostname and first real MAC.
    const mac = ifaces.find((i) => i.mac && i.mac !== "00:00:00:00:00:00")?.mac ?? "";
    return createHash("sha256").update(`${hostname}/${mac}`).digest("hex").slice(0, 32);
  }

  async function diskFree(): Promise<number> {
    // /var/lib/rancher usually does not exist before install: measure its nearest existing ancestor.
    let dir = RKE2_DATA_ROOT;
    while (dir !== "/" && !(await files.exists(dir))) dir = path.dirname(dir);
    return system.freeBytes(files.resolve(dir));
  }

  async function rke2(): Promise<NodeFacts["rke2"]> {
    const found = await findInstalledRke2(files, exec);
    if (!found) return { installed: false };
    const [serverOn, agentOn] = await Promise.all([unitOn("rke2-server"), unitOn("rke2-agent")]);
    const role = serverOn ? "server" : agentOn ? "agent" : undefined;
    return {
      installed: true,
      ...(found.version ? { version: found.version } : {}),
      ...(role ? { role } : {}),
    };
  }

  async function unitOn(unit: string): Promise<boolean> {
    const [active, enabled] = await Promise.all([systemd.isActive(unit), systemd.isEnabled(unit)]);
    return active || enabled;
  }

  return {
    async collect(opts: FactsOptions = {}): Promise<NodeFacts> {
      const hostname = system.hostname();
      const [osInfo, mem, ifaces, route, disk, installed] = await Promise.all([
        system.osInfo(),
        system.memory(),
        interfaces(),
        files.readTextIfExists("/proc/net/route"),
        diskFree(),
        rke2(),
      ]);
      const defaultRoute = route ? parseDefaultRoute(route) : undefined;
      return {
        hostname,
        machineId: await machineId(hostname, ifaces),
        os: {
          platform: osInfo.platform,
          distro: osInfo.distro,
          release: osInfo.release,
          kernel: osInfo.kernel,
          arch: rke2Arch(osInfo.arch),
        },
        cpus: system.cpus(),
        memoryBytes: mem.total,
        diskFreeBytes: disk,
        swapBytes: mem.swaptotal,
        interfaces: ifaces,
        ...(defaultRoute ? { defaultRoute } : {}),
        address: pickNodeAddress(ifaces, defaultRoute?.interface, opts),
        rke2: installed,
      };
    },
  };
}
