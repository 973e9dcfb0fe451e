// The world's network: a hub netns holding bridge br0 (with the gateway address), and one veth per
// machine whose inner end is `eth0` in the machine's own netns. Nothing touches the host's netns.
import { execa } from "execa";
import { addressing, hubNetns, netnsName } from "./layout.ts";

/** Runs `ip` commands (one per line) in batch mode, optionally inside a netns. */
async function ipBatch(lines: readonly string[], netns?: string): Promise<void> {
  const args = netns ? ["-n", netns, "-batch", "-"] : ["-batch", "-"];
  const r = await execa("ip", args, { input: `${lines.join("\n")}\n`, reject: false });
  if (r.exitCode !== 0) {
    throw new Error(`world: ip ${args.join(" ")} failed: ${r.stderr.trim()}\n  ${lines.join("\n  ")}`);
  }
}

export async function createNetns(names: readonly string[]): Promise<void> {
  await ipBatch(names.map((n) => `netns add ${n}`));
}

export async function createHub(id: string, k: number): Promise<void> {
  const a = addressing(k);
  await createNetns([hubNetns(id)]);
  await ipBatch(
    [
      "link set lo up",
      "link add br0 type bridge stp_state 0 forward_delay 0",
      `addr add ${a.gateway}/${a.prefix} dev br0`,
      "link set br0 up",
    ],
    hubNetns(id),
  );
}

/** Wires machine `node` (netns already created) to the bridge as `eth0` with address `ip`. */
export async function attachMachine(
  id: string,
  k: number,
  port: number,
  node: string,
  ip: string,
): Promise<void> {
  const a = addressing(k);
  const ns = netnsName(id, node);
  const veth = `v${port}`; // hub side; names are per netns so they never clash across worlds
  await ipBatch(
    [
      `link add ${veth} type veth peer name eth0 netns ${ns}`,
      `link set ${veth} master br0`,
      `link set ${veth} up`,
    ],
    hubNetns(id),
  );
  await ipBatch(
    [
      "link set lo up",
      `addr add ${ip}/${a.prefix} dev eth0`,
      "link set eth0 up",
      `route add default via ${a.gateway} dev eth0`,
    ],
    ns,
  );
}
