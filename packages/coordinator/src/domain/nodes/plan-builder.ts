import {
  type ClusterSpec,
  type InstallSpec,
  type NodePlan,
  NodePlanSchema,
  type PlanBody,
  planChecksum,
  type Role,
  renderRke2Config,
  S3_SECRET_KEY,
  sealPlan,
} from "@muster/shared";

// Builds a node's plan at release time, and stores it without the token so the database never holds
// the token in clear (docs/architecture.md, invariant 5). The stored plan is what a reconnecting agent gets again, so its
// checksum stays the same across coordinator restarts and later spec edits.

export interface PlanTarget {
  name: string;
  role: Role;
  address: string;
}

export interface BuildPlanInput {
  spec: ClusterSpec;
  node: PlanTarget;
  init: boolean;
  /** The cluster token; null only for an init server that will generate it. */
  token: string | null;
  /** Null for the init server, which registers with nobody. */
  registrationAddress: string | null;
  /** The S3 secret key from the vault, for servers when spec.backup.s3 is set. */
  s3SecretKey?: string | null;
}

/** How a node of this role installs RKE2 (also sent ahead of its turn: install.prepare). */
export function installSpecFor(spec: ClusterSpec, role: Role): InstallSpec {
  const r = spec.rke2;
  return {
    installerUrl: r.installerUrl,
    type: role,
    channel: r.channel,
    ...(r.version ? { version: r.version } : {}),
    ...(r.artifactUrl ? { artifactUrl: r.artifactUrl } : {}),
    ...(r.artifactPath ? { artifactPath: r.artifactPath } : {}),
  };
}

export const serviceFor = (role: Role) => (role === "server" ? "rke2-server" : "rke2-agent");

export function buildPlan(input: BuildPlanInput): NodePlan {
  const { spec, node, init, token, registrationAddress, s3SecretKey = null } = input;
  const install = installSpecFor(spec, node.role);
  const body: PlanBody = {
    node: node.name,
    role: node.role,
    init,
    install,
    config: renderRke2Config({
      spec,
      node,
      init,
      token,
      registrationAddress: init ? null : registrationAddress,
      s3SecretKey,
    }),
    manifests: [],
    service: serviceFor(node.role),
    readiness: {
      registrationAddress: init ? null : registrationAddress,
      timeoutSeconds: node.role === "server" ? spec.timeouts.serverJoin : spec.timeouts.agentJoin,
    },
    // The init server captures the token RKE2 generates, unless the spec supplied one.
    captureToken: init && token === null,
  };
  return sealPlan(body);
}

/** The plan as stored: config.token and the S3 secret removed. Its checksum still covers them. */
export function planForStorage(plan: NodePlan): string {
  const { token: _token, [S3_SECRET_KEY]: _s3, ...config } = plan.config;
  return JSON.stringify({ ...plan, config });
}

/**
 * The stored plan with the token put back. Every plan carries the token except one whose init server
 * captures it. Throws if the result does not match the stored checksum (a different token, or a
 * corrupted row): sending it would make the agent re-run a plan it may already have applied.
 */
export function planFromStorage(
  stored: string,
  token: string | null,
  s3SecretKey: string | null = null,
): NodePlan {
  const plan = NodePlanSchema.parse(JSON.parse(stored));
  if (!plan.captureToken) {
    if (token === null) throw new Error(`plan for ${plan.node} needs the cluster token, but none is known`);
    plan.config = { ...plan.config, token };
  }
  // A server plan that uploads snapshots to S3 carried the secret key; the vault has it.
  if (plan.config["etcd-s3"] === true) {
    if (s3SecretKey === null)
      throw new Error(`plan for ${plan.node} needs the S3 secret key, but none is known`);
    plan.config = { ...plan.config, [S3_SECRET_KEY]: s3SecretKey };
  }
  if (planChecksum(plan) !== plan.checksum)
    throw new Error(`stored plan for ${plan.node} does not match its checksum`);
  return plan;
}
