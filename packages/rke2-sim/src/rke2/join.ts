// The joining side of docs/rke2-behaviour.md "How a server joins": validate the token against /cacerts, compare
// critical config, fetch server-bootstrap, then `etcd member add --learner` (older-release behaviour:
// an etcd error ends the process; systemd's Restart=always tries again).
import type { SimConfig } from "./config.ts";
import { CRITICAL_KEY_NAMES, criticalArgs } from "./context.ts";
import type { Knobs } from "./env.ts";
import { memberAddLearner } from "./etcd-client.ts";
import { type Credentials, HttpError, request } from "./http.ts";
import { FatalError, log } from "./log.ts";
import type { KeyPair } from "./pki.ts";
import { caHash, parseToken } from "./token.ts";

export interface ClusterAccess {
  base: string;
  ca: KeyPair;
  auth: Credentials;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function serverBase(server: string): string {
  const url = new URL(server);
  if (url.protocol !== "https:")
    throw new FatalError(`only https:// URLs are supported, invalid scheme: ${server}`);
  return `${url.protocol}//${url.host}`;
}

/** Fetches /cacerts without verification and pins it to the token's CA hash (when it has one). */
export async function fetchTrustedCA(base: string, token: string): Promise<string> {
  const parsed = parseToken(token);
  const cacerts = await request(`${base}/cacerts`);
  if (parsed.caHash === null) {
    log.warn(
      "Cluster CA certificate is not trusted by the host CA bundle, but the token does not include a CA hash. Use the full token from the server's node-token file to enable Cluster CA validation.",
    );
  } else if (caHash(cacerts) !== parsed.caHash) {
    throw new FatalError(
      `failed to validate token: token CA hash does not match the Cluster CA certificate hash: ${parsed.caHash} != ${caHash(cacerts)}`,
    );
  }
  return cacerts;
}

export async function bootstrapFromServer(cfg: SimConfig): Promise<ClusterAccess> {
  const base = serverBase(cfg.server!);
  const token = parseToken(cfg.token!);
  let cacerts: string;
  try {
    cacerts = await fetchTrustedCA(base, cfg.token!);
  } catch (err) {
    if (err instanceof FatalError) throw err;
    throw new FatalError(
      `Failed to validate connection to cluster at ${base}: failed to get CA certs: ${(err as Error).message}`,
    );
  }
  const auth = { username: token.username, password: token.password };
  let remote: { CriticalControlArgs: Record<string, unknown> };
  try {
    remote = JSON.parse(await request(`${base}/v1-rke2/config`, { ca: cacerts, auth }));
  } catch (err) {
    throw new FatalError(`failed to validate server configuration: ${(err as Error).message}`);
  }
  const local = criticalArgs(cfg);
  const mismatched = Object.keys(local).filter((k) => remote.CriticalControlArgs[k] !== local[k]);
  if (mismatched.length) {
    for (const k of mismatched) {
      const show = (v: unknown) => (k === "AgentTokenHash" ? (v ? "<set>" : "<unset>") : JSON.stringify(v));
      log.error(
        `Critical configuration mismatch: ${CRITICAL_KEY_NAMES[k]}: server has ${show(remote.CriticalControlArgs[k])}, this node has ${show(local[k])}`,
      );
    }
    const names = mismatched.map((k) => CRITICAL_KEY_NAMES[k]).join(", ");
    throw new FatalError(
      `failed to validate server configuration: critical configuration value mismatch between servers: ${names}`,
    );
  }
  let files: Record<string, { Content: string }>;
  try {
    files = JSON.parse(await request(`${base}/v1-rke2/server-bootstrap`, { ca: cacerts, auth }));
  } catch (err) {
    throw new FatalError(`failed to get server bootstrap data: ${(err as Error).message}`);
  }
  const decode = (name: string) => Buffer.from(files[name]?.Content ?? "", "base64").toString();
  return { base, ca: { certPem: decode("ServerCA") || cacerts, keyPem: decode("ServerCAKey") }, auth };
}

interface DbMember {
  ID: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

async function dbInfo(access: ClusterAccess): Promise<DbMember[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const raw = await request(`${access.base}/db/info`, { ca: access.ca.certPem, auth: access.auth });
      // uint64 member IDs exceed JS number precision: keep their digits as strings.
      return (JSON.parse(raw.replace(/"ID":(\d+)/g, '"ID":"$1"')) as { members: DbMember[] }).members;
    } catch (err) {
      if (err instanceof HttpError && (err.status === 401 || err.status === 403)) {
        throw new FatalError(`etcd cluster join failed: ${err.message}`);
      }
      if (attempt >= 60) throw new FatalError(`etcd cluster join failed: ${(err as Error).message}`);
      log.info(`Waiting to retrieve etcd cluster member list: ${(err as Error).message}`);
      await sleep(1000);
    }
  }
}

/** Adds this node as a learner (unless a crashed earlier run already did) and returns --initial-cluster. */
export async function joinEtcd(
  cfg: SimConfig,
  knobs: Knobs,
  access: ClusterAccess,
  peerURL: string,
): Promise<string> {
  const members = await dbInfo(access);
  const cluster: string[] = [];
  let add = true;
  for (const m of members) {
    const peers = m.peerURLs ?? [];
    const ours = peers.some((p) => new URL(p).hostname === cfg.nodeIP);
    // An added member that never started has no name; if it has our address it is us.
    const name = m.name || (ours ? cfg.nodeName : "");
    if (name === cfg.nodeName && ours) add = false;
    if (name === cfg.nodeName && !ours) {
      throw new FatalError(
        "etcd cluster join failed: duplicate node name found, please use a unique name for this node",
      );
    }
    if (peers[0]) cluster.push(`${name}=${peers[0]}`);
  }
  if (add) {
    const endpoints = members.filter((m) => !m.isLearner).flatMap((m) => m.clientURLs ?? []);
    log.info(`Adding member ${cfg.nodeName}=${peerURL} to etcd cluster [${cluster.join(" ")}]`);
    try {
      await memberAddLearner(knobs.etcdctlBin, endpoints, cfg.nodeName, peerURL);
    } catch (err) {
      throw new FatalError(`etcd cluster join failed: ${(err as Error).message}`);
    }
    cluster.push(`${cfg.nodeName}=${peerURL}`);
  }
  log.info(`Starting etcd to join cluster with members [${cluster.join(" ")}]`);
  return cluster.join(",");
}
