// One simulated machine: its own netns (eth0 on the world bridge), mount namespace and UTS namespace.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { execa, type Options, type ResultPromise } from "execa";
import { isUnder, NETNS_DIR, netnsName, nodeDirs, nsFile, shq } from "./layout.ts";
import { hostPathOf, prepareNodeFiles, REPO_ROOT, setupScript } from "./mounts.ts";
import { attachMachine, createNetns } from "./network.ts";

/** execa's default options type (`{}`): stdout/stderr are strings. */
type DefaultOptions = Record<never, never>;

export interface WorldNode {
  readonly name: string;
  /** Address on eth0 (a /24 on the world bridge). */
  readonly ip: string;
  /** `ip netns` name; its file is /run/netns/<netns>. */
  readonly netns: string;
  /** Contents of the node's /etc/machine-id (32 hex). */
  readonly machineId: string;
  /** Host directory holding the node's files. */
  readonly root: string;
  /** Persistent namespace files (bind mounts of nsfs). */
  readonly mntNs: string;
  readonly utsNs: string;
  /** argv prefix that runs a command inside the node: `[...enter, "--", cmd, ...args]`. */
  readonly enter: readonly string[];
  /**
   * Runs `cmd` inside the node (netns + mount + UTS) via execa. `cwd` is an in-node path (default: the
   * caller's cwd, e.g. the repo, else "/"); the environment is MACHINE_ENV plus `opts.env`.
   */
  exec<const O extends Options = DefaultOptions>(
    cmd: string,
    args?: readonly string[],
    opts?: O,
  ): ResultPromise<O>;
  /** `sh -c script` inside the node. */
  sh<const O extends Options = DefaultOptions>(script: string, opts?: O): ResultPromise<O>;
  /**
   * Starts a long-running process inside the node. Like exec, but a rejection (e.g. killed by
   * World.down) is pre-handled so it is never an unhandled rejection; await it to see the result.
   */
  spawn<const O extends Options = DefaultOptions>(
    cmd: string,
    args?: readonly string[],
    opts?: O,
  ): ResultPromise<O>;
  /** Host path of an in-node path, e.g. path("/etc/rancher/rke2/config.yaml"). */
  path(inNode: string): string;
}

/**
 * Environment of commands run in a machine: a root login's, not the harness's (which carries tap's
 * NODE_OPTIONS and TAP_* variables). `opts.env` adds to it; `extendEnv: true` starts from the harness's.
 */
export const MACHINE_ENV: Readonly<Record<string, string>> = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  HOME: "/root",
  USER: "root",
  LOGNAME: "root",
  SHELL: "/bin/sh",
  LANG: "C.UTF-8",
};

export interface MachineSpec {
  id: string;
  k: number;
  port: number;
  name: string;
  ip: string;
  systemctl?: string | undefined;
  isAlive: () => boolean;
  /** Told before each namespace and namespace file is created (a lab's manifest). */
  record?: (thing: { kind: "netns"; name: string } | { kind: "nsfile"; path: string }) => void;
}

/** Creates the machine's namespaces, network and filesystem view. */
export async function createMachine(spec: MachineSpec): Promise<WorldNode> {
  const netns = netnsName(spec.id, spec.name);
  const machineId = randomBytes(16).toString("hex");
  const fsSpec = {
    id: spec.id,
    node: spec.name,
    hostname: spec.name,
    machineId,
    ip: spec.ip,
    systemctl: spec.systemctl,
  };
  const mntNs = nsFile(spec.id, spec.name, "mnt");
  const utsNs = nsFile(spec.id, spec.name, "uts");
  spec.record?.({ kind: "netns", name: netns });
  await createNetns([netns]);
  await attachMachine(spec.id, spec.k, spec.port, spec.name, spec.ip);
  prepareNodeFiles(fsSpec);
  spec.record?.({ kind: "nsfile", path: mntNs });
  spec.record?.({ kind: "nsfile", path: utsNs });
  fs.writeFileSync(mntNs, "");
  fs.writeFileSync(utsNs, "");
  const unshare = ["unshare", `--mount=${mntNs}`, `--uts=${utsNs}`, "--propagation", "private"];
  const r = await execa(
    "nsenter",
    [`--net=${NETNS_DIR}/${netns}`, "--", ...unshare, "sh", "-c", setupScript(fsSpec)],
    {
      reject: false,
    },
  );
  if (r.exitCode !== 0) throw new Error(`world: setting up node ${spec.name} failed: ${r.stderr.trim()}`);
  return makeNode(spec, netns, machineId, mntNs, utsNs);
}

/** A handle on a machine that already exists (built by another process, e.g. a lab's `up`). */
export function openMachine(spec: MachineSpec): WorldNode {
  const netns = netnsName(spec.id, spec.name);
  const machineId = fs.readFileSync(hostPathOf(spec.id, spec.name, "/etc/machine-id"), "utf8").trim();
  return makeNode(
    spec,
    netns,
    machineId,
    nsFile(spec.id, spec.name, "mnt"),
    nsFile(spec.id, spec.name, "uts"),
  );
}

function makeNode(
  spec: MachineSpec,
  netns: string,
  machineId: string,
  mntNs: string,
  utsNs: string,
): WorldNode {
  const enter = [`--net=${NETNS_DIR}/${netns}`, `--mount=${mntNs}`, `--uts=${utsNs}`];
  const run = (cmd: string, args: readonly string[], opts: Options | undefined): ResultPromise<Options> => {
    if (!spec.isAlive()) throw new Error(`world: node ${spec.name}: the world is down`);
    const { cwd, env, extendEnv, ...rest } = opts ?? {};
    const wd = cwd === undefined ? defaultWd() : cwd instanceof URL ? fileURLToPath(cwd) : cwd;
    if (extendEnv === true) {
      return execa("nsenter", [...enter, `--wd=${wd}`, "--", cmd, ...args], {
        ...rest,
        env,
        extendEnv: true,
      });
    }
    // `env -i` because tap's processinfo re-injects NODE_OPTIONS into every child's environment.
    if (cmd.includes("=")) throw new Error(`world: node ${spec.name}: command "${cmd}" must not contain "="`);
    const vars = Object.entries({ ...MACHINE_ENV, ...env }).flatMap(([k, v]) =>
      v === undefined ? [] : [`${k}=${v}`],
    );
    return execa("nsenter", [...enter, `--wd=${wd}`, "--", "env", "-i", ...vars, cmd, ...args], rest);
  };
  return {
    name: spec.name,
    ip: spec.ip,
    netns,
    machineId,
    root: nodeDirs(spec.id, spec.name).root,
    mntNs,
    utsNs,
    enter,
    exec: <const O extends Options = DefaultOptions>(cmd: string, args: readonly string[] = [], opts?: O) =>
      run(cmd, args, opts) as unknown as ResultPromise<O>,
    sh: <const O extends Options = DefaultOptions>(script: string, opts?: O) =>
      run("sh", ["-c", script], opts) as unknown as ResultPromise<O>,
    spawn: <const O extends Options = DefaultOptions>(
      cmd: string,
      args: readonly string[] = [],
      opts?: O,
    ) => {
      const child = run(cmd, args, opts);
      child.catch(() => {});
      return child as unknown as ResultPromise<O>;
    },
    path: (inNode: string) => hostPathOf(spec.id, spec.name, inNode, spec.systemctl),
  };
}

/** The caller's cwd when the node can see it (the repo), else "/" (/tmp and /run differ in a node). */
function defaultWd(): string {
  const cwd = process.cwd();
  // The repository is bound through into every node (mounts.ts), wherever it lives.
  if (isUnder(cwd, REPO_ROOT)) return cwd;
  return isUnder(cwd, "/tmp") || isUnder(cwd, "/run") ? "/" : cwd;
}

/** A one-line shell command that opens a shell in the node (for humans debugging). */
export function enterCommand(node: Pick<WorldNode, "enter">): string {
  return `nsenter ${node.enter.map(shq).join(" ")} -- bash -l`;
}
