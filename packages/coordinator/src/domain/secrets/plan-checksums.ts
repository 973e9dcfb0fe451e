import { createHash } from "node:crypto";
import { canonicalJson, type Logger } from "@muster/shared";
import type { Store } from "../../store/store.ts";
import { planForStorage, sealWithDigest, withSecrets } from "../nodes/plan-builder.ts";
import type { Vault } from "./vault.ts";

// Stored plan checksums used to be an unsalted SHA-256 over the whole plan, token included: with a
// copy of the database alone, a weak token could be guessed offline against it. Now the checksum
// leaves the secrets out and covers their keyed digest (shared/src/plan.ts, Vault.digestSecrets).
// This re-seals the plans stored before, once, when a coordinator of this version first starts. A
// joining node gets its plan again on reconnect under the new checksum and re-runs it (each phase
// is idempotent); a joined node keeps running what it applied.

export const PLAN_CHECKSUM_SCHEME = "hmac-sha256-v1";

export interface PlanChecksumDeps {
  store: Pick<Store, "tx"> & {
    meta: Pick<Store["meta"], "get" | "set">;
    nodes: Pick<Store["nodes"], "list" | "update">;
  };
  vault: Pick<Vault, "token" | "agentToken" | "s3SecretKey" | "digestSecrets">;
  log: Logger;
}

/** The old scheme: SHA-256 over the canonical plan with its secrets, checksum field left out. */
function legacyChecksum(plan: Record<string, unknown>): string {
  const { checksum: _c, ...rest } = plan;
  return createHash("sha256").update(canonicalJson(rest)).digest("hex");
}

/** Re-seals every stored plan under the keyed scheme; returns how many it changed. */
export function migratePlanChecksums(deps: PlanChecksumDeps): number {
  const { store, vault, log } = deps;
  if (store.meta.get("plan-checksum") === PLAN_CHECKSUM_SCHEME) return 0;
  return store.tx(() => {
    let changed = 0;
    for (const node of store.nodes.list()) {
      if (node.plan === null) continue;
      const plan = withSecrets(node.plan, vault.token(), vault.agentToken(), vault.s3SecretKey());
      if (plan.secretsDigest !== undefined) continue;
      if (legacyChecksum(plan) !== plan.checksum) {
        // Never re-seal a row that does not match what it claims: sending it would be a guess.
        log.warn({ node: node.name }, "stored plan does not match its old checksum; left as it is");
        continue;
      }
      const { checksum: _old, ...body } = plan;
      const sealed = sealWithDigest(body, vault.digestSecrets);
      store.nodes.update(node.name, {
        plan: planForStorage(sealed, vault.agentToken()),
        planChecksum: sealed.checksum,
      });
      changed++;
    }
    store.meta.set("plan-checksum", PLAN_CHECKSUM_SCHEME);
    if (changed > 0) log.info({ plans: changed }, "stored plan checksums re-sealed with the plan key");
    return changed;
  });
}
