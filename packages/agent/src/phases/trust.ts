import { fetchPinnedCa } from "@muster/net";
import { parseRke2Token } from "@muster/shared";
import type { HostAdapters } from "../adapters/types.ts";
import { RKE2_TOKEN_FILE } from "../rke2-paths.ts";
import { PhaseError } from "./types.ts";

// How RKE2 pins its CA (docs/rke2-behaviour.md "Token"), decided by @muster/net fetchPinnedCa: the
// token carries sha256(CA PEM); /cacerts is fetched unverified, hashed, and only then trusted.
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
  const verdict = await fetchPinnedCa(
    (url) => host.http.get(url, { insecure: true, timeoutMs: 5000 }),
    supervisorBase,
    expectedHash,
  );
  if (verdict.ok) return { ca: verdict.ca };
  if (verdict.reason === "http-status")
    throw new Error(`${supervisorBase}/cacerts answered HTTP ${verdict.status}`);
  throw new TrustMismatch(
    `the CA served at ${supervisorBase}/cacerts does not match the cluster token's CA hash: wrong server or token`,
  );
}
