// Kubernetes Node objects, kept in etcd under /registry/minions/ like the real apiserver does (as JSON
// rather than protobuf). Each node's "kubelet" refreshes its Ready condition; a node silent for 40 s
// (the node controller's grace period) reads Ready=Unknown.
import * as etcd from "./etcd-client.ts";
import { sha256 } from "./token.ts";

const PREFIX = "/registry/minions/";
const GRACE_MS = 40_000;

export interface Registration {
  name: string;
  address: string;
  role: "server" | "agent";
  labels: string[];
  taints: string[];
}

interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

export interface KubeNode {
  apiVersion: "v1";
  kind: "Node";
  metadata: { name: string; uid: string; labels: Record<string, string>; creationTimestamp: string };
  spec: { taints?: { key: string; value?: string; effect: string }[] };
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

export function nodeObject(reg: Registration, version: string, previous: KubeNode | null): KubeNode {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const labels: Record<string, string> = {
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
  const wasReady = previous?.status.conditions.find((c) => c.type === "Ready")?.status === "True";
  const taints = reg.taints.map(parseTaint);
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: reg.name,
      uid: previous?.metadata.uid ?? crypto.randomUUID(),
      labels,
      creationTimestamp: previous?.metadata.creationTimestamp ?? now,
    },
    spec: taints.length ? { taints } : {},
    status: {
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
          lastHeartbeatTime: now,
          lastTransitionTime: wasReady ? previous!.status.conditions[0]!.lastTransitionTime : now,
        },
      ],
      nodeInfo: {
        kubeletVersion: version,
        operatingSystem: "linux",
        architecture: "amd64",
        containerRuntimeVersion: "containerd://simulated",
      },
    },
  };
}

export async function recordNode(endpoints: string[], reg: Registration, version: string): Promise<void> {
  const raw = await etcd.get(endpoints, PREFIX + reg.name);
  const previous = raw ? (JSON.parse(raw) as KubeNode) : null;
  await etcd.put(endpoints, PREFIX + reg.name, JSON.stringify(nodeObject(reg, version, previous)));
}

/**
 * The <node>.node-password.rke2 secret: the first registration of a name stores its password's hash;
 * a different machine claiming the name later is rejected (docs/rke2-behaviour.md "re-joining under a stale name").
 */
export async function checkNodePassword(
  endpoints: string[],
  name: string,
  password: string,
): Promise<boolean> {
  const key = `/registry/secrets/kube-system/${name}.node-password.rke2`;
  const stored = await etcd.get(endpoints, key);
  if (stored === null) {
    await etcd.put(endpoints, key, JSON.stringify({ kind: "Secret", data: { hash: sha256(password) } }));
    return true;
  }
  return (JSON.parse(stored) as { data: { hash: string } }).data.hash === sha256(password);
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

export async function listNodes(endpoints: string[]) {
  const { revision, kvs } = await etcd.rangePrefix(endpoints, PREFIX);
  return {
    kind: "NodeList",
    apiVersion: "v1",
    metadata: { resourceVersion: revision },
    items: kvs.map(([, v]) => withLiveness(JSON.parse(v) as KubeNode)),
  };
}

export async function getNode(endpoints: string[], name: string): Promise<KubeNode | null> {
  const raw = await etcd.get(endpoints, PREFIX + name);
  return raw ? withLiveness(JSON.parse(raw) as KubeNode) : null;
}

export function isReady(node: KubeNode): boolean {
  return node.status.conditions.some((c) => c.type === "Ready" && c.status === "True");
}
