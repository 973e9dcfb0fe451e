// The VIP on the host's interface with the real tools: iproute2 for the address (kube-vip adds it as
// <vip>/32 through netlink) and the installed arping for the gratuitous ARP that moves neighbours'
// caches to this MAC. Debian's arping is Thomas Habets' 2.x (-U unsolicited, -S source, -i interface);
// RHEL's is iputils (-U unsolicited, -s source, -I interface); the help text tells them apart.
import { execa } from "execa";

export async function linkExists(iface: string): Promise<boolean> {
  return (await execa("ip", ["-o", "link", "show", "dev", iface], { reject: false })).exitCode === 0;
}

export async function hasAddress(iface: string, vip: string): Promise<boolean> {
  const r = await execa("ip", ["-o", "-4", "addr", "show", "dev", iface], { reject: false });
  return r.exitCode === 0 && r.stdout.split("\n").some((l) => l.includes(` ${vip}/`));
}

/** Adds <vip>/32; false when it was already there (kube-vip's AddIP precheck). */
export async function addAddress(iface: string, vip: string): Promise<boolean> {
  if (await hasAddress(iface, vip)) return false;
  const r = await execa("ip", ["addr", "add", `${vip}/32`, "dev", iface], { reject: false });
  if (r.exitCode !== 0 && !/File exists/.test(r.stderr)) {
    throw new Error(`could not add ip to device "${iface}": ${r.stderr.trim()}`);
  }
  return r.exitCode === 0;
}

/** Deletes the VIP; false when it was not there. */
export async function deleteAddress(iface: string, vip: string): Promise<boolean> {
  if (!(await hasAddress(iface, vip))) return false;
  const r = await execa("ip", ["addr", "del", `${vip}/32`, "dev", iface], { reject: false });
  return r.exitCode === 0;
}

let flavour: Promise<"habets" | "iputils" | "missing"> | undefined;

function arpingFlavour() {
  flavour ??= execa("arping", ["--help"], { reject: false, all: true }).then((r) =>
    r.exitCode === 127 || (r.failed && !r.all)
      ? "missing"
      : /habets/i.test(r.all ?? "")
        ? "habets"
        : "iputils",
  );
  return flavour;
}

/** One gratuitous (unsolicited) ARP request announcing vip at this interface's MAC. */
export async function sendGratuitousArp(iface: string, vip: string): Promise<void> {
  const kind = await arpingFlavour();
  if (kind === "missing") throw new Error("arping is not installed");
  const args =
    kind === "habets"
      ? ["-q", "-U", "-c", "1", "-w", "1", "-i", iface, "-S", vip, vip]
      : ["-q", "-U", "-c", "1", "-w", "1", "-I", iface, "-s", vip, vip];
  // Neither flavour gets a reply to an unsolicited ARP, so exit status 1 is the normal outcome.
  const r = await execa("arping", args, { reject: false, timeout: 5000 });
  if (r.exitCode !== 0 && r.exitCode !== 1)
    throw new Error(`arping: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
}
