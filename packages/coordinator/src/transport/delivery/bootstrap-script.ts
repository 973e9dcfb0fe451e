import { readFileSync } from "node:fs";
import { PIN_PATTERN } from "@muster/shared";

// Renders GET /v1/bootstrap.sh: the POSIX sh template with the coordinator URL, its key pin and the
// agent bundle checksums filled in. The script is public (no auth), so nothing secret goes in; every
// value is validated here so nothing a misconfiguration passes can break out of its shell quotes.

export type Arch = "amd64" | "arm64";
export const ARCHES: readonly Arch[] = ["amd64", "arm64"];

export interface BootstrapScriptOptions {
  /** Base URL the nodes reach the coordinator at, e.g. https://10.0.0.5:9443 */
  coordinatorUrl: string;
  /** curl --pinnedpubkey form: sha256//<base64 SPKI hash> */
  pin: string;
  /** sha256 (hex) of muster-agent-linux-<arch>.tar.gz; an arch without one is refused by the script. */
  checksums: Partial<Record<Arch, string>>;
  agentVersion: string;
}

const SHA256_HEX = /^[a-f0-9]{64}$/;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;
// Host (name, IPv4 or [IPv6]), optional port and path: no quote, space, $ or backtick can appear.
const SAFE_URL = /^https:\/\/[A-Za-z0-9.\-[\]:]+(\/[A-Za-z0-9._~\-/]*)?$/;

let template: string | undefined;
function loadTemplate(): string {
  template ??= readFileSync(new URL("./bootstrap.sh.tmpl", import.meta.url), "utf8");
  return template;
}

/** Single-quotes a value for sh (validated values never hold a quote; this is belt and braces). */
function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Checks and normalises the coordinator URL (no trailing slash). Throws naming the bad value. */
export function normaliseCoordinatorUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  if (!SAFE_URL.test(trimmed) || !URL.canParse(trimmed)) {
    throw new Error(`bootstrap: coordinatorUrl must be a plain https:// URL, got ${JSON.stringify(url)}`);
  }
  return trimmed;
}

function checkPin(pin: string): void {
  if (!PIN_PATTERN.test(pin))
    throw new Error(`bootstrap: pin must be sha256//<base64>, got ${JSON.stringify(pin)}`);
}

export function renderBootstrapScript(opts: BootstrapScriptOptions): string {
  const url = normaliseCoordinatorUrl(opts.coordinatorUrl);
  checkPin(opts.pin);
  if (!VERSION.test(opts.agentVersion)) {
    throw new Error(`bootstrap: agentVersion ${JSON.stringify(opts.agentVersion)} is not a version string`);
  }
  for (const arch of ARCHES) {
    const sum = opts.checksums[arch];
    if (sum !== undefined && !SHA256_HEX.test(sum)) {
      throw new Error(`bootstrap: checksums.${arch} must be a lowercase hex sha256`);
    }
  }
  const values: Record<string, string> = {
    COORDINATOR_URL: url,
    PIN: opts.pin,
    AGENT_VERSION: opts.agentVersion,
    SHA256_AMD64: opts.checksums.amd64 ?? "",
    SHA256_ARM64: opts.checksums.arm64 ?? "",
  };
  return loadTemplate().replace(/@@([A-Z0-9_]+)@@/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`bootstrap: template has an unknown placeholder ${name}`);
    return shQuote(value);
  });
}

export interface JoinCommandOptions {
  coordinatorUrl: string;
  pin: string;
  token: string;
}

/** The one-liner `POST /v1/join-tokens` returns as `command` (docs/reference.md, Bootstrap). */
export function renderJoinCommand(opts: JoinCommandOptions): string {
  const url = normaliseCoordinatorUrl(opts.coordinatorUrl);
  checkPin(opts.pin);
  return `curl -fsSL -k --pinnedpubkey '${opts.pin}' ${url}/v1/bootstrap.sh | sudo sh -s - --token ${opts.token}`;
}
