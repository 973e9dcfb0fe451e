// The e2e world with a VIP run by kube-vip: the spec's vip, kube-vip's image tarball in the
// coordinator's state dir (served under /v1/artifacts/images/, placed by the agents), and the
// peer-side questions a test asks: who answers ARP for the VIP, does the API answer through it.
import { mkdir } from "node:fs/promises";
import type { World, WorldNode } from "@muster/lab/world/world";
import { buildKubeVipImage } from "@muster/rke2-sim";

/** The spec fields that give the cluster the world's free VIP on eth0 (kube-vip lease 5/3/1 s). */
export function vipSpec(world: Pick<World, "vip">): Record<string, unknown> {
  return { vip: { address: world.vip, interface: "eth0" } };
}

/** kube-vip's image tarball where the coordinator serves images from (<state-dir>/images/). */
export async function placeKubeVipImage(coordinator: WorldNode, stateDir: string): Promise<string> {
  const dir = coordinator.path(`${stateDir}/images`);
  await mkdir(dir, { recursive: true });
  return buildKubeVipImage(dir);
}

/** Whether `node` has the VIP on eth0 (it holds it). */
export async function holdsVip(node: WorldNode, vip: string): Promise<boolean> {
  const r = await node.exec("ip", ["-o", "-4", "addr", "show", "dev", "eth0"], { reject: false });
  return new RegExp(`inet ${vip.replaceAll(".", "\\.")}/`).test(r.stdout);
}

/** The names of the nodes holding the VIP right now. */
export async function vipHolders(nodes: readonly WorldNode[], vip: string): Promise<string[]> {
  const held = await Promise.all(nodes.map((n) => holdsVip(n, vip)));
  return nodes.filter((_, i) => held[i]).map((n) => n.name);
}

/** The MACs answering ARP for the VIP as `from` sees them (Habets' arping, 2 requests). */
export async function arpAnswers(from: WorldNode, vip: string): Promise<string[]> {
  const r = await from.exec("arping", ["-c", "2", "-w", "3", "-i", "eth0", vip], { reject: false });
  const macs = new Set<string>();
  for (const m of r.stdout.matchAll(/bytes from ([0-9a-f]{2}(?::[0-9a-f]{2}){5})/gi))
    macs.add(m[1]!.toLowerCase());
  return [...macs];
}

/** Does the apiserver answer /readyz through the VIP (as seen from `from`)? */
export async function apiThroughVip(from: WorldNode, vip: string): Promise<boolean> {
  const r = await from.exec("curl", ["-fsSk", "--max-time", "3", `https://${vip}:6443/readyz`], {
    reject: false,
  });
  return r.exitCode === 0 && r.stdout.trim() === "ok";
}
