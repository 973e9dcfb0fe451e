// Pieces every muster cluster in a world needs, shared by the lab, the demo and the end-to-end tests
// (one world, not three): the local mirror's content (the simulated RKE2 installer and air-gap
// artifacts), the simulator's durations per node, and the cluster spec's lab defaults.
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { buildArtifacts, installScriptPath } from "@muster/rke2-sim";
import { VERSION_PLACEHOLDER } from "@muster/shared";
import type { WorldNode } from "../world/node.ts";

export const RKE2_VERSION = "v1.33.5+rke2r1";
/** The next minor release: the mirror carries it too, so a world can rehearse an upgrade. */
export const NEXT_RKE2_VERSION = "v1.34.1+rke2r1";
/** Every release the mirror serves, each under rke2/<version>/ (the spec's `{version}`). */
export const MIRROR_RELEASES = [RKE2_VERSION, NEXT_RKE2_VERSION] as const;
/** Port of the mirror (install.sh + air-gap artifacts) in the coordinator machine. */
export const MIRROR_PORT = 8080;
/** In-machine directory the mirror serves. */
export const MIRROR_DIR = "/tmp/mirror";

export interface SimDurations {
  initSeconds: number;
  joinSeconds: number;
  agentSeconds: number;
  promoteIntervalSeconds: number;
}

export const FAST: SimDurations = {
  initSeconds: 0,
  joinSeconds: 0,
  agentSeconds: 0,
  promoteIntervalSeconds: 1,
};

/**
 * Fills the machine's MIRROR_DIR with install.sh and, under rke2/<version>/, the simulator's
 * artifacts of every release in MIRROR_RELEASES (an operator's mirror laid out the same way).
 */
export async function prepareMirror(machine: WorldNode): Promise<void> {
  const dir = machine.path(MIRROR_DIR);
  await mkdir(path.join(dir, "rke2"), { recursive: true });
  await copyFile(installScriptPath, path.join(dir, "install.sh"));
  for (const version of MIRROR_RELEASES) await buildArtifacts(path.join(dir, "rke2", version), { version });
}

/** The simulator's durations go where real RKE2 reads its environment: /etc/default/<unit>. */
export async function writeSimDefaults(n: WorldNode, d: SimDurations): Promise<void> {
  const env = [
    `RKE2_SIM_INIT_SECONDS=${d.initSeconds}`,
    `RKE2_SIM_JOIN_SECONDS=${d.joinSeconds}`,
    `RKE2_SIM_AGENT_SECONDS=${d.agentSeconds}`,
    `RKE2_SIM_PROMOTE_INTERVAL=${d.promoteIntervalSeconds}`,
    "",
  ].join("\n");
  await mkdir(n.path("/etc/default"), { recursive: true });
  for (const unit of ["rke2-server", "rke2-agent"]) await writeFile(n.path(`/etc/default/${unit}`), env);
}

/** The cluster spec of a world: RKE2 from the mirror, checks sized for nodes sharing one host. */
export function worldSpec(name: string, mirrorUrl: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    rke2: {
      version: RKE2_VERSION,
      installerUrl: `${mirrorUrl}/install.sh`,
      artifactUrl: `${mirrorUrl}/rke2/${VERSION_PLACEHOLDER}`,
    },
    // The world's nodes share this machine's disk and CPUs; the checks still run for real.
    checks: {
      server: { cpus: 1, memoryGiB: 1, diskGiB: 1 },
      agent: { cpus: 1, memoryGiB: 1, diskGiB: 1 },
    },
    timeouts: { serverJoin: 300, agentJoin: 300 },
    ...extra,
  };
}
