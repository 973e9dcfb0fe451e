// Kubernetes Node objects (/registry/minions/<name> in etcd). A node's "kubelet" creates its Node once
// (labels and taints from config only then, as --node-labels/--register-with-taints), reconciles it on
// restart, and then only refreshes the Ready condition; if the Node is deleted meanwhile the kubelet
// does not recreate it (it logs errors until restarted), as the real kubelet. A node silent for 40 s
// (the node controller's grace period) reads Ready=Unknown. Servers also carry the annotations RKE2's
// etcd metadata controller keeps on its own node (etcd.rke2.cattle.io/node-name, node-address), and
// every Node gets the finalizers of the two controllers that must see it go (k3s pkg/node, which
// deletes the node-password secret, and the etcd member controller).
import type { KubeObject, Store } from "../k8s/store.ts";
import { ApiError, now } from "../k8s/store.ts";

const GRACE_MS = 40_000;

export const ETCD_ANNOTATIONS = {
  nodeName: "etcd.rke2.cattle.io/node-name",
  nodeAddress: "etcd.rke2.cattle.io/node-address",
  remove: "etcd.rke2.cattle.io/remove",
  removedNodeName: "etcd.rke2.cattle.io/removed-node-name",
} as const;

export const NODE_FINALIZERS = ["wrangler.cattle.io/node", "wrangler.cattle.io/managed-etcd-controller"];

export interface Registration {
  name: string;
  address: string;
  role: "server" | "agent";
  labels: string[];
  taints: string[];
  /** Servers: the etcd member name the metadata controller records on the Node. */
  etcdMember?: string;
}

interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

export interface KubeNode extends KubeObject {
  spec: { taints?: { key: string; value?: string; effect: string }[]; unschedulable?: boolean };
  status: {
    addresses: { type: string; address: string }[];
    conditions: Condition[];
    nodeInfo: Record<string, string>;
  };
}

function parseTaint(t: string): { key: string; value?: string; effect: string } {
  const [kv = "", effect = "NoSchedule"] = t.split(":");
  const [key = "", value] = kv.split("=");
  return value === undefined ? { key, effect } : { key, value, effect };
}

function configLabels(reg: Registration): Record<string, string> {
  const labels: Record<string, string> = {
    "beta.kubernetes.io/arch": "amd64",
    "beta.kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "kubernetes.io/hostname": reg.name,
    "kubernetes.io/os": "linux",
    "node.kubernetes.io/instance-type": "rke2",
  };
  if (reg.role === "server") {
    labels["node-role.kubernetes.io/control-plane"] = "true";
    labels["node-role.kubernetes.io/etcd"] = "true";
    labels["node-role.kubernetes.io/master"] = "true";
  }
  for (const l of reg.labels) {
    const eq = l.indexOf("=");
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? "" : l.slice(eq + 1);
  }
  return labels;
}

function status(reg: Registration, version: string, previous: KubeNode | null): KubeNode["status"] {
  const t = now();
  const prevReady = previous?.status.conditions.find((c) => c.type === "Ready");
  return {
    addresses: [
      { type: "InternalIP", address: reg.address },
      { type: "Hostname", address: reg.name },
    ],
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "kubelet is posting ready status",
        lastHeartbeatTime: t,
        lastTransitionTime: prevReady?.status === "True" ? prevReady.lastTransitionTime : t,
      },
    ],
    nodeInfo: {
      kubeletVersion: version,
      kubeProxyVersion: version,
      operatingSystem: "linux",
      architecture: "amd64",
      osImage: "Debian GNU/Linux (rke2 simulator)",
      kernelVersion: "simulated",
      containerRuntimeVersion: "containerd://simulated",
    },
  };
}

/** RKE2's etcd metadata controller: its own Node names its etcd member and address. */
function withEtcdMetadata(node: KubeNode, reg: Registration): boolean {
  if (!reg.etcdMember) return false;
  node.metadata.annotations ??= {};
  const a = node.metadata.annotations;
  if (a[ETCD_ANNOTATIONS.nodeName] === reg.etcdMember && a[ETCD_ANNOTATIONS.nodeAddress] === reg.address)
    return false;
  a[ETCD_ANNOTATIONS.nodeName] = reg.etcdMember;
  a[ETCD_ANNOTATIONS.nodeAddress] = reg.address;
  return true;
}

/** Kubelet start: create the Node, or reconcile the existing one (labels merged, taints/cordon kept). */
export async function registerNode(store: Store, reg: Registration, version: string): Promise<KubeNode> {
  const existing = await store.get<KubeNode>("nodes", undefined, reg.name);
  if (!existing) {
    const taints = reg.taints.map(parseTaint);
    const node: KubeNode = {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: reg.name,
        uid: "",
        creationTimestamp: "",
        labels: configLabels(reg),
        annotations: {
          "node.alpha.kubernetes.io/ttl": "0",
          "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        },
        finalizers: [...NODE_FINALIZERS],
      },
      spec: taints.length ? { taints } : {},
      status: status(reg, version, null),
    };
    withEtcdMetadata(node, reg);
    try {
      return await store.create("nodes", node);
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === "AlreadyExists")) throw err;
    }
  }
  const updated = await store.mutate<KubeNode>("nodes", undefined, reg.name, (n) => {
    n.metadata.labels = { ...n.metadata.labels, ...configLabels(reg) };
    withEtcdMetadata(n, reg);
    n.status = status(reg, version, n);
    return n;
  });
  return updated!;
}

/** Kubelet status update; a deleted Node stays deleted (ApiError 404 for the caller to log). */
export async function heartbeat(store: Store, reg: Registration, version: string): Promise<void> {
  await store.mutate<KubeNode>("nodes", undefined, reg.name, (n) => {
    withEtcdMetadata(n, reg);
    n.status = status(reg, version, n);
    return n;
  });
}

function withLiveness(node: KubeNode): KubeNode {
  const ready = node.status.conditions.find((c) => c.type === "Ready");
  if (!ready || Date.now() - Date.parse(ready.lastHeartbeatTime) <= GRACE_MS) return node;
  const stale: Condition = {
    ...ready,
    status: "Unknown",
    reason: "NodeStatusUnknown",
    message: "Kubelet stopped posting node status.",
  };
  return { ...node, status: { ...node.status, conditions: [stale] } };
}

export async function listNodes(store: Store) {
  const { resourceVersion, items } = await store.list<KubeNode>("nodes");
  return {
    kind: "NodeList",
    apiVersion: "v1",
    metadata: { resourceVersion },
    items: items.map(withLiveness),
  };
}

export async function getNode(store: Store, name: string): Promise<KubeNode | null> {
  const node = await store.get<KubeNode>("nodes", undefined, name);
  return node ? withLiveness(node) : null;
}

export function isReady(node: KubeNode): boolean {
  return node.status.conditions.some((c) => c.type === "Ready" && c.status === "True");
}

export function internalIP(node: KubeNode): string {
  return node.status.addresses.find((a) => a.type === "InternalIP")?.address ?? "";
}
