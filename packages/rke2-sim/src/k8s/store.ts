// Kubernetes objects kept in the real etcd at the keys the apiserver uses (/registry/minions/<node>,
// /registry/<resource>/<namespace>/<name>), as JSON rather than protobuf. resourceVersion is the key's
// mod_revision and every update is a compare-and-swap on it, so concurrent writers get the apiserver's
// 409 Conflict; a delete of an object with finalizers only sets deletionTimestamp, and the object goes
// when the last finalizer is removed (apimachinery's graceful deletion, without grace periods).
import { randomUUID } from "node:crypto";
import type { Kv } from "../rke2/etcd-kv.ts";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  [extra: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

export interface Resource {
  /** Plural, as in URLs: nodes, pods, secrets, leases, daemonsets. */
  plural: string;
  kind: string;
  apiVersion: string;
  namespaced: boolean;
  /** etcd key prefix; the apiserver keeps Nodes under "minions" for historical reasons. */
  prefix: string;
}

export const RESOURCES = {
  nodes: { plural: "nodes", kind: "Node", apiVersion: "v1", namespaced: false, prefix: "/registry/minions/" },
  pods: { plural: "pods", kind: "Pod", apiVersion: "v1", namespaced: true, prefix: "/registry/pods/" },
  secrets: {
    plural: "secrets",
    kind: "Secret",
    apiVersion: "v1",
    namespaced: true,
    prefix: "/registry/secrets/",
  },
  leases: {
    plural: "leases",
    kind: "Lease",
    apiVersion: "coordination.k8s.io/v1",
    namespaced: true,
    prefix: "/registry/leases/",
  },
  daemonsets: {
    plural: "daemonsets",
    kind: "DaemonSet",
    apiVersion: "apps/v1",
    namespaced: true,
    prefix: "/registry/daemonsets/",
  },
} as const satisfies Record<string, Resource>;

export type ResourceName = keyof typeof RESOURCES;

/** An apiserver error: becomes a metav1.Status with this code and reason. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

export const notFound = (r: Resource, name: string) =>
  new ApiError(404, "NotFound", `${r.plural} "${name}" not found`);
const conflict = (r: Resource, name: string) =>
  new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );

export const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

export class Store {
  readonly kv: Kv;
  constructor(kv: Kv) {
    this.kv = kv;
  }

  key(res: ResourceName, namespace: string | undefined, name: string): string {
    const r = RESOURCES[res];
    return r.namespaced ? `${r.prefix}${namespace ?? "default"}/${name}` : `${r.prefix}${name}`;
  }

  #decode<T extends KubeObject>(value: string, modRevision: string): T {
    const obj = JSON.parse(value) as T;
    obj.metadata.resourceVersion = modRevision;
    return obj;
  }

  #encode(obj: KubeObject): string {
    const { resourceVersion: _, ...metadata } = obj.metadata;
    return JSON.stringify({ ...obj, metadata });
  }

  async get<T extends KubeObject>(
    res: ResourceName,
    namespace: string | undefined,
    name: string,
  ): Promise<T | null> {
    const e = await this.kv.get(this.key(res, namespace, name));
    return e ? this.#decode<T>(e.value, e.modRevision) : null;
  }

  async list<T extends KubeObject>(
    res: ResourceName,
    namespace?: string,
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const r = RESOURCES[res];
    const prefix = r.namespaced && namespace ? `${r.prefix}${namespace}/` : r.prefix;
    const { revision, entries } = await this.kv.list(prefix);
    return { items: entries.map((e) => this.#decode<T>(e.value, e.modRevision)), resourceVersion: revision };
  }

  /** Creates the object (uid and creationTimestamp filled in); 409 AlreadyExists if the name is taken. */
  async create<T extends KubeObject>(res: ResourceName, obj: T): Promise<T> {
    const r = RESOURCES[res];
    const meta = {
      ...obj.metadata,
      uid: obj.metadata.uid || randomUUID(),
      creationTimestamp: obj.metadata.creationTimestamp || now(),
    };
    const full = { ...obj, apiVersion: r.apiVersion, kind: r.kind, metadata: meta } as T;
    const rev = await this.kv.putIf(this.key(res, meta.namespace, meta.name), this.#encode(full), "0");
    if (rev === null) throw new ApiError(409, "AlreadyExists", `${r.plural} "${meta.name}" already exists`);
    full.metadata.resourceVersion = rev;
    return full;
  }

  /**
   * Writes `obj` if nobody changed it since it was read (its resourceVersion); removing the last
   * finalizer of an object being deleted deletes it, as the apiserver does.
   */
  async update<T extends KubeObject>(res: ResourceName, obj: T): Promise<T | null> {
    const r = RESOURCES[res];
    const { name, namespace, resourceVersion } = obj.metadata;
    if (!resourceVersion)
      throw new ApiError(
        422,
        "Invalid",
        `${r.plural} "${name}": metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`,
      );
    const key = this.key(res, namespace, name);
    if (obj.metadata.deletionTimestamp && !obj.metadata.finalizers?.length) {
      if (!(await this.kv.deleteIf(key, resourceVersion))) throw await this.#whyNot(res, namespace, name);
      return null;
    }
    const rev = await this.kv.putIf(key, this.#encode(obj), resourceVersion);
    if (rev === null) throw await this.#whyNot(res, namespace, name);
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: rev } };
  }

  async #whyNot(res: ResourceName, namespace: string | undefined, name: string): Promise<ApiError> {
    const r = RESOURCES[res];
    return (await this.kv.get(this.key(res, namespace, name))) ? conflict(r, name) : notFound(r, name);
  }

  /**
   * Read-modify-write with retries on conflict (client-go's RetryOnConflict). `change` returns the new
   * object, or null to leave it as it is. Resolves with the stored object (null once deleted).
   */
  async mutate<T extends KubeObject>(
    res: ResourceName,
    namespace: string | undefined,
    name: string,
    change: (current: T) => T | null,
  ): Promise<T | null> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<T>(res, namespace, name);
      if (!current) throw notFound(RESOURCES[res], name);
      const next = change(structuredClone(current));
      if (next === null) return current;
      try {
        return await this.update(res, next);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "Conflict") || attempt >= 20) throw err;
      }
    }
  }

  /** Deletes, or marks for deletion while finalizers remain. Resolves with the object as left (null: gone). */
  async delete<T extends KubeObject>(
    res: ResourceName,
    namespace: string | undefined,
    name: string,
  ): Promise<T | null> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.get<T>(res, namespace, name);
      if (!current) throw notFound(RESOURCES[res], name);
      const key = this.key(res, namespace, name);
      const rv = current.metadata.resourceVersion!;
      if (current.metadata.finalizers?.length) {
        if (current.metadata.deletionTimestamp) return current;
        current.metadata.deletionTimestamp = now();
        const rev = await this.kv.putIf(key, this.#encode(current), rv);
        if (rev !== null) return { ...current, metadata: { ...current.metadata, resourceVersion: rev } };
      } else if (await this.kv.deleteIf(key, rv)) {
        return null;
      }
      if (attempt >= 20) throw conflict(RESOURCES[res], name);
    }
  }
}
