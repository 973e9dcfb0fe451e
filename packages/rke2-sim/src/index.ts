// What a test harness (test/world) needs from the simulator.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { nodeBinary, SIM_DIR, shQuote } from "./paths.ts";
import type { EtcdMemberList } from "./rke2/etcd-client.ts";

export {
  type Arch,
  type ArtifactOptions,
  type Artifacts,
  buildArtifacts,
  DEFAULT_RKE2_VERSION,
} from "./artifacts.ts";
export {
  buildKubeVipImage,
  DEFAULT_KUBE_VIP_VERSION,
  KUBE_VIP_IMAGE,
} from "./kube-vip/image.ts";
export { nodeBinary, REPO_ROOT, SIM_DIR } from "./paths.ts";

/** The simulated installer (POSIX sh), run as `sh install.sh` or piped to `sh -s -`. */
export const installScriptPath = path.join(SIM_DIR, "install.sh");
/** Self-locating systemctl wrapper; when bind-mounting, prefer writeSystemctlWrapper(). */
export const systemctlWrapperPath = path.join(SIM_DIR, "systemctl");
export const systemctlScriptPath = path.join(SIM_DIR, "systemctl.ts");
export const rke2ScriptPath = path.join(SIM_DIR, "rke2.ts");

/**
 * Writes a systemctl wrapper with absolute paths to Node 24 and systemctl.ts, suitable for
 * bind-mounting over /usr/bin/systemctl (where the wrapper cannot find the repo from $0).
 */
export async function writeSystemctlWrapper(dest: string): Promise<string> {
  await mkdir(path.dirname(dest), { recursive: true });
  const script = [
    "#!/bin/sh",
    "# systemctl stand-in (muster test world), written by packages/rke2-sim/src/index.ts writeSystemctlWrapper().",
    `exec ${shQuote(nodeBinary())} ${shQuote(systemctlScriptPath)} "$@"`,
    "",
  ].join("\n");
  await writeFile(dest, script);
  await chmod(dest, 0o755);
  return dest;
}

/** Where the systemctl stand-in keeps a unit's journal (stdout/stderr of the service + its own lines). */
export function journalPath(
  unit: string,
  stateDir = process.env["SYSTEMCTL_SIM_STATE_DIR"] || "/run/systemctl-sim",
) {
  const name = /\.[a-z]+$/.test(unit) ? unit : `${unit}.service`;
  return path.join(stateDir, "journal", `${name}.log`);
}

export interface EtcdMemberInfo {
  name: string;
  /** Hex, as etcdctl prints it. */
  id: string;
  isLearner: boolean;
  peerURLs: string[];
  clientURLs: string[];
}

/**
 * etcd membership via `etcdctl member list -w json` against one or more client endpoints
 * (e.g. "http://10.0.0.11:2379"). A member added but not yet started has name "".
 */
export async function readMembership(endpoint: string | string[]): Promise<EtcdMemberInfo[]> {
  const endpoints = Array.isArray(endpoint) ? endpoint : [endpoint];
  const { stdout } = await execa("etcdctl", [
    `--endpoints=${endpoints.join(",")}`,
    "--dial-timeout=3s",
    "--command-timeout=5s",
    "member",
    "list",
    "-w",
    "json",
  ]);
  // Member IDs are uint64: quote them before JSON.parse so no digit is lost.
  const parsed = JSON.parse(stdout.replace(/"ID":(\d+)/g, '"ID":"$1"')) as EtcdMemberList;
  return (parsed.members ?? []).map((m) => ({
    name: m.name ?? "",
    id: BigInt(m.ID).toString(16),
    isLearner: m.isLearner === true,
    peerURLs: m.peerURLs ?? [],
    clientURLs: m.clientURLs ?? [],
  }));
}
