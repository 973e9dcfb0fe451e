import { isRfc1123Hostname, type KubeNode } from "@muster/shared";
import * as z from "zod";
import { reportWhile } from "../progress.ts";
import { errorLine } from "../scrub.ts";
import { type TaskContext, TaskFailed, type TaskHandler } from "../types.ts";

// Kubernetes through RKE2's kubectl and the server's admin kubeconfig (adapters/kubectl.ts), with
// kubectl's own CLI: what it prints is what these handlers read.
const KUBECTL_TIMEOUT_MS = 60_000;
const MAX_KUBECONFIG = 1_000_000;

async function ready(ctx: TaskContext, needKubectl = true): Promise<void> {
  const here = await ctx.host.kubectl.present();
  if (!here.kubeconfig) throw new TaskFailed("no admin kubeconfig here: kube tasks run on servers");
  if (needKubectl && !here.kubectl)
    throw new TaskFailed("RKE2's kubectl is missing (/var/lib/rancher/rke2/bin/kubectl): is RKE2 installed?");
}

/** Runs kubectl; a failure becomes TaskFailed with kubectl's own (scrubbed) error line. */
async function kubectl(ctx: TaskContext, args: string[], timeoutMs = KUBECTL_TIMEOUT_MS): Promise<string> {
  const r = await ctx.host.kubectl.run(args, { timeoutMs, signal: ctx.signal });
  if (r.exitCode === 0) return r.stdout;
  const what = `kubectl ${args[0]}${args[1] && !args[1].startsWith("-") ? ` ${args[1]}` : ""}`;
  if (r.timedOut) throw new TaskFailed(`${what} timed out after ${Math.round(timeoutMs / 1000)} s`);
  const line = errorLine(r.stderr) || errorLine(r.stdout);
  throw new TaskFailed(`${what} failed (exit ${r.exitCode})${line ? `: ${line}` : ""}`);
}

/** Node names are RFC 1123 names; checking it also keeps "--all" and friends out of kubectl's argv. */
function nodeName(name: string): string {
  if (!isRfc1123Hostname(name)) throw new TaskFailed(`${JSON.stringify(name)} is not a Kubernetes node name`);
  return name;
}

// Annotation keys: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters.
const ANNOTATION_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
export function isAnnotationKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  return ANNOTATION_NAME.test(name) && (prefix === null || isRfc1123Hostname(prefix));
}

const NodeListSchema = z
  .object({
    items: z.array(
      z
        .object({
          metadata: z
            .object({ name: z.string(), annotations: z.record(z.string(), z.string()).optional() })
            .loose(),
          spec: z.object({ unschedulable: z.boolean().optional() }).loose().optional(),
          status: z
            .object({
              conditions: z.array(z.object({ type: z.string(), status: z.string() }).loose()).optional(),
              nodeInfo: z.object({ kubeletVersion: z.string().optional() }).loose().optional(),
            })
            .loose()
            .optional(),
        })
        .loose(),
    ),
  })
  .loose();

/** `kubectl get nodes -o json` -> the shared KubeNode shape. */
export function parseNodeList(json: string): KubeNode[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new TaskFailed("kubectl get nodes printed something that is not JSON");
  }
  const r = NodeListSchema.safeParse(data);
  if (!r.success) throw new TaskFailed("kubectl get nodes printed JSON that is not a node list");
  return r.data.items.map((n) => {
    const ready = n.status?.conditions?.find((c) => c.type === "Ready")?.status;
    // Big annotations (last-applied-configuration, long node args) do not fit the result and are
    // not what muster reads (RKE2's etcd.rke2.cattle.io/* ones are short): they are left out.
    const annotations = Object.fromEntries(
      Object.entries(n.metadata.annotations ?? {}).filter(([k, v]) => k.length <= 253 && v.length <= 4096),
    );
    return {
      name: n.metadata.name,
      ready: ready === "True" || ready === "False" ? ready : "Unknown",
      unschedulable: n.spec?.unschedulable === true,
      kubeletVersion: (n.status?.nodeInfo?.kubeletVersion ?? "").slice(0, 64),
      annotations,
    };
  });
}

/**
 * Pods a drain removed: kubectl prints "pod/NAME evicted" (or "deleted" with --disable-eviction) as
 * each one goes, and, with --skip-wait-for-delete-timeout, "pod "NAME" has DeletionTimestamp older
 * than N seconds, skipping" for one whose kubelet is gone (it is deleted; nobody confirms it).
 */
export function countDrained(stdout: string): number {
  const pods = new Set<string>();
  for (const line of stdout.split("\n")) {
    const m =
      /^pod\/(\S+) (?:evicted|deleted)$/.exec(line.trim()) ??
      /^pod (\S+) (?:evicted|deleted)$/.exec(line.trim()) ??
      /^pod "([^"]+)" has DeletionTimestamp older than \d+ seconds, skipping$/.exec(line.trim());
    if (m) pods.add(m[1]!);
  }
  return pods.size;
}

/**
 * A lost node's kubelet never confirms a pod's end, so an ordinary drain waits out its timeout. With
 * force: DELETE instead of eviction (a PDB cannot hold pods that are already down), a 1 s grace, and
 * no waiting for pods whose deletion is older than 1 s; --force also takes unmanaged pods.
 */
export function drainArgs(node: string, timeoutSeconds: number, force: boolean): string[] {
  const args = [
    "drain",
    node,
    "--ignore-daemonsets",
    "--delete-emptydir-data",
    `--timeout=${timeoutSeconds}s`,
  ];
  if (force)
    args.push("--force", "--disable-eviction", "--grace-period=1", "--skip-wait-for-delete-timeout=1");
  return args;
}

export const kubeNodes: TaskHandler<"kube.nodes"> = async (_task, ctx) => {
  await ready(ctx);
  return { nodes: parseNodeList(await kubectl(ctx, ["get", "nodes", "-o", "json"])) };
};

export const kubeCordon: TaskHandler<"kube.cordon"> = async (task, ctx) => {
  await ready(ctx);
  await kubectl(ctx, [task.undo ? "uncordon" : "cordon", nodeName(task.node)]);
  return {};
};

export const kubeDrain: TaskHandler<"kube.drain"> = async (task, ctx) => {
  await ready(ctx);
  const args = drainArgs(nodeName(task.node), task.timeoutSeconds, task.force);
  // kubectl enforces --timeout itself; the extra margin lets it say so before we would cut it off.
  const out = await reportWhile(
    ctx,
    kubectl(ctx, args, (task.timeoutSeconds + 30) * 1000),
    (s) => `draining ${task.node}: ${s} s`,
  );
  return { evicted: countDrained(out) };
};

export const kubeAnnotate: TaskHandler<"kube.annotate"> = async (task, ctx) => {
  await ready(ctx);
  if (!isAnnotationKey(task.key))
    throw new TaskFailed(`${JSON.stringify(task.key)} is not an annotation key`);
  await kubectl(ctx, ["annotate", "node", nodeName(task.node), `${task.key}=${task.value}`, "--overwrite"]);
  return {};
};

export const kubeDeleteNode: TaskHandler<"kube.delete-node"> = async (task, ctx) => {
  await ready(ctx);
  const out = await kubectl(ctx, ["delete", "node", nodeName(task.node), "--ignore-not-found"]);
  return { existed: /\bdeleted\b/.test(out) };
};

export const kubeDeleteNodePassword: TaskHandler<"kube.delete-node-password"> = async (task, ctx) => {
  await ready(ctx);
  const secret = `${nodeName(task.node)}.node-password.rke2`;
  const out = await kubectl(ctx, ["delete", "secret", "-n", "kube-system", secret, "--ignore-not-found"]);
  return { existed: /\bdeleted\b/.test(out) };
};

// The content is the cluster admin's credential: it goes into the result and nowhere else (the
// runner neither logs nor keeps a kube.kubeconfig result).
export const kubeKubeconfig: TaskHandler<"kube.kubeconfig"> = async (_task, ctx) => {
  await ready(ctx, false);
  let kubeconfig: string | null;
  try {
    kubeconfig = await ctx.host.kubectl.readKubeconfig();
  } catch (err) {
    throw new TaskFailed(
      `could not read the admin kubeconfig: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
  if (kubeconfig === null) throw new TaskFailed("no admin kubeconfig here: kube tasks run on servers");
  if (kubeconfig.length > MAX_KUBECONFIG) throw new TaskFailed("the admin kubeconfig is larger than 1 MB");
  return { kubeconfig };
};
