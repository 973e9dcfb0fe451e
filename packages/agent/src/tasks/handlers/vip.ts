import { TaskFailed, type TaskHandler } from "../types.ts";

// Who answers ARP for the VIP as seen from this node. Linux does not answer its own ARP requests, so
// a node that holds the VIP sees only other holders: `local` says whether this node holds it, from
// the interface's addresses (`ip -o -4 addr show dev IF`), and `localMac` is that interface's MAC.

/** A name `ip` and `arping` take as an interface, never as an option or a path. */
export function isInterfaceName(name: string): boolean {
  return /^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,14}$/.test(name) && name !== "." && name !== "..";
}

/** `ip -o -4 addr show dev IF` -> its IPv4 addresses. */
export function parseIpAddrShow(stdout: string): string[] {
  return [...stdout.matchAll(/\binet ([0-9.]+)\/\d+/g)].map((m) => m[1]!);
}

export const vipObserve: TaskHandler<"vip.observe"> = async (task, ctx) => {
  const { exec, files, arp } = ctx.host;
  const iface = task.interface;
  if (!isInterfaceName(iface)) throw new TaskFailed(`${JSON.stringify(iface)} is not an interface name`);
  const shown = await exec.run("ip", ["-o", "-4", "addr", "show", "dev", iface], { timeoutMs: 10_000 });
  if (shown.exitCode !== 0)
    throw new TaskFailed(
      /does not exist/i.test(shown.stderr)
        ? `interface ${iface} does not exist on this node`
        : `ip addr show dev ${iface} failed (exit ${shown.exitCode}): ${shown.stderr.trim().split("\n")[0] ?? ""}`,
    );
  const local = parseIpAddrShow(shown.stdout).includes(task.address);
  const mac = (await files.readTextIfExists(`/sys/class/net/${iface}/address`))?.trim().toLowerCase();
  const owners = await arp.owners(iface, task.address);
  if (!owners.ok) throw new TaskFailed(`could not ask who answers ARP for ${task.address}: ${owners.detail}`);
  return { macs: owners.macs, local, localMac: mac || null };
};

/** `ip -o -4 addr show dev IF` -> address -> prefix length. */
function prefixes(stdout: string): Map<string, string> {
  return new Map([...stdout.matchAll(/\binet ([0-9.]+)\/(\d+)/g)].map((m) => [m[1]!, m[2]!]));
}

export const vipRelease: TaskHandler<"vip.release"> = async (task, ctx) => {
  const { exec } = ctx.host;
  const iface = task.interface;
  if (!isInterfaceName(iface)) throw new TaskFailed(`${JSON.stringify(iface)} is not an interface name`);
  const shown = await exec.run("ip", ["-o", "-4", "addr", "show", "dev", iface], { timeoutMs: 10_000 });
  // No interface (a lost node's link is gone): nothing holds the VIP here.
  if (shown.exitCode !== 0) return { removed: false };
  const prefix = prefixes(shown.stdout).get(task.address);
  if (prefix === undefined) return { removed: false };
  const del = await exec.run("ip", ["addr", "del", `${task.address}/${prefix}`, "dev", iface], {
    timeoutMs: 10_000,
  });
  if (del.exitCode !== 0)
    throw new TaskFailed(
      `ip addr del ${task.address}/${prefix} dev ${iface} failed (exit ${del.exitCode}): ${del.stderr.trim().split("\n")[0] ?? ""}`,
    );
  ctx.progress(`deleted the stale VIP ${task.address} from ${iface}`);
  return { removed: true };
};
