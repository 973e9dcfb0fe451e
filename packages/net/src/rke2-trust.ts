import { caHash } from "@muster/shared";

// How an RKE2 joiner trusts a server (docs/rke2-behaviour.md#token): the cluster token carries
// sha256 of the CA PEM; fetch /cacerts without verification, compare its hash, and only then verify
// TLS against that CA. The agent's readiness gate and the coordinator's registration probe both
// decide trust here, and ask rke2Ready below whether RKE2 answers; each brings its own GET (the
// agent's goes through its host adapters).

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

/** GET expecting 200 and `want` as the (trimmed) body: null when so, else what answered instead. */
export async function expectBody(get: InsecureGet, url: string, want: string): Promise<string | null> {
  try {
    const res = await get(url);
    const body = res.body.toString().trim();
    if (res.status === 200 && body === want) return null;
    return `${url} answered HTTP ${res.status} ${body.slice(0, 80)}`.trim();
  } catch (err) {
    return `${url}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * RKE2's ready answer, as a joiner sees it (docs/rke2-behaviour.md): the supervisor's /ping says
 * pong, then the apiserver's /readyz says ok, both over TLS verified against the pinned CA (the
 * caller's GETs carry it). The agent's readiness gate and the coordinator's registration probe both
 * ask here. Null when ready, else the first reason it is not.
 */
export async function rke2Ready(
  get: { supervisor: InsecureGet; apiserver: InsecureGet },
  supervisorBase: string,
  apiserverBase: string,
): Promise<string | null> {
  return (
    (await expectBody(get.supervisor, `${supervisorBase}/ping`, "pong")) ??
    (await expectBody(get.apiserver, `${apiserverBase}/readyz`, "ok"))
  );
}
