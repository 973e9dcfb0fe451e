// Finding kube-vip in what RKE2 would run: DaemonSets in the files of <data-dir>/server/manifests/
// (RKE2's deploy controller applies every *.yaml/*.yml/*.json there, file names must be RFC 1123) and
// static pods in <data-dir>/agent/pod-manifests/ (the kubelet runs those itself). A pod spec is
// kube-vip's when a container's image contains "kube-vip"; its env is what kube-vip reads.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath?: string } };
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
}

export interface PodSpec {
  containers: Container[];
  nodeSelector?: Record<string, string>;
  hostNetwork?: boolean;
}

export interface ManifestDoc {
  file: string;
  doc: Record<string, unknown>;
}

const RFC1123 = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The YAML/JSON documents of a manifests directory, files in name order; bad files are reported. */
export function readManifestDir(dir: string, warn: (msg: string) => void): ManifestDoc[] {
  if (!existsSync(dir)) return [];
  const out: ManifestDoc[] = [];
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile() && /\.(ya?ml|json)$/i.test(d.name))
    .map((d) => d.name)
    .sort();
  for (const name of files) {
    const base = name.replace(/\.(ya?ml|json)$/i, "");
    if (!RFC1123.test(base)) {
      warn(`Failed to process manifest ${name}: name "${base}" is not a valid RFC 1123 name`);
      continue;
    }
    try {
      for (const d of parseAllDocuments(readFileSync(path.join(dir, name), "utf8"))) {
        if (d.errors.length) throw d.errors[0];
        const doc = d.toJS() as unknown;
        if (doc && typeof doc === "object" && !Array.isArray(doc)) {
          out.push({ file: name, doc: doc as Record<string, unknown> });
        }
      }
    } catch (err) {
      warn(`Failed to parse manifest ${name}: ${(err as Error).message}`);
    }
  }
  return out;
}

/** The pod spec of a Pod or DaemonSet document. */
export function podSpecOf(doc: Record<string, unknown>): PodSpec | null {
  const spec = doc["spec"] as Record<string, unknown> | undefined;
  if (!spec) return null;
  const podSpec =
    doc["kind"] === "DaemonSet"
      ? ((spec["template"] as Record<string, unknown> | undefined)?.["spec"] as PodSpec | undefined)
      : doc["kind"] === "Pod"
        ? (spec as unknown as PodSpec)
        : undefined;
  return podSpec && Array.isArray(podSpec.containers) ? podSpec : null;
}

export function kubeVipContainer(spec: PodSpec | null): Container | null {
  return spec?.containers.find((c) => typeof c.image === "string" && c.image.includes("kube-vip")) ?? null;
}

/** Container env as the process sees it; fieldRef spec.nodeName resolves to the node's name. */
export function resolveEnv(container: Container, nodeName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (typeof e.name !== "string") continue;
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom?.fieldRef?.fieldPath === "spec.nodeName") env[e.name] = nodeName;
  }
  return env;
}

export function metaOf(doc: Record<string, unknown>): { name: string; namespace: string } {
  const m = (doc["metadata"] ?? {}) as { name?: unknown; namespace?: unknown };
  return {
    name: typeof m.name === "string" ? m.name : "",
    namespace: typeof m.namespace === "string" ? m.namespace : "default",
  };
}
