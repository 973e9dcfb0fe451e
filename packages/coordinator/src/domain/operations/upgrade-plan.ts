import {
  artifactSourceOf,
  type ClusterSpec,
  ClusterVersionUnknown,
  type NodeFacts,
  type NodeView,
  VERSION_PLACEHOLDER,
} from "@muster/shared";

/**
 * The version the cluster runs: the spec's `rke2.version` (frozen at formation), else the one every
 * joined server's facts report. Throws when neither says (or the servers disagree).
 */
export function clusterVersion(
  spec: Pick<ClusterSpec, "rke2">,
  nodes: { role: string; state: string; facts: NodeFacts }[],
): string {
  if (spec.rke2.version) return spec.rke2.version;
  const seen = new Set(
    nodes
      .filter((n) => n.role === "server" && n.state === "joined")
      .map((n) => n.facts.rke2.version ?? "unknown"),
  );
  const [only] = seen;
  if (seen.size === 1 && only !== undefined && only !== "unknown") return only;
  throw new ClusterVersionUnknown(
    seen.size === 0 ? "no joined server" : `servers report ${[...seen].join(", ")}`,
  );
}

/**
 * Why the spec's air-gap source cannot serve `to`, or null: a source without `{version}` holds one
 * release's files, and every node would fetch the old release again (then the agent refuses what
 * the installer left). Checked before anything is touched.
 */
export function artifactRefusal(spec: Pick<ClusterSpec, "rke2">, to: string): string | null {
  const source = artifactSourceOf(spec.rke2);
  if (source === undefined || source.includes(VERSION_PLACEHOLDER)) return null;
  const key = spec.rke2.artifactUrl ? "rke2.artifactUrl" : "rke2.artifactPath";
  return `${key} ${source} holds one release's files, so it cannot serve ${to}: write ${VERSION_PLACEHOLDER} in it where the release goes (e.g. .../rke2/${VERSION_PLACEHOLDER}), put ${to}'s files there, and run the upgrade again`;
}

// The step list of a rolling RKE2 upgrade (docs/reference.md#upgrades), planned when the request
// comes in: a snapshot first; then the servers ONE AT A TIME (init server last, so the server the
// others name in `server:` is replaced after they are back), each cordoned, optionally drained,
// upgraded by the installer with INSTALL_RKE2_VERSION, restarted, held at the readiness gate (etcd
// voter health, the VIP check) and uncordoned; then the new release recorded in the spec; then the
// agents in batches of at most `agents.concurrency`. A server already at the version is skipped at run time, not here.

export interface UpgradeStepArgs {
  /** The step's first node (the operation kit's key for task ids and helpers). */
  node: string;
  /** The nodes this step is about: one server, or a batch of agents. */
  nodes: string[];
  version: string;
  drain: boolean;
}

export interface PlannedStep {
  name: string;
  kind: "pre-snapshot" | "server" | "record-release" | "agents";
  args: UpgradeStepArgs;
}

export function upgradeSteps(
  version: string,
  nodes: NodeView[],
  opts: { concurrency: number; drain: boolean },
): PlannedStep[] {
  const joined = nodes.filter((n) => n.state === "joined");
  const servers = joined.filter((n) => n.role === "server");
  servers.sort((a, b) => Number(a.init) - Number(b.init));
  const agents = joined.filter((n) => n.role === "agent").map((n) => n.name);
  const size = Math.max(1, opts.concurrency);
  const args = (names: string[]) => ({ node: names[0] ?? "", nodes: names, version, drain: opts.drain });
  const steps: PlannedStep[] = [
    {
      name: `snapshot etcd before the upgrade to ${version}`,
      kind: "pre-snapshot",
      args: args(servers.filter((s) => s.init).map((s) => s.name)),
    },
  ];
  for (const s of servers)
    steps.push({
      name: `upgrade server ${s.name} to ${version} (cordon, ${opts.drain ? "drain, " : ""}install, restart, readiness gate, uncordon)`,
      kind: "server",
      args: args([s.name]),
    });
  // Every server runs it now: nodes added from here on (agents after the upgrade, a replacement
  // server) install it, not the release the cluster had before.
  steps.push({
    name: `record ${version} as the cluster's release (nodes added later install it)`,
    kind: "record-release",
    args: args([]),
  });
  for (let i = 0; i < agents.length; i += size) {
    const batch = agents.slice(i, i + size);
    steps.push({
      name: `upgrade agents ${batch.join(", ")} to ${version}`,
      kind: "agents",
      args: args(batch),
    });
  }
  return steps;
}
