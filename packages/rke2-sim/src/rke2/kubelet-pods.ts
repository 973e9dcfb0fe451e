// The server kubelet's part in running kube-vip. Static pods (<data-dir>/agent/pod-manifests/) start
// with the kubelet, before this node's etcd and apiserver exist; DaemonSet pods only once the
// controller-manager has created this node's pod (which needs a running apiserver in the cluster and
// this node registered). Each pod's container is a ./../kube-vip/container.ts; the kubelet reports its
// state on the Pod (static pods through a mirror pod). When the rke2 process stops, the containers keep
// running: only the kubelet goes away.
import { createHash } from "node:crypto";
import path from "node:path";
import { controllerOf, mirrorPod, type Pod, podUid } from "../k8s/pods.ts";
import { ApiError, type Store } from "../k8s/store.ts";
import { Container, type ContainerHost, type ContainerSpec } from "../kube-vip/container.ts";
import { kubeVipContainer, metaOf, podSpecOf, readManifestDir, resolveEnv } from "../kube-vip/manifest.ts";
import { DEFAULT_DATA_DIR, type SimConfig } from "./config.ts";
import type { Knobs } from "./env.ts";
import { installCrictl } from "./kubeconfig.ts";
import { log } from "./log.ts";
import type { KubeNode } from "./nodes.ts";

export interface KubeletPodsOptions {
  cfg: SimConfig;
  knobs: Knobs;
  /** The local store once this node's etcd is up (the kubelet's API client), else null. */
  store(): Store | null;
  /** etcd client URLs a pod reaches the cluster through: the local member first. */
  endpoints(): string[];
  /** registries.yaml (private-registry; "/etc/rancher/rke2/registries.yaml" by default). */
  registriesFile: string;
}

interface Desired {
  spec: ContainerSpec;
  mirror: boolean;
}

/** /var/log/pods for the standard data dir; beside a custom one, so nodes can share a host in tests. */
export function podLogRoot(dataDir: string): string {
  return dataDir === DEFAULT_DATA_DIR ? "/var/log/pods" : path.join(dataDir, "agent", "pod-logs");
}

function staticPods(cfg: SimConfig): Desired[] {
  const dir = path.join(cfg.dataDir, "agent", "pod-manifests");
  const out: Desired[] = [];
  for (const { file, doc } of readManifestDir(dir, (m) => log.warn(m))) {
    if (doc["kind"] !== "Pod") continue;
    const container = kubeVipContainer(podSpecOf(doc));
    if (!container) continue;
    const meta = metaOf(doc);
    const hash = createHash("sha256").update(JSON.stringify(doc)).update(cfg.nodeName).digest("hex");
    out.push({
      mirror: true,
      spec: {
        podName: `${meta.name || file.replace(/\.[a-z]+$/, "")}-${cfg.nodeName}`,
        namespace: meta.namespace === "default" ? "kube-system" : meta.namespace,
        podUid: podUid(hash),
        containerName: container.name,
        image: container.image,
        env: resolveEnv(container, cfg.nodeName),
      },
    });
  }
  return out;
}

async function daemonSetPods(store: Store, cfg: SimConfig): Promise<Desired[]> {
  const { items } = await store.list<Pod>("pods");
  return items
    .filter(
      (p) =>
        p.spec.nodeName === cfg.nodeName &&
        controllerOf(p)?.kind === "DaemonSet" &&
        !p.metadata.deletionTimestamp,
    )
    .flatMap((p) => {
      const c = kubeVipContainer(p.spec as unknown as Parameters<typeof kubeVipContainer>[0]);
      if (!c) return [];
      return [
        {
          mirror: false,
          spec: {
            podName: p.metadata.name,
            namespace: p.metadata.namespace ?? "kube-system",
            podUid: p.metadata.uid,
            containerName: c.name,
            image: c.image,
            env: resolveEnv(c, cfg.nodeName),
          },
        },
      ];
    });
}

function containerStatus(c: Container): Pod["status"] {
  const s = c.state;
  return {
    phase: s.kind === "running" ? "Running" : "Pending",
    hostIP: "",
    containerStatuses: [
      {
        name: c.spec.containerName,
        ready: s.kind === "running",
        restartCount: c.restartCount,
        image: c.spec.image,
        state:
          s.kind === "running"
            ? { running: { startedAt: s.startedAt } }
            : { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } },
      },
    ],
  };
}

export function startKubeletPods(o: KubeletPodsOptions): () => Promise<void> {
  const { cfg } = o;
  // RKE2 unpacks crictl (with kubectl and ctr) into <data-dir>/bin before its kubelet starts.
  installCrictl(cfg.dataDir);
  const host: ContainerHost = {
    dataDir: cfg.dataDir,
    nodeName: cfg.nodeName,
    imagesDir: path.join(cfg.dataDir, "agent", "images"),
    registriesFile: o.registriesFile,
    logRoot: podLogRoot(cfg.dataDir),
    backoffBaseMs: o.knobs.podBackoffSeconds * 1000,
    endpoints: o.endpoints,
    log: (level, msg) =>
      level === "info" ? log.info(msg) : level === "warn" ? log.warn(msg) : log.error(msg),
  };
  const running = new Map<string, { container: Container; mirror: boolean; reported: string }>();
  let dsKnown = false;
  let busy = false;

  async function report(
    store: Store,
    entry: { container: Container; mirror: boolean; reported: string },
  ): Promise<void> {
    const c = entry.container;
    const st = containerStatus(c);
    const key = JSON.stringify(st.containerStatuses);
    if (key === entry.reported) return;
    const { podName, namespace } = c.spec;
    if (entry.mirror && !(await store.get<Pod>("pods", namespace, podName))) {
      const node = await store.get<KubeNode>("nodes", undefined, cfg.nodeName);
      if (!node) return;
      const base = podName.slice(0, -(cfg.nodeName.length + 1));
      const mp = mirrorPod(
        { name: cfg.nodeName, uid: node.metadata.uid, address: cfg.nodeIP },
        base,
        c.spec.image,
        {},
        { hostNetwork: true },
      );
      mp.metadata.labels = { component: base, tier: "control-plane" };
      await store.create("pods", mp).catch(() => {});
    }
    await store.mutate<Pod>("pods", namespace, podName, (p) => ({
      ...p,
      status: { ...st, hostIP: cfg.nodeIP, podIP: cfg.nodeIP },
    }));
    entry.reported = key;
  }

  async function sync(): Promise<void> {
    const store = o.store();
    const desired = staticPods(cfg);
    let apiUp = false;
    if (store) {
      try {
        desired.push(...(await daemonSetPods(store, cfg)));
        apiUp = true;
        dsKnown = true;
      } catch {}
    }
    const wanted = new Set(desired.map((d) => d.spec.podUid));
    for (const [uid, entry] of running) {
      // Without the API the kubelet cannot tell whether a DaemonSet pod still exists: it keeps it.
      if (!wanted.has(uid) && (entry.mirror || apiUp)) {
        running.delete(uid);
        log.info(
          `Killing container ${entry.container.spec.containerName} of deleted pod ${entry.container.spec.podName}`,
        );
        void entry.container.stop();
      }
    }
    for (const d of desired) {
      if (!running.has(d.spec.podUid))
        running.set(d.spec.podUid, {
          container: new Container(host, d.spec),
          mirror: d.mirror,
          reported: "",
        });
    }
    for (const entry of running.values()) {
      await entry.container.tick();
      if (store && (apiUp || !dsKnown))
        await report(store, entry).catch((err) => {
          if (!(err instanceof ApiError)) log.debug(`pod status update: ${(err as Error).message}`);
        });
    }
  }

  const tick = () => {
    if (busy) return;
    busy = true;
    sync()
      .catch((err: Error) => log.warn(`kubelet pod sync: ${err.message}`))
      .finally(() => {
        busy = false;
      });
  };
  tick(); // static pods start with the kubelet, not a sync period later
  const timer = setInterval(tick, 2000);
  // The rke2 process ending stops the kubelet, not the containers it started.
  return async () => clearInterval(timer);
}
