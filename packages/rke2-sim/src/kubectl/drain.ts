// kubectl drain NODE (k8s.io/kubectl/pkg/drain): cordon, list the node's pods, then sort them with
// drain's filters: mirror pods are skipped silently; DaemonSet pods need --ignore-daemonsets (then
// skipped with a warning); pods with emptyDir need --delete-emptydir-data; pods without a controller
// need --force. Any pod refused stops the drain (the node stays cordoned, exit 1). The rest are
// evicted (the Eviction subresource) and waited for until gone, up to --timeout.
import { boolFlag, type Parsed, parseDuration, UsageError } from "./args.ts";
import { ApiFailure, type Client, KubectlError } from "./client.ts";
import { cordon, type Io } from "./verbs.ts";

interface PodLite {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; controller?: boolean }[];
  };
  spec: { volumes?: { emptyDir?: unknown }[] };
  status: { phase: string };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function drain(c: Client, p: Parsed, io: Io): Promise<number> {
  const [name, ...extra] = p.args;
  if (!name || extra.length) throw new UsageError("error: USAGE: drain NODE [flags]");
  const ignoreDs = boolFlag(p.flags, "ignore-daemonsets");
  const emptyDir = boolFlag(p.flags, "delete-emptydir-data") || boolFlag(p.flags, "delete-local-data");
  const force = boolFlag(p.flags, "force");
  const timeoutMs = p.flags.has("timeout") ? parseDuration(p.flags.get("timeout")!) : 0;
  await cordon(c, { ...p, args: [name] }, io, true);

  const q = new URLSearchParams({ fieldSelector: `spec.nodeName=${name}` });
  const pods = (await c.request<{ items: PodLite[] }>("GET", `/api/v1/pods?${q}`)).items;
  const ds: string[] = [];
  const local: string[] = [];
  const unmanaged: string[] = [];
  const toEvict: PodLite[] = [];
  for (const pod of pods) {
    const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (pod.metadata.annotations?.["kubernetes.io/config.mirror"]) continue;
    const terminal = pod.status.phase === "Succeeded" || pod.status.phase === "Failed";
    const ctrl = pod.metadata.ownerReferences?.find((o) => o.controller);
    if (!terminal && ctrl?.kind === "DaemonSet") {
      ds.push(id);
      continue;
    }
    if (!terminal && !ctrl) unmanaged.push(id);
    if (!terminal && pod.spec.volumes?.some((v) => v.emptyDir)) local.push(id);
    toEvict.push(pod);
  }
  const errors: string[] = [];
  if (ds.length && !ignoreDs)
    errors.push(`cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${ds.join(", ")}`);
  if (local.length && !emptyDir)
    errors.push(
      `cannot delete Pods with local storage (use --delete-emptydir-data to override): ${local.join(", ")}`,
    );
  if (unmanaged.length && !force)
    errors.push(
      `cannot delete Pods that declare no controller (use --force to override): ${unmanaged.join(", ")}`,
    );
  if (errors.length) {
    io.err(
      `error: unable to drain node "${name}" due to error: [${errors.join(", ")}], continuing command...\n`,
    );
    io.err(`There are pending nodes to be drained:\n ${name}\n`);
    for (const e of errors) io.err(`${e}\n`);
    return 1;
  }
  const warnings: string[] = [];
  if (ds.length) warnings.push(`ignoring DaemonSet-managed Pods: ${ds.join(", ")}`);
  if (local.length) warnings.push(`deleting Pods with local storage: ${local.join(", ")}`);
  if (unmanaged.length) warnings.push(`deleting Pods that declare no controller: ${unmanaged.join(", ")}`);
  if (warnings.length) io.err(`Warning: ${warnings.join("; ")}\n`);

  const deadline = timeoutMs ? Date.now() + timeoutMs : Number.POSITIVE_INFINITY;
  for (const pod of toEvict) {
    const { namespace, name: podName } = pod.metadata;
    io.out(`evicting pod ${namespace}/${podName}\n`);
    const path = `/api/v1/namespaces/${namespace}/pods/${podName}`;
    try {
      await c.request("POST", `${path}/eviction`, {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: podName, namespace },
      });
    } catch (err) {
      if (!(err instanceof ApiFailure && err.status.code === 404)) throw err;
    }
  }
  for (const pod of toEvict) {
    const { namespace, name: podName, uid } = pod.metadata;
    const path = `/api/v1/namespaces/${namespace}/pods/${podName}`;
    for (;;) {
      try {
        const cur = await c.request<PodLite>("GET", path);
        if (cur.metadata.uid !== uid) break;
      } catch (err) {
        if (err instanceof ApiFailure && err.status.code === 404) break;
        throw err;
      }
      if (Date.now() > deadline) {
        throw new KubectlError(
          `error: unable to drain node "${name}" due to error: error when waiting for pod "${podName}" in namespace "${namespace}" to terminate: global timeout reached: ${p.flags.get("timeout")}, continuing command...\nThere are pending nodes to be drained:\n ${name}`,
        );
      }
      await sleep(200);
    }
    io.out(`pod/${podName} evicted\n`);
  }
  io.out(`node/${name} drained\n`);
  return 0;
}
