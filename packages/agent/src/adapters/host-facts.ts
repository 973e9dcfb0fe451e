import type { InterfaceFact } from "@muster/shared";

// Pure pieces of fact gathering, kept apart from I/O so they are tested on fixtures.

/** Node's process.arch / uname names -> the names RKE2 artifacts use. */
export function rke2Arch(arch: string): string {
  const map: Record<string, string> = {
    x64: "amd64",
    x86_64: "amd64",
    amd64: "amd64",
    arm64: "arm64",
    aarch64: "arm64",
    s390x: "s390x",
  };
  return map[arch] ?? arch;
}

/** /proc/net/route -> the default route with the lowest metric. Addresses there are little-endian hex. */
export function parseDefaultRoute(text: string): { interface: string; gateway?: string } | undefined {
  let best: { iface: string; gateway: string; metric: number } | undefined;
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, gw, flags, , , metric, mask] = f;
    if (dest !== "00000000" || mask !== "00000000") continue;
    if ((Number.parseInt(flags!, 16) & 0x1) === 0) continue; // RTF_UP
    const m = Number.parseInt(metric!, 10);
    if (!best || m < best.metric) best = { iface: iface!, gateway: gw!, metric: m };
  }
  if (!best) return undefined;
  const gateway = hexToIPv4(best.gateway);
  return gateway === "0.0.0.0" ? { interface: best.iface } : { interface: best.iface, gateway };
}

export function hexToIPv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join(".");
}

/**
 * The node's cluster address: an operator override the host really has, else the default-route
 * interface's IPv4, else the VIP interface's, else the first non-loopback IPv4.
 */
export function pickNodeAddress(
  interfaces: readonly InterfaceFact[],
  defaultIface: string | undefined,
  opts: { vipInterface?: string; address?: string } = {},
): string {
  const all = interfaces.flatMap((i) => i.ipv4.map((a) => ({ iface: i.name, address: a.address })));
  if (opts.address && all.some((a) => a.address === opts.address)) return opts.address;
  const firstOf = (name: string | undefined) => all.find((a) => a.iface === name)?.address;
  return (
    firstOf(defaultIface) ??
    firstOf(opts.vipInterface) ??
    all.find((a) => !a.address.startsWith("127."))?.address ??
    opts.address ??
    "127.0.0.1"
  );
}

/** `rke2 --version` first line: "rke2 version v1.33.5+rke2r1 (0123abcd)". */
export function parseRke2Version(stdout: string): string | undefined {
  return /rke2 version (v\S+)/.exec(stdout)?.[1];
}

/** /etc/machine-id is 32 lowercase hex digits; anything else is unusable as identity. */
export function normaliseMachineId(text: string | null): string | null {
  const id = text?.trim().toLowerCase() ?? "";
  return /^[0-9a-f]{32}$/.test(id) ? id : null;
}
