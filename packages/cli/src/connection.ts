import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { PIN_PATTERN } from "@muster/shared";
import { UsageError } from "./args.ts";
import { ApiError, type ClientOptions, caTrust, type Trust } from "./client.ts";
import type { StoredConfig } from "./config-file.ts";
import { fileProblem } from "./system-errors.ts";

// Where the CLI connects and how it proves itself: flags beat environment beat the defaults of a
// coordinator host (its state dir), so `sudo muster status` just works there.

export interface Defaults {
  server: string;
  caFile: string;
  tokenFile: string;
}

export const DEFAULTS: Defaults = {
  server: "https://127.0.0.1:9443",
  caFile: "/var/lib/muster/tls/ca.crt",
  tokenFile: "/var/lib/muster/admin-token",
};

type Values = Record<string, string | boolean | undefined>;
const str = (v: string | boolean | undefined) => (typeof v === "string" ? v : undefined);

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function serverUrl(value: string, from: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${from}: not a URL: ${value}`);
  }
  if (url.protocol !== "https:") throw new UsageError(`${from}: must be an https:// URL, got ${value}`);
  return url;
}

/** Why a file could not be read, in words, with what to do (never only a system code). */
export function unreadable(what: string, file: string, err: unknown, fix: string): string {
  return `cannot read the ${what} ${file}: ${fileProblem(err)}; ${fix}`;
}

/** Reads an admin token file, refusing one that group or others can read (it is a root password). */
function readTokenFile(file: string, explicit: boolean): string {
  const fail = (message: string) => (explicit ? new UsageError(message) : new ApiError(message));
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw fail(
      unreadable(
        "token file",
        file,
        err,
        "pass --token-file FILE with the admin token (on the coordinator host: /var/lib/muster/admin-token), set MUSTER_TOKEN, or run muster login",
      ),
    );
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, "0");
    throw fail(`token file ${file} is readable by group or others (mode ${octal}): chmod 600 ${file}`);
  }
  const token = readFileSync(file, "utf8").trim();
  if (token === "") throw fail(`token file ${file} is empty`);
  return token;
}

/** Flags beat MUSTER_* variables beat the stored config (`muster login`) beat the defaults. */
export function resolveConnection(
  values: Values,
  env: NodeJS.ProcessEnv,
  defaults: Defaults,
  config: StoredConfig | null = null,
): ClientOptions {
  const flagServer = str(values["server"]);
  const server = flagServer
    ? serverUrl(flagServer, "--server")
    : env["MUSTER_SERVER"]
      ? serverUrl(env["MUSTER_SERVER"], "MUSTER_SERVER")
      : new URL(config?.server ?? defaults.server);

  const tokenFile = str(values["token-file"]);
  let token: string | undefined;
  if (tokenFile !== undefined) token = readTokenFile(tokenFile, true);
  else if (env["MUSTER_TOKEN"]) token = env["MUSTER_TOKEN"].trim();
  else if (env["MUSTER_TOKEN_FILE"]) token = readTokenFile(env["MUSTER_TOKEN_FILE"], true);
  else if (config?.token) token = config.token;
  else if (readable(defaults.tokenFile)) token = readTokenFile(defaults.tokenFile, false);

  const pin = str(values["pin"]) ?? env["MUSTER_PIN"];
  const flagCa = str(values["ca-file"]);
  if (pin !== undefined && flagCa !== undefined)
    throw new UsageError("--pin and --ca-file exclude each other");
  // MUSTER_CA_FILE only when no pin is given at all (a pin is the narrower trust).
  const caFile = flagCa ?? (pin === undefined ? env["MUSTER_CA_FILE"] || undefined : undefined);
  let trust: Trust;
  if (pin !== undefined) {
    if (!PIN_PATTERN.test(pin)) throw new UsageError(`--pin: must be sha256//<base64 SPKI hash>, got ${pin}`);
    trust = { kind: "pin", pin };
  } else if (caFile !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(caFile, "utf8");
    } catch (err) {
      throw new UsageError(
        unreadable(
          "CA file",
          caFile,
          err,
          "pass --ca-file FILE with the coordinator's CA (on the coordinator host: /var/lib/muster/tls/ca.crt) or --pin sha256//...",
        ),
      );
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----"))
      throw new UsageError(`--ca-file ${caFile}: no PEM certificate in it`);
    trust = caTrust([pem]);
  } else if (config?.pin) {
    trust = { kind: "pin", pin: config.pin };
  } else if (config?.ca) {
    trust = caTrust([config.ca]);
  } else {
    trust = caTrust(readable(defaults.caFile) ? [readFileSync(defaults.caFile, "utf8")] : []);
  }
  return { server, token, trust };
}
