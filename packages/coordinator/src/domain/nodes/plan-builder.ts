import {
  agentCredential,
  type ClusterSpec,
  type InstallSpec,
  KUBE_VIP_MANIFEST,
  kubeVipImageFile,
  type Manifest,
  type NodePlan,
  NodePlanSchema,
  type PlanBody,
  type PlanImage,
  planChecksum,
  planSecrets,
  type Role,
  renderKubeVipManifest,
  renderRke2Config,
  S3_SECRET_KEY,
  sealPlan,
  VERSION_PLACEHOLDER,
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
  /** The agent-token password; null in a legacy cluster (domain/secrets/agent-token.ts). */
  agentToken?: string | null;
  /** sha256 of an image tarball the coordinator serves under /v1/artifacts/images/, or null. */
  imageSha256?: (file: string) => string | null;
  /** The S3 secret key from the vault, for servers when spec.backup.s3 is set. */
  s3SecretKey?: string | null;
  /** Keyed digest of the plan's secrets (Vault.digestSecrets): the checksum covers it, not them. */
  digest: SecretsDigest;
}

export type SecretsDigest = (secrets: Record<string, string>) => string;

/** Seals a plan: its secrets digest (when it has secrets), then its checksum over the rest. */
export function sealWithDigest(body: PlanBody, digest: SecretsDigest): NodePlan {
  const { secretsDigest: _old, ...rest } = body;
  const secrets = planSecrets(rest.config);
  return sealPlan(Object.keys(secrets).length > 0 ? { ...rest, secretsDigest: digest(secrets) } : rest);
}

/**
 * What a server needs to run kube-vip: its manifest (every server gets the same file, so the VIP can
 * move to any of them and any server's deploy controller keeps the DaemonSet) and, when the
 * coordinator has it, the image tarball (air-gap). Without the tarball the image comes from the
 * node's registry configuration (registries.yaml).
 */
export function kubeVipParts(
  spec: ClusterSpec,
  role: Role,
  imageSha256: (file: string) => string | null = () => null,
): { manifests: Manifest[]; images: PlanImage[] } {
  if (!spec.vip || role !== "server") return { manifests: [], images: [] };
  const file = kubeVipImageFile(spec.vip);
  const sha256 = imageSha256(file);
  return {
    manifests: [{ name: KUBE_VIP_MANIFEST, content: renderKubeVipManifest(spec.vip) }],
    images: sha256 ? [{ file, sha256 }] : [],
  };
}

/** How a node of this role installs RKE2 (also sent ahead of its turn: install.prepare). */
/**
 * What a node's installer runs with: the spec's release, or `version` (an upgrade's target), with
 * `{version}` in the air-gap source standing for that release.
 */
export function installSpecFor(spec: ClusterSpec, role: Role, version = spec.rke2.version): InstallSpec {
  const r = spec.rke2;
  const at = (source: string) => (version ? source.replaceAll(VERSION_PLACEHOLDER, version) : source);
  return {
    installerUrl: r.installerUrl,
    type: role,
    channel: r.channel,
    ...(version ? { version } : {}),
    ...(r.artifactUrl ? { artifactUrl: at(r.artifactUrl) } : {}),
    ...(r.artifactPath ? { artifactPath: at(r.artifactPath) } : {}),
  };
}

export const serviceFor = (role: Role) => (role === "server" ? "rke2-server" : "rke2-agent");

export function buildPlan(input: BuildPlanInput): NodePlan {
  const { spec, node, init, token, registrationAddress } = input;
  const agentToken = input.agentToken ?? null;
  const s3SecretKey = input.s3SecretKey ?? null;
  const install = installSpecFor(spec, node.role);
  const vip = kubeVipParts(spec, node.role, input.imageSha256);
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
      agentToken,
      s3SecretKey,
    }),
    manifests: vip.manifests,
    ...(vip.images.length > 0 ? { images: vip.images } : {}),
    service: serviceFor(node.role),
    readiness: {
      registrationAddress: init ? null : registrationAddress,
      timeoutSeconds: node.role === "server" ? spec.timeouts.serverJoin : spec.timeouts.agentJoin,
    },
    // The init server captures the token RKE2 generates, unless the spec supplied one.
    captureToken: init && token === null,
  };
  return sealWithDigest(body, input.digest);
}

/**
 * Which secrets a stored plan had, so they go back in as they were: `token` is the cluster token or
 * the agent credential made from the agent token; `agentToken`: a server's `agent-token`. A row
 * stored before the agent token existed has no marker and held the cluster token.
 */
interface StoredSecrets {
  token: "cluster" | "agent" | null;
  agentToken: boolean;
  /** A server plan that uploads snapshots carried the S3 secret key (spec.backup.s3). */
  s3SecretKey?: boolean;
}
const SECRETS_FIELD = "$secrets";

/** The plan as stored: config.token, config["agent-token"] and the S3 secret key removed. Its checksum still covers them. */
export function planForStorage(plan: NodePlan, agentToken: string | null = null): string {
  const { token, "agent-token": agent, [S3_SECRET_KEY]: s3, ...config } = plan.config;
  const isAgentCredential =
    plan.role === "agent" && agentToken !== null && typeof token === "string" && token.endsWith(agentToken);
  const secrets: StoredSecrets = {
    token: token === undefined ? null : isAgentCredential ? "agent" : "cluster",
    agentToken: agent !== undefined,
    s3SecretKey: s3 !== undefined,
  };
  return JSON.stringify({ ...plan, config, [SECRETS_FIELD]: secrets });
}

/**
 * The stored plan with its secrets put back. Throws if the result does not match the stored checksum
 * or secrets digest (a different token, or a corrupted row): sending it would make the agent re-run a
 * plan it may already have applied.
 */
export function planFromStorage(
  stored: string,
  token: string | null,
  agentToken: string | null,
  digest: SecretsDigest,
  s3SecretKey: string | null = null,
): NodePlan {
  const plan = withSecrets(stored, token, agentToken, s3SecretKey);
  const secrets = planSecrets(plan.config);
  const expected = Object.keys(secrets).length > 0 ? digest(secrets) : undefined;
  if (expected !== plan.secretsDigest || planChecksum(plan) !== plan.checksum)
    throw new Error(`stored plan for ${plan.node} does not match its checksum`);
  return plan;
}

/** The stored plan with its secrets put back, not verified (the checksum migration reads old rows). */
export function withSecrets(
  stored: string,
  token: string | null,
  agentToken: string | null,
  s3SecretKey: string | null = null,
): NodePlan {
  const { [SECRETS_FIELD]: marker, ...raw } = JSON.parse(stored) as Record<string, unknown>;
  const plan = NodePlanSchema.parse(raw);
  const secrets: StoredSecrets = (marker as StoredSecrets | undefined) ?? {
    token: plan.captureToken ? null : "cluster",
    agentToken: false,
  };
  const config = { ...plan.config };
  if (secrets.token !== null) {
    if (token === null) throw new Error(`plan for ${plan.node} needs the cluster token, but none is known`);
    if (secrets.token === "agent") {
      if (agentToken === null)
        throw new Error(`plan for ${plan.node} needs the agent token, but none is known`);
      config["token"] = agentCredential(token, agentToken);
    } else config["token"] = token;
  }
  if (secrets.agentToken) {
    if (agentToken === null)
      throw new Error(`plan for ${plan.node} needs the agent token, but none is known`);
    config["agent-token"] = agentToken;
  }
  if (secrets.s3SecretKey) {
    if (s3SecretKey === null)
      throw new Error(`plan for ${plan.node} needs the S3 secret key, but none is known`);
    config[S3_SECRET_KEY] = s3SecretKey;
  }
  plan.config = config;
  return plan;
}
