// Faults a lab can inject into one node: power loss (`kill`), a stopped unit (`stop`), a cut link
// (`partition`, healed by `heal` or after --seconds).
import { spawn } from "node:child_process";
import fs from "node:fs";
import { execa } from "execa";
import { nsInode, pidAlive, pids, sleepSync } from "../world/host.ts";
import { hubNetns, NETNS_DIR } from "../world/layout.ts";
import type { WorldNode } from "../world/node.ts";
import { nodeOf } from "./machines.ts";
import { type LabRecord, machineOf } from "./state.ts";

/** Every process in a machine's network, mount or UTS namespace. */
export function processesOf(node: Pick<WorldNode, "netns" | "mntNs" | "utsNs">): number[] {
  const inodes = new Set<number>();
  for (const p of [`${NETNS_DIR}/${node.netns}`, node.mntNs, node.utsNs]) {
    try {
      inodes.add(fs.statSync(p).ino);
    } catch {}
  }
  return pids().filter(
    (pid) =>
      pid !== process.pid &&
      (["net", "mnt", "uts"] as const).some((k) => {
        const ino = nsInode(pid, k);
        return ino !== undefined && inodes.has(ino);
      }),
  );
}

/**
 * Power loss: the node's link goes dark, then SIGKILL to every process of the node at once (no unit
 * gets to stop cleanly). Dark first, as with a real power cut: no FIN or RST leaves the machine, so
 * peers and the coordinator must find out through their own timeouts (heartbeat, etcd probes), and
 * it answers nothing, not even ARP for an address a killed kube-vip left behind.
 */
export async function killNode(r: LabRecord, name: string): Promise<number[]> {
  return powerOff(nodeOf(r, name), hubNetns(r.id), machineOf(r, name).port);
}

/** Power loss of one machine of a world (lab or test cluster): its port is its veth `v<port>` in the hub. */
export async function powerOff(
  node: Pick<WorldNode, "netns" | "mntNs" | "utsNs">,
  hub: string,
  port: number,
): Promise<number[]> {
  await setHubLink(hub, port, "down");
  // Every process at once, and again for any a supervisor forked while the first ones died:
  // power loss leaves nothing running.
  const victims: number[] = [];
  const deadline = Date.now() + 5000;
  for (;;) {
    const left = processesOf(node).filter(pidAlive);
    if (left.length === 0 || Date.now() > deadline) break;
    for (const pid of left) {
      if (!victims.includes(pid)) victims.push(pid);
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
    sleepSync(20);
  }
  await forgetSockets(node.netns);
  return victims;
}

/**
 * What a real power loss takes with the kernel but killing processes leaves behind: sockets their
 * owners no longer hold (FIN_WAIT, TIME_WAIT) go on retransmitting into the dead link, and when the
 * link comes back their half-spent ARP probes fail a fresh connect with "No route to host".
 */
async function forgetSockets(netns: string): Promise<void> {
  await execa("ip", ["netns", "exec", netns, "ss", "-K", "-a"], { reject: false });
  await execa("ip", ["-n", netns, "neigh", "flush", "all"], { reject: false });
}

/** `systemctl stop UNIT` inside the node; its exit code. */
export async function stopUnit(r: LabRecord, name: string, unit: string): Promise<number> {
  const res = await nodeOf(r, name).exec("systemctl", ["stop", unit], { reject: false, stdio: "inherit" });
  return res.exitCode ?? 1;
}

/** Cuts the node's link at the bridge; with `seconds`, a timer in the hub netns restores it. */
export async function partition(r: LabRecord, name: string, seconds?: number): Promise<void> {
  const port = machineOf(r, name).port;
  await setLink(r, port, "down");
  if (seconds === undefined) return;
  // In the hub's netns, so `down` finds and ends a timer still pending.
  const timer = spawn(
    "nsenter",
    [`--net=${NETNS_DIR}/${hubNetns(r.id)}`, "--", "sh", "-c", `sleep ${seconds}; ip link set v${port} up`],
    { detached: true, stdio: "ignore" },
  );
  timer.unref();
}

export async function heal(r: LabRecord, name: string): Promise<void> {
  await setLink(r, machineOf(r, name).port, "up");
}

async function setLink(r: LabRecord, port: number, state: "up" | "down"): Promise<void> {
  await setHubLink(hubNetns(r.id), port, state);
}

/** Sets a machine's link at the world's bridge up or down. */
export async function setHubLink(hub: string, port: number, state: "up" | "down"): Promise<void> {
  const res = await execa("ip", ["-n", hub, "link", "set", `v${port}`, state], { reject: false });
  if (res.exitCode !== 0) throw new Error(`lab: ip link set v${port} ${state}: ${res.stderr.trim()}`);
  if (state === "up") await untilOperUp(hub, `v${port}`);
}

/**
 * Waits until the kernel reports `dev` in `netns` operationally up. `ip link set up` returns before
 * the carrier change is processed (the kernel's linkwatch may take up to a second), and until then
 * the machine's packets are dropped: a bootstrap run at once would fail to connect.
 */
export async function untilOperUp(netns: string, dev: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await execa("ip", ["-n", netns, "-j", "link", "show", "dev", dev], { reject: false });
    const state = r.exitCode === 0 ? (JSON.parse(r.stdout) as { operstate?: string }[])[0]?.operstate : null;
    if (state === "UP") return;
    if (Date.now() > deadline)
      throw new Error(`lab: ${dev} in ${netns} is not up after ${timeoutMs} ms (${state})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
