import { caHash, parseRke2Token } from "@muster/shared";
import type { HostAdapters } from "../adapters/types.ts";
import { RKE2_TOKEN_FILE } from "../rke2-paths.ts";
import { PhaseError } from "./types.ts";

// How RKE2 pins its CA (docs/rke2-behaviour.md "Token"): the token carries sha256(CA PEM); fetch /cacerts
// without verification, check its hash, and only then trust TLS against that CA.
export interface Trust {
  /** PEM CA to verify against, or undefined when the token is bare (no CA pin: RKE2 warns too). */
  ca?: string;
  note?: string;
}

export class TrustMismatch extends PhaseError {}

/** The token's CA hash: from plan.config.token, or (init server) from RKE2's own token file. */
export async function tokenCaHash(
  host: Pick<HostAdapters, "files">,
  config: Record<string, unknown>,
): Promise<string | null | undefined> {
  const fromPlan = typeof config["token"] === "string" ? config["token"] : null;
  const raw = fromPlan ?? (await host.files.readTextIfExists(RKE2_TOKEN_FILE));
  if (raw === null) return undefined; // not known yet (init server before RKE2 wrote its token)
  try {
    return parseRke2Token(raw).caHash;
  } catch {
    throw new PhaseError("the cluster token is malformed; cannot pin the RKE2 CA");
  }
}

export async function establishTrust(
  host: Pick<HostAdapters, "http">,
  supervisorBase: string,
  expectedHash: string | null,
): Promise<Trust> {
  if (expectedHash === null)
    return { note: "token has no CA hash (bare password): TLS to RKE2 is not verified" };
  const res = await host.http.get(`${supervisorBase}/cacerts`, { insecure: true, timeoutMs: 5000 });
  if (res.status !== 200) throw new Error(`${supervisorBase}/cacerts answered HTTP ${res.status}`);
  if (caHash(res.body) !== expectedHash)
    throw new TrustMismatch(
      `the CA served at ${supervisorBase}/cacerts does not match the cluster token's CA hash: wrong server or token`,
    );
  return { ca: res.body };
}
