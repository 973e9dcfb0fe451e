// The simulated pods, shaped like a small RKE2 cluster's: on every server the control-plane static
// pods (kubelet-run, visible as mirror pods: annotation kubernetes.io/config.mirror, owned by the Node,
// which `kubectl drain` skips), kube-proxy as a static pod on every node, the rke2-canal DaemonSet pod
// on every node (drain needs --ignore-daemonsets), and the rke2-coredns and rke2-metrics-server
// Deployments (metrics-server has an emptyDir, so drain needs --delete-emptydir-data), which drain
// evicts and the controller-manager replaces on another schedulable, Ready node.
import { createHash, randomBytes } from "node:crypto";
import type { KubeObject } from "./store.ts";

export interface Pod extends KubeObject {
  spec: {
    nodeName?: string;
    containers: { name: string; image: string; env?: unknown[] }[];
    volumes?: { name: string; emptyDir?: Record<string, never>; hostPath?: { path: string } }[];
    hostNetwork?: boolean;
    priorityClassName?: string;
  };
  status: {
    phase: "Pending" | "Running" | "Succeeded" | "Failed";
    hostIP?: string;
    podIP?: string;
    startTime?: string;
    containerStatuses?: {
      name: string;
      ready: boolean;
      restartCount: number;
      image: string;
      state: Record<string, Record<string, string>>;
    }[];
  };
}

export interface Workload {
  name: string;
  namespace: string;
  kind: "ReplicaSet" | "DaemonSet";
  /** ReplicaSet name suffix (pod-template-hash) or DaemonSet; stable like a real rollout's. */
  hash: string;
  replicas: number;
  image: string;
  emptyDir: boolean;
  labels: Record<string, string>;
  /** DaemonSets: only nodes with all these labels. */
  nodeSelector?: Record<string, string>;
}

/** What RKE2's bundled charts run, cut down to the kinds of pods drain treats differently. */
export const BUILTIN_WORKLOADS: Workload[] = [
  {
    name: "rke2-coredns-rke2-coredns",
    namespace: "kube-system",
    kind: "ReplicaSet",
    hash: "6b9548f79f",
    replicas: 2,
    image: "rancher/hardened-coredns:v1.12.3-build20250815",
    emptyDir: false,
    labels: { "app.kubernetes.io/name": "rke2-coredns", "k8s-app": "kube-dns" },
  },
  {
    name: "rke2-metrics-server",
    namespace: "kube-system",
    kind: "ReplicaSet",
    hash: "58ff89f9c7",
    replicas: 1,
    image: "rancher/hardened-k8s-metrics-server:v0.8.0-build20250704",
    emptyDir: true,
    labels: { "app.kubernetes.io/name": "rke2-metrics-server" },
  },
  {
    name: "rke2-canal",
    namespace: "kube-system",
    kind: "DaemonSet",
    hash: "",
    replicas: 0,
    image: "rancher/hardened-calico:v3.30.3-build20250908",
    emptyDir: false,
    labels: { "k8s-app": "canal" },
  },
];

export const SERVER_STATIC_PODS = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "cloud-controller-manager",
];

const suffix = (n = 5) => {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join("");
};

export function podUid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function running(image: string, name: string, restartCount = 0): Pod["status"] {
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return {
    phase: "Running",
    startTime: startedAt,
    containerStatuses: [{ name, ready: true, restartCount, image, state: { running: { startedAt } } }],
  };
}

/** A mirror pod: what the apiserver shows for a static pod the node's kubelet runs from a file. */
export function mirrorPod(
  node: { name: string; uid: string; address: string },
  base: string,
  image: string,
  labels: Record<string, string> = {},
  spec: Partial<Pod["spec"]> = {},
): Pod {
  const name = `${base}-${node.name}`;
  const hash = createHash("md5").update(`${name}:${image}`).digest("hex");
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "kube-system",
      uid: podUid(`mirror:${name}:${node.uid}`),
      creationTimestamp: "",
      labels: { component: base, tier: "control-plane", ...labels },
      annotations: {
        "kubernetes.io/config.hash": hash,
        "kubernetes.io/config.mirror": hash,
        "kubernetes.io/config.source": "file",
      },
      ownerReferences: [{ apiVersion: "v1", kind: "Node", name: node.name, uid: node.uid, controller: true }],
    },
    spec: { nodeName: node.name, hostNetwork: true, containers: [{ name: base, image }], ...spec },
    status: { ...running(image, base), hostIP: node.address, podIP: node.address },
  };
}

/** A pod of a workload, not yet scheduled (nodeName unset) unless `nodeName` is given (DaemonSets). */
export function workloadPod(w: Workload, ownerUid: string, nodeName?: string): Pod {
  const name = w.kind === "DaemonSet" ? `${w.name}-${suffix()}` : `${w.name}-${w.hash}-${suffix()}`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: w.namespace,
      uid: "",
      creationTimestamp: "",
      labels: { ...w.labels, ...(w.hash ? { "pod-template-hash": w.hash } : {}) },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: w.kind,
          name: w.kind === "DaemonSet" ? w.name : `${w.name}-${w.hash}`,
          uid: ownerUid,
          controller: true,
        },
      ],
    },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      containers: [{ name: w.name.replace(/^rke2-/, ""), image: w.image }],
      ...(w.emptyDir ? { volumes: [{ name: "tmp-dir", emptyDir: {} }] } : {}),
    },
    status: { phase: "Pending" },
  };
}

export function markRunning(pod: Pod, hostIP: string): Pod {
  const c = pod.spec.containers[0]!;
  return {
    ...pod,
    status: { ...running(c.image, c.name), hostIP, podIP: pod.spec.hostNetwork ? hostIP : podIP(pod) },
  };
}

/** A pod IP from the node's slice of cluster-cidr, derived from the pod name (the sim has no CNI). */
function podIP(pod: Pod): string {
  const h = createHash("sha256").update(pod.metadata.name).digest();
  return `10.42.${h[0]! % 8}.${(h[1]! % 250) + 2}`;
}

export const controllerOf = (pod: Pod) => pod.metadata.ownerReferences?.find((o) => o.controller);
export const isMirror = (pod: Pod) => !!pod.metadata.annotations?.["kubernetes.io/config.mirror"];
