// kubectl get / cordon / uncordon / annotate / label / delete / version, with kubectl's messages
// ("node/n1 cordoned", `node "n1" deleted`, "No resources found in kube-system namespace.").
import type { KubeObject } from "../k8s/store.ts";
import { boolFlag, type Parsed, parseDuration, UsageError } from "./args.ts";
import { ApiFailure, type Client, KubectlError } from "./client.ts";
import { render } from "./print.ts";

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

interface ResourceType {
  kind: string;
  singular: string;
  plural: string;
  namespaced: boolean;
  base: string;
}

const TYPES: ResourceType[] = [
  { kind: "Node", singular: "node", plural: "nodes", namespaced: false, base: "/api/v1" },
  { kind: "Pod", singular: "pod", plural: "pods", namespaced: true, base: "/api/v1" },
  { kind: "Secret", singular: "secret", plural: "secrets", namespaced: true, base: "/api/v1" },
  {
    kind: "Lease",
    singular: "lease",
    plural: "leases",
    namespaced: true,
    base: "/apis/coordination.k8s.io/v1",
  },
  { kind: "DaemonSet", singular: "daemonset", plural: "daemonsets", namespaced: true, base: "/apis/apps/v1" },
];
const ALIASES: Record<string, string> = { no: "nodes", po: "pods", ds: "daemonsets" };

export function resourceType(word: string | undefined): ResourceType {
  if (!word) throw new UsageError("You must specify the type of resource to get.");
  const w = ALIASES[word] ?? word.toLowerCase().split(".")[0]!;
  const t = TYPES.find((x) => x.plural === w || x.singular === w);
  if (!t) throw new KubectlError(`error: the server doesn't have a resource type "${word}"`);
  return t;
}

function collectionPath(t: ResourceType, namespace: string | null): string {
  return t.namespaced && namespace
    ? `${t.base}/namespaces/${encodeURIComponent(namespace)}/${t.plural}`
    : `${t.base}/${t.plural}`;
}

function objectPath(t: ResourceType, namespace: string, name: string): string {
  return `${collectionPath(t, t.namespaced ? namespace : null)}/${encodeURIComponent(name)}`;
}

export const namespaceOf = (p: Parsed) => p.flags.get("namespace") ?? "default";

export async function get(c: Client, p: Parsed, io: Io): Promise<number> {
  const [word, ...names] = p.args;
  const t = resourceType(word);
  const all = boolFlag(p.flags, "all-namespaces");
  const ns = namespaceOf(p);
  const output = p.flags.get("output");
  if (output && !["json", "yaml", "wide", "name"].includes(output)) {
    throw new KubectlError(
      `error: unable to match a printer suitable for the output format "${output}", allowed formats are: json,name,wide,yaml`,
    );
  }
  const opts = { output, noHeaders: boolFlag(p.flags, "no-headers") };
  if (names.length) {
    const items: KubeObject[] = [];
    let failed = false;
    for (const name of names) {
      try {
        items.push(await c.request<KubeObject>("GET", objectPath(t, ns, name)));
      } catch (err) {
        if (!(err instanceof ApiFailure)) throw err;
        io.err(`Error from server (${err.status.reason}): ${err.status.message}\n`);
        failed = true;
      }
    }
    if (items.length)
      io.out(render(items as never, t.kind, { ...opts, single: names.length === 1, withNamespace: false }));
    return failed ? 1 : 0;
  }
  const q = new URLSearchParams();
  const fs = p.flags.get("field-selector");
  const ls = p.flags.get("selector");
  if (fs) q.set("fieldSelector", fs);
  if (ls) q.set("labelSelector", ls);
  const path = collectionPath(t, all ? null : ns) + (q.size ? `?${q}` : "");
  const list = await c.request<{ items: KubeObject[] }>("GET", path);
  if (!list.items.length && output !== "json" && output !== "yaml") {
    io.err(t.namespaced && !all ? `No resources found in ${ns} namespace.\n` : "No resources found\n");
    return 0;
  }
  io.out(render(list.items as never, t.kind, { ...opts, single: false, withNamespace: all && t.namespaced }));
  return 0;
}

async function patchNode(c: Client, name: string, patch: unknown): Promise<KubeObject> {
  return c.request(
    "PATCH",
    objectPath(resourceType("node"), "", name),
    patch,
    "application/strategic-merge-patch+json",
  );
}

export async function cordon(c: Client, p: Parsed, io: Io, on: boolean): Promise<number> {
  const names = p.args;
  if (!names.length) throw new UsageError(`error: resource(s) were provided, but no name was specified`);
  for (const name of names) {
    const node = await c.request<{ spec: { unschedulable?: boolean } }>(
      "GET",
      objectPath(resourceType("node"), "", name),
    );
    if ((node.spec.unschedulable === true) === on) {
      io.out(`node/${name} already ${on ? "cordoned" : "uncordoned"}\n`);
      continue;
    }
    await patchNode(c, name, { spec: { unschedulable: on ? true : null } });
    io.out(`node/${name} ${on ? "cordoned" : "uncordoned"}\n`);
  }
  return 0;
}

/** kubectl annotate|label TYPE NAME k=v ... k- [--overwrite]. */
export async function annotate(
  c: Client,
  p: Parsed,
  io: Io,
  field: "annotations" | "labels",
): Promise<number> {
  const [word, name, ...pairs] = p.args;
  const t = resourceType(word);
  if (!name || !pairs.length)
    throw new UsageError(
      `error: one or more resources must be specified as <resource> <name> or <resource>/<name>`,
    );
  const set: Record<string, string | null> = {};
  for (const kv of pairs) {
    if (kv.endsWith("-")) set[kv.slice(0, -1)] = null;
    else if (kv.includes("=")) set[kv.slice(0, kv.indexOf("="))] = kv.slice(kv.indexOf("=") + 1);
    else throw new UsageError(`error: invalid ${field === "labels" ? "label" : "annotation"} format: ${kv}`);
  }
  const path = objectPath(t, namespaceOf(p), name);
  const current = await c.request<KubeObject>("GET", path);
  const have = (current.metadata[field] ?? {}) as Record<string, string>;
  if (!boolFlag(p.flags, "overwrite")) {
    const clash = Object.entries(set).filter(([k, v]) => v !== null && k in have && have[k] !== v);
    if (clash.length) {
      const what = field === "labels" ? "label" : "annotation";
      const [k] = clash[0]!;
      throw new KubectlError(
        `error: ${field === "labels" ? `'${k}' already has a value (${have[k]}), and --overwrite is false` : `--overwrite is false but found the following declared ${what}(s): '${k}' already has a value (${have[k]})`}`,
      );
    }
  }
  await c.request("PATCH", path, { metadata: { [field]: set } }, "application/merge-patch+json");
  io.out(`${t.singular}/${name} ${field === "labels" ? "labeled" : "annotated"}\n`);
  return 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function del(c: Client, p: Parsed, io: Io): Promise<number> {
  const [word, ...names] = p.args;
  const t = resourceType(word);
  if (!names.length) throw new UsageError(`error: resource(s) were provided, but no name was specified`);
  const wait = boolFlag(p.flags, "wait", true);
  const timeoutMs = p.flags.has("timeout") ? parseDuration(p.flags.get("timeout")!) : 0;
  const ignore = boolFlag(p.flags, "ignore-not-found");
  let rc = 0;
  for (const name of names) {
    const path = objectPath(t, namespaceOf(p), name);
    let uid = "";
    try {
      const left = await c.request<KubeObject | null>("DELETE", path);
      uid = left?.metadata?.uid ?? "";
    } catch (err) {
      if (err instanceof ApiFailure && err.status.code === 404 && ignore) continue;
      if (!(err instanceof ApiFailure)) throw err;
      io.err(`Error from server (${err.status.reason}): ${err.status.message}\n`);
      rc = 1;
      continue;
    }
    io.out(`${t.singular} "${name}" deleted\n`);
    if (!wait) continue;
    // --wait: until the object (this one, by uid) is gone, e.g. once controllers removed their finalizers.
    const deadline = timeoutMs ? Date.now() + timeoutMs : Date.now() + 24 * 3_600_000;
    for (;;) {
      try {
        const o = await c.request<KubeObject>("GET", path);
        if (uid && o.metadata.uid !== uid) break;
      } catch (err) {
        if (err instanceof ApiFailure && err.status.code === 404) break;
        throw err;
      }
      if (Date.now() > deadline)
        throw new KubectlError(`error: timed out waiting for the condition on ${t.plural}/${name}`);
      await sleep(250);
    }
  }
  return rc;
}

export async function version(c: Client, p: Parsed, io: Io): Promise<number> {
  const client = process.env["KUBECTL_SIM_VERSION"] || "v1.33.5+rke2r1";
  io.out(`Client Version: ${client}\nKustomize Version: v5.6.0\n`);
  if (boolFlag(p.flags, "client")) return 0;
  const v = await c.request<{ gitVersion: string }>("GET", "/version");
  io.out(`Server Version: ${v.gitVersion}\n`);
  return 0;
}
