import {
  apiServerUrl,
  KubeconfigUnavailable,
  type KubeconfigView,
  type NodeView,
  NoServerForKubeconfig,
  rewriteKubeconfigServer,
} from "@muster/shared";
import type { TaskDispatcher } from "../tasks/dispatcher.ts";

// The admin kubeconfig for the operator (docs/reference.md#kubeconfig): RKE2's rke2.yaml read by the
// agent of a joined server (kube.kubeconfig; the agent neither logs nor keeps it), its server moved
// from the node's loopback to the registration address. Servers are tried one after another, the
// init server last (it is the one most likely busy with a join); the content never reaches a log,
// an event or an error message.

const READ_TIMEOUT_MS = 15_000;

export async function fetchKubeconfig(
  tasks: Pick<TaskDispatcher, "run">,
  nodes: NodeView[],
  registrationAddress: string | null,
): Promise<KubeconfigView> {
  const servers = nodes.filter((n) => n.role === "server" && n.state === "joined" && n.connected);
  servers.sort((a, b) => Number(a.init) - Number(b.init) || a.name.localeCompare(b.name));
  if (servers.length === 0) throw new NoServerForKubeconfig();
  const reasons: string[] = [];
  for (const s of servers) {
    const address = registrationAddress ?? s.address;
    try {
      const { kubeconfig } = await tasks.run(
        s.name,
        { kind: "kube.kubeconfig" },
        { timeoutMs: READ_TIMEOUT_MS },
      );
      return { kubeconfig: rewriteKubeconfigServer(kubeconfig, apiServerUrl(address)) };
    } catch (err) {
      reasons.push(`${s.name}: ${(err as Error).message}`);
    }
  }
  throw new KubeconfigUnavailable(reasons.join("; "));
}
