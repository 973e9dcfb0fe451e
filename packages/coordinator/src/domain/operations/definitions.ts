import type { ClusterSpec, Logger } from "@muster/shared";
import type { Store } from "../../store/store.ts";
import type { RegistrationCheck } from "../registration/registration-check.ts";
import type { Vault } from "../secrets/vault.ts";
import type { TaskDispatcher } from "../tasks/dispatcher.ts";
import { createAgentTokenDefinition } from "./agent-token.ts";
import { backupDefinition } from "./backup.ts";
import { createRejoinDefinition } from "./rejoin.ts";
import { createRemoveDefinition } from "./remove.ts";
import { createRestoreDefinition } from "./restore.ts";
import type { OperationDefinition } from "./types.ts";
import { createUpgradeDefinition } from "./upgrade.ts";

// Every operation type the coordinator can run, with what their steps need. Each type lives in a
// module of its own (remove.ts, upgrade.ts, ...) and is listed here.
export interface OperationDeps {
  store: Store;
  tasks: TaskDispatcher;
  log: Logger;
  now(): number;
  spec(): ClusterSpec;
  /** Closes a node's agent link, if it has one (a removed node's credential no longer works). */
  disconnect?(node: string): void;
  /** The secrets the agent-token migration writes to nodes and re-seals stored plans with. */
  vault?: Pick<Vault, "token" | "agentToken" | "s3SecretKey" | "digestSecrets">;
  /** Called once the cluster is enforced (views and the console refresh). */
  onAgentTokenEnforced?(): void;
  /** The registration address (and the VIP) asked afresh: part of a restarted server's gate. */
  registrationCheck?: RegistrationCheck;
  /** Records the cluster's release once an upgrade moved every server to it (cluster-spec.ts). */
  recordRelease?(version: string, why: string): void;
}

export function operationDefinitions(deps: OperationDeps): OperationDefinition[] {
  return [
    createRemoveDefinition(deps),
    createRejoinDefinition(deps),
    backupDefinition(deps),
    createRestoreDefinition(deps),
    createUpgradeDefinition(deps),
    createAgentTokenDefinition(deps),
  ];
}
