import { expectBody, type InsecureGet, rke2Ready } from "@muster/net";
import type { NodePlan } from "@muster/shared";
import { APISERVER_PORT, SUPERVISOR_PORT } from "@muster/shared";
import type { HostAdapters, HttpGetOptions } from "../adapters/types.ts";
import { RKE2_ADMIN_CLIENT, RKE2_KUBELET_CLIENT } from "../rke2-paths.ts";
import { establishTrust, type Trust, tokenCaHash } from "./trust.ts";

// The readiness gate of docs/rke2-behaviour.md, one probe round at a time. Returns null when ready, or the
// first reason it is not (shown in the phase message when the gate times out).
type Host = Pick<HostAdapters, "http" | "systemd" | "files">;
const TIMEOUT = 5000;

const hostPort = (host: string, port: number) => `https://${host.includes(":") ? `[${host}]` : host}:${port}`;

export function nodeIp(plan: NodePlan): string {
  const ip = plan.config["node-ip"];
  return typeof ip === "string" && ip !== "" ? ip : "127.0.0.1";
}

/** etcd member list as /db/info serves it: is this node a voting member? */
export function etcdMembership(body: string, plan: NodePlan): "voter" | "learner" | "absent" {
  let doc: { members?: Array<{ name?: string; peerURLs?: string[]; isLearner?: boolean }> };
  try {
    doc = JSON.parse(body);
  } catch {
    return "absent";
  }
  const ip = nodeIp(plan);
  // RKE2 names members "<node-name>-<8 hex>"; the peer URL carries the node IP.
  const me = (doc.members ?? []).find(
    (m) =>
      (m.name !== undefined && (m.name === plan.node || m.name.startsWith(`${plan.node}-`))) ||
      (m.peerURLs ?? []).some((u) => u.startsWith(`${hostPort(ip, 2380)}`)),
  );
  if (!me) return "absent";
  return me.isLearner ? "learner" : "voter";
}

async function clientCert(host: Host, pair: { cert: string; key: string }) {
  const [cert, key] = await Promise.all([
    host.files.readTextIfExists(pair.cert),
    host.files.readTextIfExists(pair.key),
  ]);
  return cert && key ? { cert, key } : {};
}

/** A GET for the probes: a client certificate on 401 (the apiserver asks for one). */
function getter(host: Host, opts: HttpGetOptions, client?: { cert: string; key: string }): InsecureGet {
  return async (url) => {
    const res = await host.http.get(url, { ...opts, timeoutMs: TIMEOUT });
    if (res.status === 401 && client)
      return host.http.get(url, { ...opts, ...(await clientCert(host, client)) });
    return res;
  };
}

const tlsOpts = (trust: Trust): HttpGetOptions => (trust.ca ? { ca: trust.ca } : { insecure: true });

export async function probeServer(
  host: Host,
  plan: NodePlan,
  trustCache: { trust?: Trust },
): Promise<string | null> {
  if (!(await host.systemd.isActive(plan.service))) return `${plan.service} is not active`;
  const local = hostPort("127.0.0.1", SUPERVISOR_PORT);
  if (!trustCache.trust) {
    const hash = await tokenCaHash(host, plan.config);
    if (hash === undefined) return "the RKE2 token file does not exist yet";
    trustCache.trust = await establishTrust(host, local, hash);
  }
  const tls = tlsOpts(trustCache.trust);
  const ready = await rke2Ready(
    { supervisor: getter(host, tls), apiserver: getter(host, tls, RKE2_ADMIN_CLIENT) },
    local,
    hostPort(nodeIp(plan), APISERVER_PORT),
  );
  if (ready) return ready;
  try {
    const res = await host.http.get(`${local}/db/info`, { ...tls, timeoutMs: TIMEOUT });
    if (res.status !== 200) return `${local}/db/info answered HTTP ${res.status}`;
    const membership = etcdMembership(res.body, plan);
    if (membership === "absent") return "this node is not an etcd member yet";
    if (membership === "learner")
      return "this node is still an etcd learner (waiting for promotion to voter)";
  } catch (err) {
    return `${local}/db/info: ${err instanceof Error ? err.message : String(err)}`;
  }
  return null;
}

export async function probeAgent(
  host: Host,
  plan: NodePlan,
  trustCache: { trust?: Trust },
): Promise<string | null> {
  if (!(await host.systemd.isActive(plan.service))) return `${plan.service} is not active`;
  const kubelet = await expectBody(getter(host, {}), "http://127.0.0.1:10248/healthz", "ok");
  if (kubelet) return `kubelet not healthy: ${kubelet}`;
  const reg = plan.readiness.registrationAddress;
  if (!reg) return null;
  const supervisor = hostPort(reg, SUPERVISOR_PORT);
  if (!trustCache.trust) {
    const hash = await tokenCaHash(host, plan.config);
    trustCache.trust = await establishTrust(host, supervisor, hash ?? null);
  }
  const tls = tlsOpts(trustCache.trust);
  return rke2Ready(
    { supervisor: getter(host, tls), apiserver: getter(host, tls, RKE2_KUBELET_CLIENT) },
    supervisor,
    hostPort(reg, APISERVER_PORT),
  );
}
