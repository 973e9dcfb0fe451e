// What both day-two lab tests share: the cluster's timing knobs, removal's step order (RKE2's
// procedure), following an operation to its end, and waiting for etcd's exact voter set.
import type { TestCluster } from "@muster/lab/cluster/test-cluster";
import type { OperationView } from "@muster/shared";

export const HEARTBEAT = 4;
export const NODE_LOST = 5;
/** kube-controller-manager's node-monitor-grace-period (the simulator's too). */
export const NODE_GRACE = 40;
export const FIRST = ["server-1", "server-2", "server-3", "agent-1"];

export const REMOVAL_ORDER = [
  "move etcd leadership off it",
  "cordon",
  "drain",
  "remove its etcd member",
  "wait until etcd no longer lists it",
  "stop RKE2",
  "uninstall RKE2",
  "delete its Node",
  "delete its node-password secret",
  "forget its credential",
];

export async function operation(cluster: TestCluster, id: string): Promise<OperationView> {
  return cluster.api.get<OperationView>(`/v1/operations/${encodeURIComponent(id)}`);
}

export async function untilEnded(
  cluster: TestCluster,
  id: string,
  timeoutMs = 180_000,
): Promise<OperationView> {
  return cluster.waitFor(
    `operation ${id} to end`,
    async () => {
      const op = await operation(cluster, id);
      return op.state === "succeeded" || op.state === "failed" ? op : undefined;
    },
    timeoutMs,
  );
}

export async function voters(cluster: TestCluster, names: string[]): Promise<void> {
  await cluster.waitFor(
    `etcd to list exactly ${names.join(", ")} as voters`,
    async () => {
      const m = cluster.etcdMembers();
      const got = m
        .filter((x) => !x.isLearner)
        .map((x) => x.name)
        .sort();
      return m.length === names.length && JSON.stringify(got) === JSON.stringify([...names].sort())
        ? true
        : undefined;
    },
    60_000,
  );
}
