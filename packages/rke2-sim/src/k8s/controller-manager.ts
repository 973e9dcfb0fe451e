// What kube-controller-manager and kube-scheduler do for the simulated pods, in one pass run by the
// holder of the kube-controller-manager Lease: pod GC (pods of Nodes that no longer exist), mirror pods
// of every node's static pods, one pod per DaemonSet and matching node, the Deployments' replica
// counts, and binding unscheduled pods to a schedulable, Ready node (fewest pods of the same owner).
import type { KubeNode } from "../rke2/nodes.ts";
import { internalIP, isReady } from "../rke2/nodes.ts";
import {
  BUILTIN_WORKLOADS,
  controllerOf,
  markRunning,
  mirrorPod,
  type Pod,
  podUid,
  SERVER_STATIC_PODS,
  type Workload,
  workloadPod,
} from "./pods.ts";
import type { KubeObject, Store } from "./store.ts";

interface DaemonSet extends KubeObject {
  spec: {
    template: {
      metadata?: { labels?: Record<string, string> };
      spec: Pod["spec"] & {
        nodeSelector?: Record<string, string>;
        affinity?: {
          nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Term[] } };
        };
      };
    };
  };
}

interface Term {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

const STATIC_IMAGE = (name: string) => `index.docker.io/rancher/hardened-${name}:simulated`;

function matchesTerm(labels: Record<string, string>, term: Term): boolean {
  return (term.matchExpressions ?? []).every((e) => {
    const v = labels[e.key];
    switch (e.operator) {
      case "Exists":
        return v !== undefined;
      case "DoesNotExist":
        return v === undefined;
      case "In":
        return v !== undefined && (e.values ?? []).includes(v);
      case "NotIn":
        return v === undefined || !(e.values ?? []).includes(v);
      default:
        return false;
    }
  });
}

/** nodeSelector and required node affinity (terms ORed, expressions ANDed), as the DaemonSet controller. */
export function nodeMatches(ds: DaemonSet["spec"]["template"]["spec"], node: KubeNode): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(ds.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = ds.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return !terms?.length || terms.some((t) => matchesTerm(labels, t));
}

const isServer = (n: KubeNode) => n.metadata.labels?.["node-role.kubernetes.io/control-plane"] === "true";
const schedulable = (n: KubeNode) => isReady(n) && !n.spec.unschedulable && !n.metadata.deletionTimestamp;
const live = (p: Pod) => !p.metadata.deletionTimestamp;
const KUBE_VIP = (p: Pod) => p.spec.containers.some((c) => c.image.includes("kube-vip"));

async function ignoreConflicts(p: Promise<unknown>): Promise<void> {
  await p.catch(() => {});
}

export async function reconcilePods(store: Store): Promise<void> {
  const nodes = (await store.list<KubeNode>("nodes")).items;
  let pods = (await store.list<Pod>("pods")).items;
  const byName = new Map(nodes.map((n) => [n.metadata.name, n]));

  // Pod GC: pods bound to a Node that is gone.
  for (const p of pods.filter((x) => x.spec.nodeName && !byName.has(x.spec.nodeName))) {
    await ignoreConflicts(store.delete("pods", p.metadata.namespace, p.metadata.name));
  }
  pods = pods.filter((p) => !p.spec.nodeName || byName.has(p.spec.nodeName));
  const names = new Set(pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`));

  // Mirror pods of each node's static pods (the kubelet creates them; done here for all nodes at once).
  for (const n of nodes.filter((x) => !x.metadata.deletionTimestamp)) {
    const node = { name: n.metadata.name, uid: n.metadata.uid, address: internalIP(n) };
    const statics = [...(isServer(n) ? SERVER_STATIC_PODS : []), "kube-proxy"];
    for (const base of statics) {
      if (names.has(`kube-system/${base}-${node.name}`)) continue;
      await ignoreConflicts(store.create("pods", mirrorPod(node, base, STATIC_IMAGE(base))));
    }
  }

  // DaemonSets: the built-in ones on every node, and those applied from manifests (e.g. kube-vip).
  const applied = (await store.list<DaemonSet>("daemonsets")).items;
  const daemonSets: { w: Workload; uid: string; template?: DaemonSet["spec"]["template"] }[] = [
    ...BUILTIN_WORKLOADS.filter((w) => w.kind === "DaemonSet").map((w) => ({
      w,
      uid: podUid(`ds:${w.name}`),
    })),
    ...applied.map((ds) => {
      const c = ds.spec.template.spec.containers[0]!;
      const w: Workload = {
        name: ds.metadata.name,
        namespace: ds.metadata.namespace ?? "default",
        kind: "DaemonSet",
        hash: "",
        replicas: 0,
        image: c.image,
        emptyDir: false,
        labels: ds.spec.template.metadata?.labels ?? {},
      };
      return { w, uid: ds.metadata.uid, template: ds.spec.template };
    }),
  ];
  for (const { w, uid, template } of daemonSets) {
    const owned = pods.filter((p) => live(p) && controllerOf(p)?.uid === uid);
    for (const n of nodes) {
      const wanted = !n.metadata.deletionTimestamp && (!template || nodeMatches(template.spec, n));
      const mine = owned.filter((p) => p.spec.nodeName === n.metadata.name);
      if (wanted && mine.length === 0) {
        const pod = workloadPod(w, uid, n.metadata.name);
        if (template) pod.spec = { ...structuredClone(template.spec), nodeName: n.metadata.name };
        // The node's kubelet reports on a kube-vip pod itself; others are taken as started.
        const created = KUBE_VIP(pod) || !isReady(n) ? pod : markRunning(pod, internalIP(n));
        await ignoreConflicts(store.create("pods", created));
      }
      for (const extra of wanted ? mine.slice(1) : mine) {
        await ignoreConflicts(store.delete("pods", extra.metadata.namespace, extra.metadata.name));
      }
    }
  }

  // Deployments (one ReplicaSet each): keep the replica count, then schedule what is pending.
  for (const w of BUILTIN_WORKLOADS.filter((x) => x.kind === "ReplicaSet")) {
    const uid = podUid(`rs:${w.name}-${w.hash}`);
    const owned = pods.filter((p) => live(p) && controllerOf(p)?.uid === uid);
    for (let i = owned.length; i < w.replicas; i++) {
      const pod = await store.create("pods", workloadPod(w, uid)).catch(() => null);
      if (pod) owned.push(pod);
    }
    for (const extra of owned.slice(w.replicas)) {
      await ignoreConflicts(store.delete("pods", extra.metadata.namespace, extra.metadata.name));
    }
    for (const p of owned.slice(0, w.replicas).filter((x) => !x.spec.nodeName)) {
      const candidates = nodes.filter(schedulable);
      if (!candidates.length) continue;
      const load = (n: KubeNode) => owned.filter((o) => o.spec.nodeName === n.metadata.name).length;
      candidates.sort((a, b) => load(a) - load(b) || a.metadata.name.localeCompare(b.metadata.name));
      const target = candidates[0]!;
      p.spec.nodeName = target.metadata.name;
      await ignoreConflicts(
        store.mutate<Pod>("pods", p.metadata.namespace, p.metadata.name, (cur) =>
          cur.spec.nodeName
            ? null
            : markRunning(
                { ...cur, spec: { ...cur.spec, nodeName: target.metadata.name } },
                internalIP(target),
              ),
        ),
      );
    }
  }
}
