// kubectl's output: the default tables (tabwriter, columns three spaces apart, upper-case headers),
// `-o wide` extra columns, `-o json|yaml` (one object, or a v1 List), `-o name` (kind/name), and
// ages as k8s.io/apimachinery's duration.HumanDuration prints them.
import { stringify } from "yaml";
import type { KubeObject } from "../k8s/store.ts";

interface AnyObj extends KubeObject {
  [k: string]: unknown;
}

export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 730) return `${d}d`;
  const y = Math.floor(d / 365);
  return d < 2920 ? `${y}y${d % 365}d` : `${y}y`;
}

const age = (o: KubeObject) => humanDuration(Date.now() - Date.parse(o.metadata.creationTimestamp));

export function table(rows: string[][], headers = true): string {
  const data = headers ? rows : rows.slice(1);
  if (!data.length) return "";
  const widths = rows[0]!.map((_, i) => Math.max(...data.map((r) => (r[i] ?? "").length)));
  const lines = data.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3)))
      .join("")
      .trimEnd(),
  );
  return `${lines.join("\n")}\n`;
}

type Node = AnyObj & {
  spec: { unschedulable?: boolean };
  status: {
    conditions: { type: string; status: string }[];
    addresses: { type: string; address: string }[];
    nodeInfo: Record<string, string>;
  };
};

function nodeRow(n: Node, wide: boolean): string[] {
  const ready = n.status.conditions.find((c) => c.type === "Ready");
  let status = ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady" : "Unknown";
  if (ready?.status === "Unknown") status = "NotReady";
  if (n.spec.unschedulable) status += ",SchedulingDisabled";
  const roles = Object.keys(n.metadata.labels ?? {})
    .filter((k) => k.startsWith("node-role.kubernetes.io/"))
    .map((k) => k.slice("node-role.kubernetes.io/".length))
    .sort();
  const row = [
    n.metadata.name,
    status,
    roles.join(",") || "<none>",
    age(n),
    n.status.nodeInfo["kubeletVersion"] ?? "",
  ];
  if (wide) {
    const addr = (t: string) => n.status.addresses.find((a) => a.type === t)?.address ?? "<none>";
    row.push(
      addr("InternalIP"),
      addr("ExternalIP"),
      n.status.nodeInfo["osImage"] ?? "<unknown>",
      n.status.nodeInfo["kernelVersion"] ?? "<unknown>",
      n.status.nodeInfo["containerRuntimeVersion"] ?? "",
    );
  }
  return row;
}

type PodObj = AnyObj & {
  spec: { nodeName?: string; containers: unknown[] };
  status: {
    phase: string;
    podIP?: string;
    containerStatuses?: {
      ready: boolean;
      restartCount: number;
      state: Record<string, { reason?: string }>;
    }[];
  };
};

function podRow(p: PodObj, wide: boolean, withNamespace: boolean): string[] {
  const cs = p.status.containerStatuses ?? [];
  const ready = `${cs.filter((c) => c.ready).length}/${p.spec.containers.length}`;
  const waiting = cs.map((c) => c.state["waiting"]?.reason).find(Boolean);
  const status = p.metadata.deletionTimestamp ? "Terminating" : (waiting ?? p.status.phase);
  const restarts = String(cs.reduce((n, c) => n + c.restartCount, 0));
  const row = [p.metadata.name, ready, status, restarts, age(p)];
  if (withNamespace) row.unshift(p.metadata.namespace ?? "");
  if (wide) row.push(p.status.podIP ?? "<none>", p.spec.nodeName ?? "<none>", "<none>", "<none>");
  return row;
}

const KIND_HEADERS: Record<string, { base: string[]; wide: string[] }> = {
  Node: {
    base: ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
    wide: ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"],
  },
  Pod: {
    base: ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
    wide: ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
  },
  Secret: { base: ["NAME", "TYPE", "DATA", "AGE"], wide: [] },
  Lease: { base: ["NAME", "HOLDER", "AGE"], wide: [] },
  DaemonSet: { base: ["NAME", "AGE"], wide: [] },
};

function row(o: AnyObj, wide: boolean, withNamespace: boolean): string[] {
  switch (o.kind) {
    case "Node":
      return nodeRow(o as Node, wide);
    case "Pod":
      return podRow(o as PodObj, wide, withNamespace);
    case "Secret": {
      const r = [
        o.metadata.name,
        String(o["type"] ?? "Opaque"),
        String(Object.keys((o["data"] as object) ?? {}).length),
        age(o),
      ];
      return withNamespace ? [o.metadata.namespace ?? "", ...r] : r;
    }
    case "Lease": {
      const r = [
        o.metadata.name,
        String((o["spec"] as { holderIdentity?: string })?.holderIdentity ?? ""),
        age(o),
      ];
      return withNamespace ? [o.metadata.namespace ?? "", ...r] : r;
    }
    default: {
      const r = [o.metadata.name, age(o)];
      return withNamespace ? [o.metadata.namespace ?? "", ...r] : r;
    }
  }
}

export function render(
  items: AnyObj[],
  kind: string,
  opts: { output: string | undefined; single: boolean; withNamespace: boolean; noHeaders: boolean },
): string {
  const out = opts.output ?? "";
  if (out === "json" || out === "yaml") {
    const value = opts.single
      ? items[0]
      : { apiVersion: "v1", items, kind: "List", metadata: { resourceVersion: "" } };
    return out === "json" ? `${JSON.stringify(value, null, 4)}\n` : stringify(value);
  }
  if (out === "name") return items.map((o) => `${o.kind.toLowerCase()}/${o.metadata.name}\n`).join("");
  const wide = out === "wide";
  const h = KIND_HEADERS[kind] ?? { base: ["NAME", "AGE"], wide: [] };
  const headers = [
    ...(opts.withNamespace && kind !== "Node" ? ["NAMESPACE"] : []),
    ...h.base,
    ...(wide ? h.wide : []),
  ];
  return table(
    [headers, ...items.map((o) => row(o, wide, opts.withNamespace && kind !== "Node"))],
    !opts.noHeaders,
  );
}
