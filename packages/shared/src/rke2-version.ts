import { z } from "zod";

// RKE2 release versions (`v1.33.5+rke2r1`) and the rolling-upgrade rules
// (docs/reference.md#upgrades): no downgrade, and at most one Kubernetes minor version per upgrade
// (kubelet/apiserver version skew allows one minor at a time; RKE2 itself checks neither).

export const RKE2_VERSION_RE = /^v(\d+)\.(\d+)\.(\d+)\+rke2r(\d+)$/;
export const Rke2VersionSchema = z.string().regex(RKE2_VERSION_RE, "must look like v1.33.5+rke2r1");

export interface Rke2Version {
  major: number;
  minor: number;
  patch: number;
  /** The RKE2 release of that Kubernetes version (the N of +rke2rN). */
  release: number;
}

export function parseRke2Version(v: string): Rke2Version | null {
  const m = RKE2_VERSION_RE.exec(v);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), release: Number(m[4]) };
}

/** Negative when a is older than b, 0 when equal, positive when newer. Throws on a non-version. */
export function compareRke2Versions(a: string, b: string): number {
  const x = parseRke2Version(a);
  const y = parseRke2Version(b);
  if (!x || !y) throw new Error(`not an RKE2 version: ${!x ? a : b}`);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch || x.release - y.release;
}

/**
 * Why an upgrade from `from` to `to` is refused, naming both versions, or null when it is allowed:
 * a downgrade, the same version, another major, or a skip of more than one minor version.
 */
export function upgradeRefusal(from: string, to: string): string | null {
  const x = parseRke2Version(from);
  const y = parseRke2Version(to);
  if (!x) return `the cluster's version ${from} is not an RKE2 version`;
  if (!y) return `${to} is not an RKE2 version (like v1.33.5+rke2r1)`;
  const c = compareRke2Versions(to, from);
  if (c < 0) return `${to} is older than the cluster's ${from}: a downgrade is not supported`;
  if (c === 0) return `the cluster already runs ${from}`;
  if (y.major !== x.major) return `${from} -> ${to} changes the major version: not supported`;
  if (y.minor - x.minor > 1)
    return `${from} -> ${to} skips ${y.minor - x.minor - 1} minor version(s): upgrade one minor at a time (to v${x.major}.${x.minor + 1}.x first)`;
  return null;
}

/** POST /v1/upgrades: the RKE2 version to roll the cluster to, and whether to drain each node first. */
export const CreateUpgradeBodySchema = z.strictObject({
  version: Rke2VersionSchema,
  drain: z.boolean().default(false),
});
export type CreateUpgradeBody = z.output<typeof CreateUpgradeBodySchema>;
