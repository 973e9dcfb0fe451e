import {
  type ClusterSpec,
  type ClusterSpecInput,
  ClusterSpecSchema,
  ConfigConflictsWithState,
  canonicalJson,
  defaultSpec,
  InvalidField,
  parseOrThrow,
  SpecConflict,
} from "@muster/shared";
import type { Store } from "../../store/store.ts";
import type { Vault } from "../secrets/vault.ts";

/** What the spec rules read and write: the init node, the stored spec and its event, the token. */
export interface SpecStore extends Pick<Store, "tx"> {
  nodes: Pick<Store["nodes"], "initNode">;
  meta: Pick<Store["meta"], "get" | "set">;
  events: Pick<Store["events"], "append">;
}

// The cluster spec over time. The stored spec never holds the RKE2 token: a token from the spec goes
// to the vault like a captured one. Some fields are frozen once they are baked into nodes:
// - rke2.token, once a token is known (RKE2 never rotates it by a config edit; nodes would split);
// - registrationAddress and vip, once the init server was released (they are in its certificates
//   and in every joiner's config), and the server config keys RKE2 requires to match on all servers.
// A spec from --config at startup follows the same rules: it replaces the stored spec when valid and
// allowed, and otherwise startup fails with the reason, rather than silently using either.

/** docs/rke2-behaviour.md: these must be identical on every server, or a join fails. */
const CRITICAL_SERVER_KEYS = [
  "cluster-cidr",
  "service-cidr",
  "cluster-dns",
  "cluster-domain",
  "disable-cloud-controller",
  "disable-kube-proxy",
  "egress-selector-mode",
];

/** The spec as stored and held: no RKE2 token, no S3 secret key (the vault has them). */
export function withoutToken(spec: ClusterSpec): ClusterSpec {
  const { token: _token, ...rke2 } = spec.rke2;
  const out: ClusterSpec = { ...spec, rke2 };
  if (spec.backup?.s3) {
    const { secretKey: _secret, ...s3 } = spec.backup.s3;
    out.backup = { ...spec.backup, s3 };
  }
  return out;
}

/** The S3 secret key `next` brings that the vault does not hold yet (a new or a changed one). */
function newS3Secret(vault: Pick<Vault, "s3SecretKey">, next: ClusterSpec): string | null {
  const wanted = next.backup?.s3?.secretKey;
  return wanted !== undefined && wanted !== vault.s3SecretKey() ? wanted : null;
}

/** Throws CONFLICT if `next` may not replace `current` in the cluster's present state. */
export function checkSpecChange(
  store: Pick<SpecStore, "nodes">,
  vault: Pick<Vault, "token" | "s3SecretKey">,
  current: ClusterSpec,
  next: ClusterSpec,
): void {
  const init = store.nodes.initNode();
  // Released server plans carry the key and are re-sent as stored (their checksum covers it).
  if (init && newS3Secret(vault, next) !== null && vault.s3SecretKey() !== null)
    throw new SpecConflict(
      "backup.s3.secretKey",
      `cannot change after init server ${init.name} was released: servers' plans carry it`,
    );
  const known = vault.token();
  const wanted = next.rke2.token?.trim();
  if (wanted !== undefined && known !== null && wanted !== known)
    throw new SpecConflict("rke2.token", "cannot change: the cluster already has a token");
  if (wanted !== undefined && known === null && init)
    throw new SpecConflict(
      "rke2.token",
      `cannot be set now: init server ${init.name} is generating the cluster token`,
    );
  if (!init) return;
  if (current.rke2.version !== undefined && next.rke2.version !== current.rke2.version)
    throw new SpecConflict("rke2.version", versionFrozen(current.rke2.version, init.name));
  if (next.registrationAddress !== current.registrationAddress)
    throw new SpecConflict(
      "registrationAddress",
      `cannot change after init server ${init.name} was released`,
    );
  if (canonicalJson(next.vip ?? null) !== canonicalJson(current.vip ?? null))
    throw new SpecConflict("vip", `cannot change after init server ${init.name} was released`);
  for (const key of CRITICAL_SERVER_KEYS) {
    if (
      canonicalJson(next.servers.config[key] ?? null) !== canonicalJson(current.servers.config[key] ?? null)
    )
      throw new SpecConflict(
        `servers.config.${key}`,
        `cannot change after init server ${init.name} was released: RKE2 refuses servers whose ${key} differs ("critical configuration value mismatch")`,
      );
  }
}

/**
 * The cluster's release is frozen once the init server was released (the version it installed, or
 * the one an upgrade moved every server to): a node added later installs it, never the channel's
 * newest, and only an upgrade moves it.
 */
const versionFrozen = (version: string, init: string) =>
  `is the cluster's release, ${version}, since init server ${init} was released: nodes added later install it; change it with \`muster upgrade --version V\``;

/** Top-level fields that differ (names only: values may hold the token). */
function changedFields(
  vault: Pick<Vault, "token" | "s3SecretKey">,
  current: ClusterSpec | null,
  next: ClusterSpec,
): string[] {
  const a = current ? withoutToken(current) : {};
  const b = withoutToken(next);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const changed = keys.filter(
    (k) =>
      canonicalJson((a as Record<string, unknown>)[k]) !== canonicalJson((b as Record<string, unknown>)[k]),
  );
  if (next.rke2.token !== undefined && vault.token() === null && !changed.includes("rke2"))
    changed.push("rke2");
  if (newS3Secret(vault, next) !== null && !changed.includes("backup")) changed.push("backup");
  return changed;
}

/** Validates and stores a new spec; returns it (without its token). */
export function replaceSpec(
  store: SpecStore,
  vault: Vault,
  current: ClusterSpec | null,
  next: ClusterSpec,
): ClusterSpec {
  if (next.backup?.s3 && next.backup.s3.secretKey === undefined && vault.s3SecretKey() === null)
    throw new InvalidField(
      "backup.s3.secretKey",
      "is required with backup.s3 (no S3 secret key is stored yet)",
    );
  if (current) checkSpecChange(store, vault, current, next);
  const changed = changedFields(vault, current, next);
  const stored = withoutToken(next);
  if (changed.length === 0) return stored;
  store.tx(() => {
    store.meta.set("spec", JSON.stringify(stored));
    if (next.rke2.token !== undefined && vault.token() === null) vault.store(next.rke2.token.trim());
    const s3Secret = newS3Secret(vault, next);
    if (s3Secret !== null) vault.storeS3SecretKey(s3Secret);
    store.events.append(
      "cluster.spec.updated",
      null,
      `cluster spec ${current ? "updated" : "stored"}: ${changed.join(", ")}`,
    );
  });
  return stored;
}

export function parseSpecInput(input: ClusterSpecInput | unknown): ClusterSpec {
  return parseOrThrow(ClusterSpecSchema, input, "cluster spec");
}

/**
 * The spec to run with at startup: the stored one, replaced by `fromConfig` when given (see above).
 * One exception to "fails with the reason": a config file still naming the release the cluster had
 * before an upgrade (or none) keeps the cluster's frozen release, with a warning, so a restart after
 * an upgrade neither fails nor sends new nodes back to the old release.
 */
export function loadSpec(
  store: SpecStore,
  vault: Vault,
  fromConfig: ClusterSpec | undefined,
  warn: (message: string) => void = () => {},
): ClusterSpec {
  const raw = store.meta.get("spec");
  const stored =
    raw === null ? null : parseOrThrow(ClusterSpecSchema, JSON.parse(raw), "stored cluster spec");
  let next = fromConfig ?? stored ?? defaultSpec();
  const frozen = stored?.rke2.version;
  const init = store.nodes.initNode();
  if (fromConfig && frozen !== undefined && init && fromConfig.rke2.version !== frozen) {
    warn(
      `the config file's rke2.version (${fromConfig.rke2.version ?? "unset"}) is not the cluster's release ${frozen}; keeping ${frozen}: set rke2.version: ${frozen} in the file`,
    );
    next = { ...fromConfig, rke2: { ...fromConfig.rke2, version: frozen } };
  }
  try {
    return replaceSpec(store, vault, stored, next);
  } catch (err) {
    if (err instanceof SpecConflict) throw new ConfigConflictsWithState(err);
    throw err;
  }
}

/**
 * Records `version` as the cluster's release (formation found it out, or an upgrade moved every
 * server to it): the stored spec's rke2.version, with an event saying why. Not a spec edit by an
 * operator, so the frozen rule above does not apply. Returns the new spec.
 */
export function recordRelease(
  store: SpecStore,
  current: ClusterSpec,
  version: string,
  why: string,
): ClusterSpec {
  if (current.rke2.version === version) return current;
  const next = withoutToken({ ...current, rke2: { ...current.rke2, version } });
  store.tx(() => {
    store.meta.set("spec", JSON.stringify(next));
    store.events.append(
      "cluster.spec.updated",
      null,
      `cluster spec updated: rke2.version ${current.rke2.version ?? "unset"} -> ${version} (${why})`,
    );
  });
  return next;
}
