import type { ArpingFlavour } from "./arp.ts";

// Who answers ARP for an address: the MACs in arping's reply lines. The two arpings print them
// differently (and neither prints anything for the sender's own addresses: Linux does not answer
// its own ARP requests, so a node holding an address sees only other holders):
// - Habets 2.x:  "42 bytes from 26:6e:e7:08:0f:bc (10.0.0.100): index=0 time=35.357 usec"
// - iputils:     "Unicast reply from 10.0.0.100 [26:6E:E7:08:0F:BC]  0.657ms"
const MAC = "[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}";
const HABETS_REPLY = new RegExp(`bytes from (${MAC}) \\(([0-9.]+)\\)`);
const IPUTILS_REPLY = new RegExp(`reply from ([0-9.]+) \\[(${MAC})\\]`, "i");

/** The distinct MACs (lowercase, in order of first reply) that answered for `ip`. */
export function parseArpReplies(output: string, ip: string): string[] {
  const macs = new Set<string>();
  for (const line of output.split("\n")) {
    const h = HABETS_REPLY.exec(line);
    if (h && h[2] === ip) macs.add(h[1]!.toLowerCase());
    const i = IPUTILS_REPLY.exec(line);
    if (i && i[1] === ip) macs.add(i[2]!.toLowerCase());
  }
  return [...macs];
}

/**
 * The argv that sends `count` ARP requests for `ip` out of `iface` and prints every reply. Both
 * flavours stop at the `waitSeconds` deadline; Habets spaces requests 0.2 s apart (-W), iputils
 * sends one a second but, with a deadline, stops once `count` replies arrived.
 */
export function arpingOwnersArgs(
  flavour: Exclude<ArpingFlavour, "missing">,
  iface: string,
  ip: string,
  count: number,
  waitSeconds: number,
): string[] {
  const c = String(count);
  const w = String(Math.max(1, Math.round(waitSeconds)));
  return flavour === "habets"
    ? ["-c", c, "-W", "0.2", "-w", w, "-i", iface, ip]
    : ["-c", c, "-w", w, "-I", iface, ip];
}

/**
 * Whether an arping run that printed no reply for the address failed (bad interface, no
 * permission) rather than met silence. Habets exits 1 for both; only an error writes to stderr.
 * iputils exits 1 for silence and 2 for errors.
 */
export function arpingFailed(flavour: Exclude<ArpingFlavour, "missing">, exitCode: number, stderr: string) {
  if (exitCode === 0) return false;
  if (flavour === "habets") return exitCode !== 1 || stderr.trim() !== "";
  return exitCode !== 1;
}
