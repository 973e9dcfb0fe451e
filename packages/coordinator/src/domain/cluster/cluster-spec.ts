import { type ClusterSpec, type ClusterSpecInput, type Logger, publicSpec } from "@muster/shared";
import type { Changes } from "../changes.ts";
import type { Vault } from "../secrets/vault.ts";
import { loadSpec, parseSpecInput, recordRelease, replaceSpec, type SpecStore } from "./spec-rules.ts";

// The cluster spec the coordinator runs with: loaded at startup (the stored one, or --config's when
// the rules allow it), replaced by PUT /v1/cluster. Held without its token: the vault is the one
// place the token lives.

export interface ClusterSpecDeps {
  store: SpecStore;
  vault: Vault;
  changes: Pick<Changes, "notify">;
  log: Logger;
}

export function createClusterSpec(deps: ClusterSpecDeps, fromConfig: ClusterSpec | undefined) {
  const { store, vault } = deps;
  let spec = loadSpec(store, vault, fromConfig, (message) => deps.log.warn({}, message));

  /** The spec as shown: tokenSet says whether a cluster token is known (from the spec or captured),
   * secretKeySet whether the vault holds the S3 secret key. */
  const shown = () => {
    const s3 = spec.backup?.s3;
    const marked: ClusterSpec = {
      ...spec,
      rke2: { ...spec.rke2, ...(vault.token() !== null ? { token: "set" } : {}) },
      ...(spec.backup && s3
        ? {
            backup: {
              ...spec.backup,
              s3: { ...s3, ...(vault.s3SecretKey() !== null ? { secretKey: "set" } : {}) },
            },
          }
        : {}),
    };
    return publicSpec(marked);
  };

  return {
    current: (): ClusterSpec => spec,
    shown,
    update(input: ClusterSpecInput): ReturnType<typeof publicSpec> {
      spec = replaceSpec(store, vault, spec, parseSpecInput(input));
      deps.log.info({ cluster: spec.name }, "cluster spec updated");
      deps.changes.notify();
      return shown();
    },
    /** The cluster's release from now on (formation's installed version, an upgrade's target). */
    recordRelease(version: string, why: string): void {
      if (spec.rke2.version === version) return;
      spec = recordRelease(store, spec, version, why);
      deps.log.info({ version }, `cluster release recorded: ${why}`);
      deps.changes.notify();
    },
  };
}

export type ClusterSpecHolder = ReturnType<typeof createClusterSpec>;
