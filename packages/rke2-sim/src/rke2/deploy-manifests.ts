// RKE2's deploy controller for <data-dir>/server/manifests/: every server applies the files it finds
// there, at start and when they change, so a DaemonSet written on one server runs on every node it
// selects, including servers that never had the file. The simulator applies the DaemonSets that run
// kube-vip (the one workload it simulates from manifests) and ignores the rest (RBAC and the like).
import { createHash } from "node:crypto";
import path from "node:path";
import type { KubeObject, Store } from "../k8s/store.ts";
import { ApiError } from "../k8s/store.ts";
import { kubeVipContainer, metaOf, podSpecOf, readManifestDir } from "../kube-vip/manifest.ts";
import type { SimConfig } from "./config.ts";
import { log } from "./log.ts";

const HASH_ANNOTATION = "objectset.rio.cattle.io/applied";

export function startManifestDeployer(cfg: SimConfig, store: Store): () => void {
  const dir = path.join(cfg.dataDir, "server", "manifests");
  const warned = new Set<string>();
  const warnOnce = (m: string) => {
    if (!warned.has(m)) log.warn(m);
    warned.add(m);
  };
  let busy = false;

  async function apply(): Promise<void> {
    for (const { file, doc } of readManifestDir(dir, warnOnce)) {
      const kind = doc["kind"];
      if (kind === "Pod" && kubeVipContainer(podSpecOf(doc))) {
        warnOnce(
          `${file}: a bare kube-vip Pod in server/manifests is not simulated; use a DaemonSet or a static pod`,
        );
      }
      if (kind !== "DaemonSet" || !kubeVipContainer(podSpecOf(doc))) continue;
      const { name, namespace } = metaOf(doc);
      if (!name) continue;
      const hash = createHash("sha256").update(JSON.stringify(doc["spec"])).digest("hex");
      const existing = await store.get<KubeObject & { spec: unknown }>("daemonsets", namespace, name);
      if (existing?.metadata.annotations?.[HASH_ANNOTATION] === hash) continue;
      const meta = (doc["metadata"] ?? {}) as { labels?: Record<string, string> };
      const obj = {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: {
          name,
          namespace,
          uid: existing?.metadata.uid ?? "",
          creationTimestamp: existing?.metadata.creationTimestamp ?? "",
          ...(meta.labels ? { labels: meta.labels } : {}),
          annotations: { [HASH_ANNOTATION]: hash },
          ...(existing ? { resourceVersion: existing.metadata.resourceVersion } : {}),
        },
        spec: doc["spec"],
      };
      try {
        if (existing) await store.update("daemonsets", obj);
        else await store.create("daemonsets", obj);
        log.info(`Applied manifest ${file}: daemonset.apps/${name} in ${namespace}`);
      } catch (err) {
        // Another server applied the same file a moment ago: the next pass compares again.
        if (!(err instanceof ApiError)) throw err;
      }
    }
  }

  const tick = () => {
    if (busy) return;
    busy = true;
    apply()
      .catch((err: Error) => log.warn(`deploy controller: ${err.message}`))
      .finally(() => {
        busy = false;
      });
  };
  tick();
  const timer = setInterval(tick, 2000);
  return () => clearInterval(timer);
}
