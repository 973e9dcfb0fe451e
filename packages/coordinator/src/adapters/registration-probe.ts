import { fetchPinnedCa, type Reply, request, rke2Ready } from "@muster/net";
import { APISERVER_PORT, type Logger, parseRke2Token, SUPERVISOR_PORT } from "@muster/shared";
import type { RegistrationProbe } from "../domain/registration/probe.ts";

// Is the registration address up, as a joining RKE2 node would see it? (docs/rke2-behaviour.md: workers need
// it healthy on 9345 and 6443.) Like an RKE2 joiner, trust the server only after the CA it serves at
// /cacerts hashes to the value pinned in the cluster token; then :9345/ping must say pong and
// :6443/readyz ok over TLS verified against that CA. A bare-password token pins nothing, so TLS is
// not verified (logged once, as RKE2 warns too).

export interface ProbeOptions {
  token: () => string | null;
  logger: Logger;
  timeoutMs?: number;
  /** RKE2's ports; other values only for tests. */
  ports?: { supervisor: number; apiserver: number };
}

const MAX_BODY = 256 * 1024;

type Tls = { ca?: string; rejectUnauthorized: boolean };

function get(url: string, tls: Tls, timeoutMs: number): Promise<Reply> {
  return request(url, {
    tls,
    timeoutMs,
    maxBytes: MAX_BODY,
    timeoutError: () => new Error(`${url}: no answer within ${timeoutMs} ms`),
  });
}

function hostPart(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

export function createRegistrationProbe(opts: ProbeOptions): RegistrationProbe {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const { supervisor, apiserver } = opts.ports ?? { supervisor: SUPERVISOR_PORT, apiserver: APISERVER_PORT };
  let warnedBare = false;

  return async (address) => {
    const raw = opts.token();
    if (raw === null) return false; // nothing to verify the cluster against yet
    const token = parseRke2Token(raw);
    const host = hostPart(address);
    try {
      let tls: Tls = { rejectUnauthorized: false };
      if (token.caHash === null) {
        if (!warnedBare)
          opts.logger.warn({ address }, "cluster token is a bare password: registration TLS is not verified");
        warnedBare = true;
      } else {
        const ca = await fetchPinnedCa(
          (url) => get(url, tls, timeoutMs),
          `https://${host}:${supervisor}`,
          token.caHash,
        );
        if (!ca.ok) {
          opts.logger.warn(
            { address, status: ca.status },
            "registration address serves a CA the cluster token does not pin",
          );
          return false;
        }
        tls = { ca: ca.ca, rejectUnauthorized: true };
      }
      const probe = (url: string) => get(url, tls, timeoutMs);
      const why = await rke2Ready(
        { supervisor: probe, apiserver: probe },
        `https://${host}:${supervisor}`,
        `https://${host}:${apiserver}`,
      );
      if (why !== null) opts.logger.debug({ address, why }, "registration address not ready");
      return why === null;
    } catch (err) {
      opts.logger.debug({ address, err: (err as Error).message }, "registration probe failed");
      return false;
    }
  };
}
