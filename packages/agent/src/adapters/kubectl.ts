import { RKE2_CONFIG_DIR, RKE2_DATA_DIR } from "../rke2-paths.ts";
import type { Exec, ExecResult, Files } from "./types.ts";

// RKE2's own kubectl with a server's local admin kubeconfig. Only servers have both: RKE2 writes
// rke2.yaml on servers alone, so the coordinator sends kube tasks to a server's agent. The kubeconfig
// holds the cluster admin's client key: it is read for kube.kubeconfig, never logged or echoed.
export const RKE2_KUBECTL = `${RKE2_DATA_DIR}/bin/kubectl`;
export const RKE2_ADMIN_KUBECONFIG = `${RKE2_CONFIG_DIR}/rke2.yaml`;

export interface KubectlPresence {
  kubectl: boolean;
  kubeconfig: boolean;
}

export interface Kubectl {
  present(): Promise<KubectlPresence>;
  /** kubectl --kubeconfig <admin> ARGS (never a shell; never throws for a non-zero exit). */
  run(args: readonly string[], opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<ExecResult>;
  /** The admin kubeconfig's text, or null when this node has none. */
  readKubeconfig(): Promise<string | null>;
}

export function createKubectl(exec: Exec, files: Files): Kubectl {
  return {
    async present() {
      const [kubectl, kubeconfig] = await Promise.all([
        files.exists(RKE2_KUBECTL),
        files.exists(RKE2_ADMIN_KUBECONFIG),
      ]);
      return { kubectl, kubeconfig };
    },
    run(args, opts = {}) {
      return exec.run(
        files.resolve(RKE2_KUBECTL),
        ["--kubeconfig", files.resolve(RKE2_ADMIN_KUBECONFIG), ...args],
        {
          timeoutMs: opts.timeoutMs ?? 60_000,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
      );
    },
    readKubeconfig: () => files.readTextIfExists(RKE2_ADMIN_KUBECONFIG),
  };
}
