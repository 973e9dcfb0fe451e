// Keys with revisions and compare-and-swap on the real etcd, through its v3 JSON gateway. This is what
// makes the simulated API behave like the apiserver's optimistic concurrency (resourceVersion = the
// key's mod_revision) and lets leader election acquire or renew a Lease atomically, as client-go does
// through the apiserver.
import { EtcdError, gateway } from "./etcd-client.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const unb64 = (s: string | undefined) => Buffer.from(s ?? "", "base64").toString();

export interface Entry {
  key: string;
  value: string;
  /** etcd's mod_revision of the key: the object's resourceVersion. */
  modRevision: string;
}

interface RawKv {
  key: string;
  value?: string;
  mod_revision?: string;
}

const toEntry = (kv: RawKv): Entry => ({
  key: unb64(kv.key),
  value: unb64(kv.value),
  modRevision: kv.mod_revision ?? "0",
});

// Errors of one member rather than of the request: the next endpoint may well answer.
const MEMBER_LOCAL =
  /not supported for learner|no leader|leader changed|request timed out|not capable|too many requests|stopped/;

/**
 * Tries each endpoint in turn until one answers. `prefer` remembers the last endpoint that worked, the
 * way etcd's client balancer sticks to a healthy connection, so a dead member costs one timeout only.
 */
export class Kv {
  readonly #endpoints: () => string[];
  readonly #timeoutMs: number;
  #prefer: string | null = null;

  constructor(endpoints: string[] | (() => string[]), timeoutMs = 5000) {
    this.#endpoints = typeof endpoints === "function" ? endpoints : () => endpoints;
    this.#timeoutMs = timeoutMs;
  }

  async call<T>(route: string, body: unknown): Promise<T> {
    const all = this.#endpoints();
    const order = this.#prefer && all.includes(this.#prefer) ? [this.#prefer, ...all] : all;
    let lastErr: unknown = new Error("no etcd endpoints");
    for (const ep of new Set(order)) {
      try {
        const r = await gateway<T>([ep], route, body, this.#timeoutMs);
        this.#prefer = ep;
        return r;
      } catch (err) {
        if (err instanceof EtcdError && !MEMBER_LOCAL.test(err.message)) throw err;
        lastErr = err;
      }
    }
    throw lastErr;
  }

  async get(key: string): Promise<Entry | null> {
    const r = await this.call<{ kvs?: RawKv[] }>("kv/range", { key: b64(key) });
    return r.kvs?.[0] ? toEntry(r.kvs[0]) : null;
  }

  async list(prefix: string): Promise<{ revision: string; entries: Entry[] }> {
    const end = Buffer.from(prefix);
    end[end.length - 1] = end[end.length - 1]! + 1;
    type R = { header: { revision: string }; kvs?: RawKv[] };
    const r = await this.call<R>("kv/range", { key: b64(prefix), range_end: end.toString("base64") });
    return { revision: r.header.revision, entries: (r.kvs ?? []).map(toEntry) };
  }

  /** Writes `value` only if the key's mod_revision is still `modRevision` ("0": the key must not exist). */
  async putIf(key: string, value: string, modRevision: string): Promise<string | null> {
    type R = { succeeded?: boolean; header: { revision: string } };
    const r = await this.call<R>("kv/txn", {
      compare: [{ target: "MOD", key: b64(key), mod_revision: modRevision, result: "EQUAL" }],
      success: [{ request_put: { key: b64(key), value: b64(value) } }],
    });
    return r.succeeded === true ? r.header.revision : null;
  }

  /** Deletes the key only if its mod_revision is still `modRevision`. */
  async deleteIf(key: string, modRevision: string): Promise<boolean> {
    const r = await this.call<{ succeeded?: boolean }>("kv/txn", {
      compare: [{ target: "MOD", key: b64(key), mod_revision: modRevision, result: "EQUAL" }],
      success: [{ request_delete_range: { key: b64(key) } }],
    });
    return r.succeeded === true;
  }
}
