import { request } from "node:https";
import { APISERVER_PORT, caHash, type Logger, parseRke2Token, SUPERVISOR_PORT } from "@muster/shared";
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

interface Reply {
  status: number;
  body: Buffer;
}

const MAX_BODY = 256 * 1024;

function get(
  url: string,
  tls: { ca?: Buffer; rejectUnauthorized: boolean },
  timeoutMs: number,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "GET", agent: false, timeout: timeoutMs, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) req.destroy(new Error(`${url}: response too large`));
        else chunks.push(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
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
      let tls: { ca?: Buffer; rejectUnauthorized: boolean } = { rejectUnauthorized: false };
      if (token.caHash === null) {
        if (!warnedBare)
          opts.logger.warn({ address }, "cluster token is a bare password: registration TLS is not verified");
        warnedBare = true;
      } else {
        const ca = await get(`https://${host}:${supervisor}/cacerts`, tls, timeoutMs);
        if (ca.status !== 200 || caHash(ca.body) !== token.caHash) {
          opts.logger.warn(
            { address, status: ca.status },
            "registration address serves a CA the cluster token does not pin",
          );
          return false;
        }
        tls = { ca: ca.body, rejectUnauthorized: true };
      }
      const ping = await get(`https://${host}:${supervisor}/ping`, tls, timeoutMs);
      if (ping.status !== 200 || ping.body.toString().trim() !== "pong") return false;
      const ready = await get(`https://${host}:${apiserver}/readyz`, tls, timeoutMs);
      return ready.status === 200 && ready.body.toString().trim() === "ok";
    } catch (err) {
      opts.logger.debug({ address, err: (err as Error).message }, "registration probe failed");
      return false;
    }
  };
}
