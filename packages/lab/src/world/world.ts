// A world: simulated machines as Linux network + mount + UTS namespaces on one bridge.
//   const world = await up({ nodes: [{ name: "s1" }, { name: "s2" }], systemctl: wrapperPath });
//   await world.nodes[0].exec("hostname");  ...  await world.down();
// See test/world/README.md for the layout, addressing and how to enter a node by hand.
import fs from "node:fs";
import path from "node:path";
import {
  addressing,
  assignIps,
  COORDINATOR,
  checkNodeName,
  hubNetns,
  worldFsDir,
  worldStateDir,
} from "./layout.ts";
import { createHub } from "./network.ts";
import { createMachine, type WorldNode } from "./node.ts";
import { assertCanRunWorld } from "./prereq.ts";
import { allocateId, claimReap, ensureStateRoot, knownWorlds, leaseSubnet, ownerAlive } from "./registry.ts";
import { destroyWorld, type TeardownReport } from "./teardown.ts";

export { enterCommand, MACHINE_ENV, type WorldNode } from "./node.ts";
export { canRunWorld } from "./prereq.ts";
export type { TeardownReport } from "./teardown.ts";

export interface UpOptions {
  /** `host`: the address's last byte in whichever /24 the world gets (an alternative to `ip`). */
  nodes: readonly { name: string; ip?: string; host?: number }[];
  /** Use 10.250.<subnetIndex>.0/24 (0-255); default: the first free index from 1. */
  subnetIndex?: number;
  /**
   * Host file bound read-only over /usr/bin/systemctl in every machine (the simulator's stand-in). It
   * must not locate itself from $0 (that is /usr/bin/systemctl inside): use absolute paths.
   */
  systemctl?: string;
  /**
   * A lab's world: survives the process that built it (no exit-hook teardown once built, never reaped
   * by downAll); only an explicit destroyWorld(id) removes it. Torn down when `up` itself fails.
   */
  persistent?: boolean;
  /** Called before each namespace, namespace file or directory is created (a lab's manifest). */
  record?: (id: string, thing: WorldThing) => void;
}

/** Something a world is about to create, for a manifest that outlives a crash halfway. */
export type WorldThing =
  | { kind: "netns"; name: string }
  | { kind: "nsfile"; path: string }
  | { kind: "dir"; path: string };

export interface World {
  /** Short unique id (4 hex); netns names are `mw<id>-<node>`. */
  readonly id: string;
  readonly nodes: readonly WorldNode[];
  /** Extra machine at .2 for the coordinator (and mirror); same API as a node, named "coordinator". */
  readonly coordinator: WorldNode;
  /** The coordinator, then the nodes. */
  readonly machines: readonly WorldNode[];
  /** "10.250.<k>.0/24" */
  readonly subnet: string;
  readonly subnetIndex: number;
  /** br0's address in the hub netns (.1); every machine's default route points at it. */
  readonly gateway: string;
  /** A free address (.100) reserved for tests of a virtual IP; assigned to nothing. */
  readonly vip: string;
  /** `ip netns` name of the hub holding br0. */
  readonly hubNetns: string;
  /** Host directory with every machine's files. */
  readonly root: string;
  node(name: string): WorldNode;
  /** Kills every process in the world, unmounts, deletes netns and dirs, releases the subnet. Idempotent. */
  down(): Promise<TeardownReport>;
}

const live = new Map<string, { down: () => TeardownReport }>();

/** Builds a world. Reaps the leftovers of crashed runs first. Tears down what it built if it fails. */
export async function up(opts: UpOptions): Promise<World> {
  assertCanRunWorld();
  checkOptions(opts);
  ensureStateRoot();
  downAll();
  installExitHooks();
  const id = allocateId(opts.persistent === true);
  const record = (thing: WorldThing): void => opts.record?.(id, thing);
  record({ kind: "dir", path: worldStateDir(id) });
  record({ kind: "dir", path: worldFsDir(id) });
  let alive = true;
  let report: TeardownReport | undefined;
  const downSync = (): TeardownReport => {
    alive = false;
    report ??= destroyWorld(id);
    live.delete(id);
    return report;
  };
  live.set(id, { down: downSync });
  try {
    const k = leaseSubnet(id, opts.subnetIndex);
    const a = addressing(k);
    record({ kind: "netns", name: hubNetns(id) });
    await createHub(id, k);
    const ips = assignIps(
      k,
      opts.nodes.map((n) => (n.host === undefined ? n : { name: n.name, ip: a.nodeIp(n.host) })),
    );
    const base = {
      id,
      k,
      systemctl: opts.systemctl && path.resolve(opts.systemctl),
      isAlive: () => alive,
      record,
    };
    const coordinator = await createMachine({ ...base, port: 0, name: COORDINATOR, ip: a.coordinator });
    const nodes: WorldNode[] = [];
    for (const [i, n] of opts.nodes.entries()) {
      nodes.push(await createMachine({ ...base, port: i + 1, name: n.name, ip: ips[i]! }));
    }
    // A persistent world is built: from now on only an explicit destroyWorld removes it.
    if (opts.persistent) live.delete(id);
    return {
      id,
      nodes,
      coordinator,
      machines: [coordinator, ...nodes],
      subnet: a.subnet,
      subnetIndex: k,
      gateway: a.gateway,
      vip: a.vip,
      hubNetns: hubNetns(id),
      root: worldFsDir(id),
      node(name: string): WorldNode {
        const n = name === COORDINATOR ? coordinator : nodes.find((x) => x.name === name);
        if (!n) throw new Error(`world ${id}: no node named "${name}"`);
        return n;
      },
      down: async () => downSync(),
    };
  } catch (e) {
    const r = downSync();
    if (r.problems.length > 0) (e as Error).message += `\n  teardown problems: ${r.problems.join("; ")}`;
    throw e;
  }
}

/**
 * Removes every world whose owner process is gone (a crashed or killed run). Worlds of live
 * processes, this one included, are left alone. Returns what was reaped.
 */
export function downAll(): TeardownReport[] {
  const reaped: TeardownReport[] = [];
  for (const id of knownWorlds()) {
    if (live.has(id) || ownerAlive(id) || !claimReap(id)) continue;
    reaped.push(destroyWorld(id));
  }
  return reaped;
}

function checkOptions(opts: UpOptions): void {
  const names = new Set<string>();
  for (const n of opts.nodes) {
    checkNodeName(n.name);
    if (names.has(n.name)) throw new Error(`world: node name "${n.name}" is used twice`);
    names.add(n.name);
  }
  if (opts.systemctl !== undefined && !fs.statSync(opts.systemctl, { throwIfNoEntry: false })?.isFile()) {
    throw new Error(`world: systemctl stand-in ${opts.systemctl} is not a file`);
  }
}

let hooked = false;
/** Tears down this process's worlds on exit and on SIGINT/SIGTERM/SIGHUP (once per signal). */
function installExitHooks(): void {
  if (hooked) return;
  hooked = true;
  const teardownAll = (): void => {
    for (const w of [...live.values()]) w.down();
  };
  process.on("exit", teardownAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      teardownAll();
      // Then let the signal act as if this hook were not there: re-raised without our listener, it
      // kills the process unless someone else handles it (signal-exit, used by execa, re-raises too).
      process.off(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}
