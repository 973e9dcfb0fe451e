// Talking to the real etcd: reads through etcd's v3 JSON gateway on the client URL (cheap enough to
// poll), membership changes through etcdctl, so logs and errors carry etcd's own words
// ("etcdserver: too many learner members in cluster").
import { execa } from "execa";

/** etcd's member list as its JSON API and `etcdctl member list -w json` answer it. */
export interface EtcdMemberList {
  members?: {
    ID: string;
    name?: string;
    peerURLs?: string[];
    clientURLs?: string[];
    isLearner?: boolean;
  }[];
}

export interface Member {
  /** Decimal uint64 as the gateway returns it; use hexId() for etcdctl. */
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface Status {
  memberId: string;
  leader: string;
  isLearner: boolean;
  raftIndex: number;
  raftAppliedIndex: number;
}

export function hexId(id: string): string {
  return BigInt(id).toString(16);
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const unb64 = (s: string | undefined) => Buffer.from(s ?? "", "base64").toString();

export class EtcdError extends Error {}

/** POSTs to the gateway of the first endpoint that answers; etcd's errors are rethrown verbatim. */
export async function gateway<T>(
  endpoints: string[],
  route: string,
  body: unknown,
  timeoutMs = 3000,
): Promise<T> {
  let lastErr: unknown = new Error("no etcd endpoints");
  for (const ep of endpoints) {
    try {
      const res = await fetch(`${ep}/v3/${route}`, {
        method: "POST",
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const json = (await res.json()) as T & { error?: string };
      if (json.error) throw new EtcdError(json.error);
      return json;
    } catch (err) {
      if (err instanceof EtcdError) throw err;
      lastErr = err;
    }
  }
  throw lastErr;
}

export async function status(endpoints: string[]): Promise<Status> {
  type R = {
    header: { member_id: string };
    leader: string;
    isLearner?: boolean;
    raftIndex: string;
    raftAppliedIndex: string;
  };
  const r = await gateway<R>(endpoints, "maintenance/status", {});
  return {
    memberId: r.header.member_id,
    leader: r.leader,
    isLearner: r.isLearner === true,
    raftIndex: Number(r.raftIndex),
    raftAppliedIndex: Number(r.raftAppliedIndex),
  };
}

export async function memberList(endpoints: string[]): Promise<Member[]> {
  const r = await gateway<EtcdMemberList>(endpoints, "cluster/member/list", {});
  return (r.members ?? []).map((m) => ({
    id: m.ID,
    name: m.name ?? "",
    peerURLs: m.peerURLs ?? [],
    clientURLs: m.clientURLs ?? [],
    isLearner: m.isLearner === true,
  }));
}

export async function put(endpoints: string[], key: string, value: string): Promise<void> {
  await gateway(endpoints, "kv/put", { key: b64(key), value: b64(value) });
}

export async function get(endpoints: string[], key: string): Promise<string | null> {
  const r = await gateway<{ kvs?: { value?: string }[] }>(endpoints, "kv/range", { key: b64(key) });
  return r.kvs?.[0] ? unb64(r.kvs[0].value) : null;
}

export async function rangePrefix(
  endpoints: string[],
  prefix: string,
): Promise<{ revision: string; kvs: [string, string][] }> {
  const end = Buffer.from(prefix);
  end[end.length - 1] = end[end.length - 1]! + 1;
  type R = { header: { revision: string }; kvs?: { key: string; value?: string }[] };
  const r = await gateway<R>(endpoints, "kv/range", { key: b64(prefix), range_end: end.toString("base64") });
  return { revision: r.header.revision, kvs: (r.kvs ?? []).map((kv) => [unb64(kv.key), unb64(kv.value)]) };
}

/** Runs etcdctl; on failure throws with etcdctl's "Error: ..." line (minus the prefix). */
export async function etcdctl(
  bin: string,
  endpoints: string[],
  args: string[],
  timeouts: { dial: string; command: string } = { dial: "3s", command: "10s" },
): Promise<string> {
  const r = await execa(
    bin,
    [
      `--endpoints=${endpoints.join(",")}`,
      `--dial-timeout=${timeouts.dial}`,
      `--command-timeout=${timeouts.command}`,
      ...args,
    ],
    {
      reject: false,
      env: { ETCDCTL_API: "3" },
    },
  );
  if (r.exitCode === 0) return r.stdout;
  const errLine =
    r.stderr
      .split("\n")
      .reverse()
      .find((l) => l.startsWith("Error:")) ?? r.stderr.trim();
  throw new EtcdError(errLine.replace(/^Error:\s*/, "") || `etcdctl exited with status ${r.exitCode}`);
}

export async function memberAddLearner(
  bin: string,
  endpoints: string[],
  name: string,
  peerURL: string,
): Promise<void> {
  // Generous timeouts (k3s gives the join 20 s): on a loaded machine a 3 s dial can run out, and a join
  // must fail on etcd's answer ("too many learner members", "unhealthy cluster"), not on the clock.
  await etcdctl(bin, endpoints, ["member", "add", name, "--learner", `--peer-urls=${peerURL}`], {
    dial: "10s",
    command: "30s",
  });
}

export async function memberPromote(bin: string, endpoints: string[], id: string): Promise<void> {
  await etcdctl(bin, endpoints, ["member", "promote", hexId(id)]);
}

export async function memberRemove(bin: string, endpoints: string[], id: string): Promise<void> {
  await etcdctl(bin, endpoints, ["member", "remove", hexId(id)]);
}

/** etcd's /health on the metrics listener: {"health":"true"}. */
export async function healthy(metricsURL: string): Promise<boolean> {
  try {
    const res = await fetch(`${metricsURL}/health`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { health?: string }).health === "true";
  } catch {
    return false;
  }
}
