import { caHash } from "@muster/shared";

// How an RKE2 joiner trusts a server (docs/rke2-behaviour.md#token): the cluster token carries
// sha256 of the CA PEM; fetch /cacerts without verification, compare its hash, and only then verify
// TLS against that CA. The agent's readiness gate and the coordinator's registration probe both
// decide trust here; each brings its own GET (the agent's goes through its host adapters).

export type InsecureGet = (url: string) => Promise<{ status: number; body: string | Buffer }>;

export type CaVerdict =
  | { ok: true; ca: string }
  | { ok: false; status: number; reason: "http-status" | "hash-mismatch" };

export async function fetchPinnedCa(
  getInsecure: InsecureGet,
  supervisorBase: string,
  expectedHash: string,
): Promise<CaVerdict> {
  const res = await getInsecure(`${supervisorBase}/cacerts`);
  if (res.status !== 200) return { ok: false, status: res.status, reason: "http-status" };
  if (caHash(res.body) !== expectedHash) return { ok: false, status: res.status, reason: "hash-mismatch" };
  return { ok: true, ca: res.body.toString() };
}
