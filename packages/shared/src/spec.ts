import * as z from "zod";
import { CHECK_NAMES, isCheckName } from "./checks.ts";
import { isHostOrIp, isIPv4, isRfc1123Hostname } from "./net.ts";
import { isValidRke2Token } from "./rke2-token.ts";

// The cluster spec: one source of truth for its type, its defaults and its validation.

const name = z
  .string()
  .min(1)
  .max(63)
  .refine(isRfc1123Hostname, "must be a lowercase RFC 1123 name (a-z, 0-9, '-')");
const ipv4 = z.string().refine(isIPv4, "must be an IPv4 address");
const hostOrIp = z.string().refine(isHostOrIp, "must be an IPv4 address or a DNS name");
const interfaceName = z
  .string()
  .regex(/^[A-Za-z0-9_.:@-]{1,15}$/, "must be a network interface name (1-15 characters)");

/** Extra RKE2 config.yaml keys. Keys muster owns are refused so the spec cannot silently fight it. */
const OWNED_KEYS = new Set([
  "server",
  "token",
  "node-name",
  "node-ip",
  "agent-token",
  // A secret: it may come only through backup.s3.secretKey, which the vault keeps (never the stored spec).
  "etcd-s3-secret-key",
]);
const extraConfig = z
  .record(z.string().regex(/^[a-z0-9-]+\+?$/, "must be an RKE2 config key"), z.unknown())
  .superRefine((rec, ctx) => {
    for (const key of Object.keys(rec)) {
      if (OWNED_KEYS.has(key.replace(/\+$/, "")))
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `"${key}" is set by muster and cannot be overridden`,
        });
    }
  });

const minimums = z.strictObject({
  cpus: z.number().int().min(1).max(4096),
  memoryGiB: z.number().min(0.5).max(65536),
  diskGiB: z.number().min(1).max(1048576),
});

const seconds = z.number().int().min(1).max(86400);

/** A name from the one list of checks (checks.ts): a typo would otherwise ignore nothing, silently. */
const checkName = z.string().refine(isCheckName, {
  error: (issue) => `unknown check ${JSON.stringify(issue.input)}; valid names: ${CHECK_NAMES.join(", ")}`,
});

/**
 * Written in `rke2.artifactUrl` or `artifactPath`, it stands for the release a node installs, so one
 * mirror layout serves formation and every later upgrade (`https://mirror/rke2/{version}`).
 */
export const VERSION_PLACEHOLDER = "{version}";

/** The air-gap source as written in the spec (URL or directory), if any. */
export function artifactSourceOf(r: { artifactUrl?: string; artifactPath?: string }): string | undefined {
  return r.artifactUrl ?? r.artifactPath;
}

export const Rke2SettingsSchema = z
  .strictObject({
    version: z
      .string()
      .regex(/^v\d+\.\d+\.\d+\+rke2r\d+$/, "must look like v1.33.5+rke2r1")
      .optional(),
    channel: z
      .string()
      .regex(/^[a-z0-9.-]{1,32}$/, "must be a channel name such as stable or latest")
      .default("stable"),
    installerUrl: z.url({ protocol: /^https?$/ }).default("https://get.rke2.io"),
    /** Air-gap artifact source: a URL (the agent downloads the artifacts) or a directory on each node. */
    artifactUrl: z.url({ protocol: /^https?$/ }).optional(),
    artifactPath: z.string().startsWith("/", "must be an absolute path").optional(),
    token: z
      .string()
      .refine(isValidRke2Token, "must be K10<hash>::server:<password> or a bare password")
      .optional(),
  })
  .refine((r) => !(r.artifactUrl && r.artifactPath), {
    message: "set artifactUrl or artifactPath, not both",
    path: ["artifactPath"],
  })
  .refine((r) => r.version !== undefined || !artifactSourceOf(r)?.includes(VERSION_PLACEHOLDER), {
    message: `${VERSION_PLACEHOLDER} in the air-gap source needs rke2.version (the release it stands for)`,
    path: ["version"],
  });

/**
 * kube-vip as muster deploys it (docs/architecture.md#the-registration-address-kube-vip): a pinned
 * version, the image it comes as, and the leader-election timings (client-go's rule: duration >
 * renew deadline > retry period). 5/3/1 s is kube-vip's own default.
 */
export const DEFAULT_KUBE_VIP_VERSION = "v0.9.2";
export const DEFAULT_KUBE_VIP_IMAGE = "ghcr.io/kube-vip/kube-vip";
const kubeVipDefaults = {
  version: DEFAULT_KUBE_VIP_VERSION,
  image: DEFAULT_KUBE_VIP_IMAGE,
  leaseDurationSeconds: 5,
  renewDeadlineSeconds: 3,
  retryPeriodSeconds: 1,
};
export const KubeVipSettingsSchema = z
  .strictObject({
    version: z
      .string()
      .regex(/^v\d+\.\d+\.\d+$/, "must look like v0.9.2")
      .default(kubeVipDefaults.version),
    /** Image name without the tag (a private registry's copy, for example). */
    image: z
      .string()
      .max(255)
      .regex(
        /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/,
        "must be an image name such as ghcr.io/kube-vip/kube-vip, without a tag",
      )
      .default(kubeVipDefaults.image),
    leaseDurationSeconds: z.number().int().min(2).max(600).default(kubeVipDefaults.leaseDurationSeconds),
    renewDeadlineSeconds: z.number().int().min(1).max(600).default(kubeVipDefaults.renewDeadlineSeconds),
    retryPeriodSeconds: z.number().int().min(1).max(600).default(kubeVipDefaults.retryPeriodSeconds),
  })
  .refine((k) => k.leaseDurationSeconds > k.renewDeadlineSeconds, {
    message: "must be longer than renewDeadlineSeconds",
    path: ["leaseDurationSeconds"],
  })
  .refine((k) => k.renewDeadlineSeconds > k.retryPeriodSeconds * 1.2, {
    message: "must be longer than 1.2 x retryPeriodSeconds (client-go's leader election)",
    path: ["renewDeadlineSeconds"],
  });

export const VipSchema = z.strictObject({
  address: ipv4,
  /** The same interface name on every server (kube-vip ARP mode). */
  interface: interfaceName,
  kubeVip: KubeVipSettingsSchema.default(kubeVipDefaults),
});

/** Five cron fields, as RKE2's etcd-snapshot-schedule-cron takes them (robfig/cron standard parser). */
const cron = z
  .string()
  .regex(
    /^[0-9*/,\-A-Za-z?]+( [0-9*/,\-A-Za-z?]+){4}$/,
    "must be a 5-field cron expression, e.g. 0 */12 * * *",
  );

/** S3 target of RKE2's scheduled and on-demand snapshots (docs/rke2-behaviour.md#snapshots-and-restore). */
export const BackupS3Schema = z.strictObject({
  /** host[:port], no scheme (RKE2's etcd-s3-endpoint). */
  endpoint: z
    .string()
    .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, "must be host[:port] without a scheme, e.g. s3.example.com"),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be an S3 bucket name (3-63 a-z, 0-9, . -)"),
  folder: z
    .string()
    .regex(/^[A-Za-z0-9._\-/]{0,200}$/, "must be a folder path (letters, digits, . _ - /)")
    .default(""),
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, "must be a region such as us-east-1")
    .default("us-east-1"),
  accessKey: z.string().min(1).max(256),
  /** A secret like the RKE2 token: the vault keeps it; the stored and shown spec never hold it. */
  secretKey: z.string().min(1).max(256).optional(),
  /** CA file (absolute path on each server) for an endpoint with a private certificate. */
  endpointCA: z.string().startsWith("/", "must be an absolute path").optional(),
  /** Plain HTTP to the endpoint (RKE2's etcd-s3-insecure); for test labs only. */
  insecure: z.boolean().default(false),
});

export const BackupSettingsSchema = z.strictObject({
  schedule: cron.default("0 */12 * * *"),
  retention: z.number().int().min(1).max(1000).default(5),
  s3: BackupS3Schema.optional(),
});

export const ClusterSpecSchema = z.strictObject({
  name: name.default("default"),
  /** Fixed registration address (LB, DNS or VIP). Unset: the VIP when there is one, else the init server's IP. */
  registrationAddress: hostOrIp.optional(),
  /** A VIP muster runs with kube-vip on the servers. */
  vip: VipSchema.optional(),
  tlsSan: z.array(hostOrIp).max(64).default([]),
  rke2: Rke2SettingsSchema.default({ channel: "stable", installerUrl: "https://get.rke2.io" }),
  servers: z
    .strictObject({ dedicated: z.boolean().default(false), config: extraConfig.default({}) })
    .default({ dedicated: false, config: {} }),
  agents: z
    .strictObject({
      concurrency: z.number().int().min(1).max(100000).default(10),
      config: extraConfig.default({}),
    })
    .default({ concurrency: 10, config: {} }),
  checks: z
    .strictObject({
      server: minimums.default({ cpus: 2, memoryGiB: 4, diskGiB: 50 }),
      agent: minimums.default({ cpus: 2, memoryGiB: 4, diskGiB: 250 }),
      ignore: z.array(checkName).default([]),
      // The reachability matrix (peers-ports), on by default; false turns it off (a network where
      // probing peers is not wanted). A joined server whose RKE2 is stopped answers with a reset,
      // which warns rather than fails, and the registration address is probed only once the
      // coordinator's own probe found it answering (docs/reference.md#reachability-matrix).
      reachability: z.boolean().default(true),
    })
    .default({
      server: { cpus: 2, memoryGiB: 4, diskGiB: 50 },
      agent: { cpus: 2, memoryGiB: 4, diskGiB: 250 },
      ignore: [],
      reachability: true,
    }),
  /** etcd snapshots RKE2 takes on every server; unset: RKE2's defaults, local only. */
  backup: BackupSettingsSchema.optional(),
  timeouts: z
    .strictObject({
      serverJoin: seconds.default(900),
      agentJoin: seconds.default(600),
      /** An agent link with no frame for this long is dead (agents send a heartbeat every third of it). */
      heartbeat: z.number().int().min(4).max(3600).default(10),
      /** A joined node whose agent is gone and whose Node is not Ready this long becomes `lost`. */
      nodeLost: seconds.default(60),
    })
    .default({ serverJoin: 900, agentJoin: 600, heartbeat: 10, nodeLost: 60 }),
});

export type ClusterSpec = z.output<typeof ClusterSpecSchema>;
export type VipSettings = z.output<typeof VipSchema>;
export type KubeVipSettings = z.output<typeof KubeVipSettingsSchema>;
export type ClusterSpecInput = z.input<typeof ClusterSpecSchema>;
export type Role = "server" | "agent";
export const RoleSchema = z.enum(["server", "agent"]);

export function defaultSpec(): ClusterSpec {
  return ClusterSpecSchema.parse({});
}

type Backup = NonNullable<ClusterSpec["backup"]>;
type PublicBackup = Omit<Backup, "s3"> & {
  s3?: Omit<NonNullable<Backup["s3"]>, "secretKey"> & { secretKeySet: boolean };
};

/** The spec as shown through the API: each secret is replaced by whether one is set. */
export function publicSpec(spec: ClusterSpec): Omit<ClusterSpec, "rke2" | "backup"> & {
  rke2: Omit<ClusterSpec["rke2"], "token"> & { tokenSet: boolean };
  backup?: PublicBackup;
} {
  const { token, ...rke2 } = spec.rke2;
  const { backup, ...rest } = spec;
  const shown = { ...rest, rke2: { ...rke2, tokenSet: token !== undefined } };
  if (!backup) return shown;
  const { s3, ...schedule } = backup;
  if (!s3) return { ...shown, backup: schedule };
  const { secretKey, ...s3Shown } = s3;
  return { ...shown, backup: { ...schedule, s3: { ...s3Shown, secretKeySet: secretKey !== undefined } } };
}
