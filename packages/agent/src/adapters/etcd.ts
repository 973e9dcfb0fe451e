import { type Reply, request } from "@muster/net";
import * as z from "zod";
import { RKE2_DATA_DIR } from "../rke2-paths.ts";
import type { Files } from "./types.ts";

// etcd through its v3 JSON gateway (RKE2 puts no etcdctl on the host). Member ids are uint64: the
// gateway writes them as decimal strings, muster carries them as hex (as etcdctl prints them), and
// the conversion goes through BigInt because a uint64 does not fit a JS number.
//
// RKE2's etcd serves https://127.0.0.1:2379 and wants a client certificate; the simulator's etcd is
// plain http. TLS is used whenever RKE2's etcd client certificate is on the host, and then only https
// URLs are ever called (never a downgrade); without it only plain-http URLs are called.
export const ETCD_TLS = {
  cert: `${RKE2_DATA_DIR}/server/tls/etcd/server-client.crt`,
  key: `${RKE2_DATA_DIR}/server/tls/etcd/server-client.key`,
  ca: `${RKE2_DATA_DIR}/server/tls/etcd/server-ca.crt`,
};
const LOCAL_PORT = 2379;
const TIMEOUT_MS = 5000;
/** MoveLeader returns once the new leader took over (bounded by etcd's election timeout). */
const MOVE_TIMEOUT_MS = 20_000;
const MAX_BODY = 4 * 1024 * 1024;

export interface EtcdMemberInfo {
  /** Hex, no leading zeros (etcdctl's form). */
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface EtcdStatusInfo {
  /** The answering member's id (hex). */
  memberId: string;
  /** The leader as that member sees it (hex), or null while there is none. */
  leaderId: string | null;
}

/** etcd answered with an error of its own ("etcdserver: not leader"): its words, safe to show. */
export class EtcdError extends Error {
  override name = "EtcdError";
}

/** One view of how this node reaches etcd (TLS or not), with the gateway calls it allows. */
export interface EtcdConnection {
  readonly tls: boolean;
  /** This node's own member: https://127.0.0.1:2379 or http://127.0.0.1:2379. */
  readonly local: string;
  /** Whether a URL may be called over this connection (https with TLS, plain http without). */
  allows(url: string): boolean;
  memberList(endpoint?: string): Promise<EtcdMemberInfo[]>;
  status(endpoint?: string, timeoutMs?: number): Promise<EtcdStatusInfo>;
  /** Must be sent to the current leader: any other member answers "etcdserver: not leader". */
  moveLeader(targetId: string, endpoint?: string): Promise<void>;
  memberRemove(id: string, endpoint?: string): Promise<void>;
}

export interface EtcdClient {
  /** Looks for the TLS material now: RKE2 writes it at its first start, after the agent started. */
  connect(): Promise<EtcdConnection>;
}

/** "12345678901234567890" (gateway) -> "ab54a98ceb1f0ad2". */
export function decimalIdToHex(id: string): string {
  if (!/^[0-9]{1,20}$/.test(id))
    throw new EtcdError(`etcd returned a malformed member id: ${id.slice(0, 40)}`);
  const n = BigInt(id);
  if (n >= 1n << 64n) throw new EtcdError(`etcd returned a member id beyond uint64: ${id}`);
  return n.toString(16);
}

/** "ab54a98ceb1f0ad2" -> "12345678901234567890" (for the gateway's request bodies). */
export function hexIdToDecimal(hex: string): string {
  if (!/^[0-9a-f]{1,16}$/i.test(hex)) throw new Error(`not an etcd member id: ${hex}`);
  return BigInt(`0x${hex}`).toString(10);
}

// Gateway answers are external input: parsed, never trusted. proto3 JSON omits false and empty fields.
const uint64 = z.union([z.string(), z.number().transform(String)]);
const HeaderSchema = z.object({ member_id: uint64 }).loose();
const MemberListSchema = z
  .object({
    members: z
      .array(
        z
          .object({
            ID: uint64,
            name: z.string().max(253).optional(),
            peerURLs: z.array(z.string().max(512)).max(16).optional(),
            clientURLs: z.array(z.string().max(512)).max(16).optional(),
            isLearner: z.boolean().optional(),
          })
          .loose(),
      )
      .max(128)
      .optional(),
  })
  .loose();
const StatusSchema = z.object({ header: HeaderSchema, leader: uint64.optional() }).loose();
const ErrorSchema = z.object({ error: z.string().optional(), message: z.string().optional() }).loose();

interface Tls {
  cert: string;
  key: string;
  ca: string;
}

async function post(url: string, body: unknown, tls: Tls | null, timeoutMs: number): Promise<unknown> {
  const u = new URL(url);
  const payload = JSON.stringify(body);
  let res: Reply;
  try {
    res = await request(u, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
      body: payload,
      timeoutMs,
      timeoutError: () => new Error(`no answer within ${timeoutMs} ms`),
      maxBytes: MAX_BODY,
      ...(tls ? { tls: { ca: tls.ca, cert: tls.cert, key: tls.key } } : {}),
    });
  } catch (e) {
    if (/^response body larger/.test((e as Error).message))
      throw new Error(`etcd answer larger than ${MAX_BODY} bytes`);
    throw new Error(`etcd at ${u.origin}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString("utf8"));
  } catch {
    throw new Error(`etcd at ${u.origin} answered HTTP ${res.status} without JSON`);
  }
  // A gRPC error comes back as a non-2xx status with {"error"|"message": etcd's own words}.
  const err = ErrorSchema.safeParse(json);
  const words = err.success ? (err.data.error ?? err.data.message) : undefined;
  if (res.status >= 300 || (res.status === 200 && err.success && err.data.error))
    throw new EtcdError(words ?? `etcd at ${u.origin} answered HTTP ${res.status}`);
  return json;
}

function parsed<T>(schema: z.ZodType<T>, json: unknown, what: string): T {
  const r = schema.safeParse(json);
  if (!r.success) throw new EtcdError(`etcd returned a malformed ${what} answer`);
  return r.data;
}

/** `local` moves this node's member off 127.0.0.1:2379 (tests run several members on one host). */
export function createEtcdClient(
  files: Files,
  opts: { local?: { host: string; port: number } } = {},
): EtcdClient {
  const { host, port } = opts.local ?? { host: "127.0.0.1", port: LOCAL_PORT };
  return {
    async connect(): Promise<EtcdConnection> {
      const [cert, key, ca] = await Promise.all([
        files.readTextIfExists(ETCD_TLS.cert),
        files.readTextIfExists(ETCD_TLS.key),
        files.readTextIfExists(ETCD_TLS.ca),
      ]);
      const tls = cert && key && ca ? { cert, key, ca } : null;
      const scheme = tls ? "https:" : "http:";
      const local = `${scheme}//${host}:${port}`;
      const allows = (url: string) => {
        try {
          return new URL(url).protocol === scheme;
        } catch {
          return false;
        }
      };
      const call = (route: string, body: unknown, endpoint = local, timeoutMs = TIMEOUT_MS) => {
        if (!allows(endpoint))
          throw new Error(
            `refusing ${endpoint}: this node talks to etcd over ${tls ? "https" : "http"} only`,
          );
        return post(`${endpoint.replace(/\/+$/, "")}/v3/${route}`, body, tls, timeoutMs);
      };
      return {
        tls: tls !== null,
        local,
        allows,
        async memberList(endpoint) {
          const r = parsed(MemberListSchema, await call("cluster/member/list", {}, endpoint), "member list");
          return (r.members ?? []).map((m) => ({
            id: decimalIdToHex(m.ID),
            name: m.name ?? "",
            peerURLs: m.peerURLs ?? [],
            clientURLs: m.clientURLs ?? [],
            isLearner: m.isLearner === true,
          }));
        },
        async status(endpoint, timeoutMs) {
          const r = parsed(StatusSchema, await call("maintenance/status", {}, endpoint, timeoutMs), "status");
          const leader = r.leader === undefined || r.leader === "0" ? null : decimalIdToHex(r.leader);
          return { memberId: decimalIdToHex(r.header.member_id), leaderId: leader };
        },
        async moveLeader(targetId, endpoint) {
          const body = { targetID: hexIdToDecimal(targetId) };
          await call("maintenance/transfer-leadership", body, endpoint, MOVE_TIMEOUT_MS);
        },
        async memberRemove(id, endpoint) {
          await call("cluster/member/remove", { ID: hexIdToDecimal(id) }, endpoint);
        },
      };
    },
  };
}
