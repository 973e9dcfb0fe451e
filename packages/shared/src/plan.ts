import { createHash } from "node:crypto";
import * as z from "zod";
import { canonicalJson } from "./canonical-json.ts";

// The declarative node plan (after rancher/system-agent): what a node must converge to. The
// checksum makes re-applying the same plan a no-op on the agent.
export const ManifestSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.yaml$/, "must be an RFC 1123 name ending in .yaml"),
  content: z.string().max(1_000_000),
});

/**
 * An image tarball the agent places in RKE2's agent images dir (imported by containerd at start), so
 * a node needs no registry for it (air-gap). Downloaded from the coordinator's
 * /v1/artifacts/images/<file>; its integrity comes from the sha256 in this (authenticated) plan.
 */
export const PlanImageSchema = z.strictObject({
  file: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/, "must be a plain file name"),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export const InstallSpecSchema = z.strictObject({
  installerUrl: z.string().max(2048),
  type: z.enum(["server", "agent"]),
  version: z.string().max(64).optional(),
  channel: z.string().max(32).optional(),
  artifactUrl: z.string().max(2048).optional(),
  artifactPath: z.string().max(4096).optional(),
});

export const PlanBodySchema = z.strictObject({
  node: z.string().min(1).max(253),
  role: z.enum(["server", "agent"]),
  init: z.boolean(),
  install: InstallSpecSchema,
  /** The contents of /etc/rancher/rke2/config.yaml. Holds the token: never log it. */
  config: z.record(z.string(), z.unknown()),
  manifests: z.array(ManifestSchema).max(64).default([]),
  /** Absent when there is none (plans stored before images existed keep their checksum). */
  images: z.array(PlanImageSchema).max(16).optional(),
  service: z.enum(["rke2-server", "rke2-agent"]),
  readiness: z.strictObject({
    /** host:port-less address whose 9345 and 6443 must answer (joiners); null for the init server. */
    registrationAddress: z.string().max(253).nullable(),
    timeoutSeconds: z.number().int().min(1).max(86400),
  }),
  captureToken: z.boolean(),
  /**
   * HMAC-SHA256 of the plan's secrets (config token and agent-token) under a key only the
   * coordinator holds: the checksum covers it instead of the secrets themselves.
   */
  secretsDigest: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export const NodePlanSchema = PlanBodySchema.extend({ checksum: z.string().regex(/^[0-9a-f]{64}$/) });

export type PlanBody = z.output<typeof PlanBodySchema>;
export type NodePlan = z.output<typeof NodePlanSchema>;
export type InstallSpec = z.output<typeof InstallSpecSchema>;
export type Manifest = z.output<typeof ManifestSchema>;
export type PlanImage = z.output<typeof PlanImageSchema>;

/** The config keys that hold secrets: never hashed in clear (docs/architecture.md#invariant-5). */
export const SECRET_CONFIG_KEYS = ["token", "agent-token", "etcd-s3-secret-key"] as const;

/** The secret values of a plan's config, by key (only those present). */
export function planSecrets(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of SECRET_CONFIG_KEYS) {
    const value = config[key];
    if (typeof value === "string") out[key] = value;
  }
  return out;
}

/**
 * The plan's checksum: SHA-256 over its canonical JSON with the secret config values left out. A
 * checksum over the token itself would let anyone with a copy of the database test guesses of a
 * weak token offline; the keyed `secretsDigest` is covered instead, so a changed secret still
 * changes the checksum. The agent can verify it without the key.
 */
export function planChecksum(body: PlanBody): string {
  const { checksum: _ignored, ...rest } = body as PlanBody & { checksum?: string };
  const config = { ...rest.config };
  for (const key of SECRET_CONFIG_KEYS) delete config[key];
  return createHash("sha256")
    .update(canonicalJson({ ...rest, config }))
    .digest("hex");
}

export function sealPlan(body: PlanBody): NodePlan {
  return { ...body, checksum: planChecksum(body) };
}

/** The phases an agent runs to converge to a plan, in order. */
export const PHASES = ["checks", "install", "configure", "start", "wait-ready", "capture-token"] as const;
export type PhaseName = (typeof PHASES)[number];
export const PhaseNameSchema = z.enum(PHASES);
