// The e2e world with a VIP run by kube-vip: the spec's vip, kube-vip's image tarball in the
// coordinator's state dir (served under /v1/artifacts/images/, placed by the agents), and the
// peer-side questions a test asks: who answers ARP for the VIP, does the API answer through it.
import { statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { buildKubeVipImage } from "@muster/rke2-sim";
import { execa } from "execa";
import { nsInode, pidAlive, pids } from "../world/host.ts";
import { NETNS_DIR } from "../world/layout.ts";
import type { World, WorldNode } from "../world/world.ts";

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

/** `node`'s MAC on eth0, from `ip link` inside its netns (the host's /sys is not the node's). */
export async function macOf(node: WorldNode): Promise<string> {
  const r = await node.exec("ip", ["-o", "link", "show", "dev", "eth0"]);
  return /link\/ether ([0-9a-f:]{17})/i.exec(r.stdout)?.[1]?.toLowerCase() ?? "";
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

/** The MACs answering ARP for the VIP as `from` sees them (Habets' arping; quick: one request, 1 s). */
export async function arpAnswers(from: WorldNode, vip: string, quick = false): Promise<string[]> {
  const [count, wait] = quick ? ["1", "1"] : ["2", "3"];
  const r = await from.exec("arping", ["-c", count, "-w", wait, "-i", "eth0", vip], { reject: false });
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

/**
 * Stops rke2-server on `node` as muster's stopServerSafely does, by hand inside the node: systemctl
 * stop, `crictl stop` of kube-vip (SIGTERM: it releases its Lease and deletes the VIP, so a follower
 * takes over at its next retry instead of after the lease expires), rke2-killall.sh, then delete an
 * address a SIGKILLed kube-vip left (kube-vip#1786).
 */
export async function stopLikeMuster(node: WorldNode, vip: string): Promise<string> {
  const crictl =
    "CONTAINER_RUNTIME_ENDPOINT=unix:///run/k3s/containerd/containerd.sock /var/lib/rancher/rke2/bin/crictl";
  const r = await node.sh(
    `systemctl stop rke2-server; if [ -x /var/lib/rancher/rke2/bin/crictl ]; then ids=$(${crictl} ps --name '^kube-vip$' --state running -q); [ -n "$ids" ] && ${crictl} stop --timeout 10 $ids; fi; for p in /usr/local /usr /opt/rke2; do if [ -x "$p/bin/rke2-killall.sh" ]; then "$p/bin/rke2-killall.sh"; break; fi; done; ip addr del ${vip}/32 dev eth0 2>/dev/null; true`,
    { reject: false, all: true },
  );
  return r.all ?? "";
}

export interface Failover {
  from: string;
  to: string;
  seconds: number;
  apiReachable: boolean;
}

/**
 * Stops the VIP holder among `servers` and measures the seconds until exactly one other machine
 * answers ARP for the VIP as `observer` sees it (and that machine has it); then whether the API answers
 * through it. Polls every 100 ms; gives up after `timeoutMs`.
 */
export async function failover(
  servers: readonly WorldNode[],
  observer: WorldNode,
  vip: string,
  timeoutMs = 60_000,
): Promise<Failover> {
  const holders = await vipHolders(servers, vip);
  if (holders.length !== 1)
    throw new Error(`expected one VIP holder before failover, found ${holders.join(", ") || "none"}`);
  const from = servers.find((s) => s.name === holders[0])!;
  const fromMac = await macOf(from);
  const others = servers.filter((s) => s !== from);
  const t0 = performance.now();
  const stopOutput = await stopLikeMuster(from, vip);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = await vipHolders(others, vip);
    if (now.length === 1) {
      const quick = await arpAnswers(observer, vip, true);
      if (quick.length === 1 && quick[0] !== fromMac) {
        const seconds = (performance.now() - t0) / 1000;
        // Untimed: a fuller look that the old holder is silent too.
        const macs = await arpAnswers(observer, vip);
        if (macs.length !== 1 || macs[0] === fromMac)
          throw new Error(`after failover ${macs.length} machines answer ARP for ${vip}: ${macs.join(", ")}`);
        let apiReachable = false;
        const apiDeadline = Date.now() + 30_000;
        while (!apiReachable && Date.now() < apiDeadline) {
          apiReachable = await apiThroughVip(observer, vip);
          if (!apiReachable) await new Promise((r) => setTimeout(r, 250));
        }
        return { from: from.name, to: now[0]!, seconds: Math.round(seconds * 10) / 10, apiReachable };
      }
    }
    if (Date.now() > deadline)
      throw new Error(
        `the VIP did not move off ${from.name} within ${timeoutMs / 1000} s (holders: ${now.join(", ") || "none"}); stop said: ${stopOutput.slice(-1500)}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Power loss of `node` (what `lab kill` does): SIGKILL to every process in its namespaces at once, then
 * its link goes dark, so it answers nothing, not even ARP for an address a killed kube-vip left behind.
 */
export async function powerOff(node: WorldNode): Promise<number[]> {
  const inodes = new Set<number>();
  for (const p of [`${NETNS_DIR}/${node.netns}`, node.mntNs, node.utsNs]) {
    try {
      inodes.add(statSync(p).ino);
    } catch {}
  }
  const victims = pids().filter(
    (pid) =>
      pid !== process.pid &&
      (["net", "mnt", "uts"] as const).some((k) => {
        const ino = nsInode(pid, k);
        return ino !== undefined && inodes.has(ino);
      }),
  );
  for (const pid of victims) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  const deadline = Date.now() + 5000;
  while (victims.some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await execa("ip", ["-n", node.netns, "link", "set", "eth0", "down"], { reject: false });
  return victims;
}
