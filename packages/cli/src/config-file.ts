import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { MusterError, PIN_PATTERN, parseYamlAs } from "@muster/shared";
import { stringify } from "yaml";
import { z } from "zod";
import { UsageError } from "./args.ts";
import { fileProblem } from "./system-errors.ts";

// ~/.config/muster/config.yaml, written by `muster login` (docs/reference.md#muster): where the
// coordinator is, how to trust it (a pin or the CA's PEM, kept inline so the file stands alone) and
// the admin token. It holds a root-equivalent secret, so it is 0600 in a 0700 directory and written
// atomically (a temp file created 0600, then renamed). Flags and MUSTER_* variables beat it.

export const StoredConfigSchema = z.strictObject({
  server: z.url({ protocol: /^https$/ }),
  pin: z.string().regex(PIN_PATTERN, "must be sha256//<base64 SPKI hash>").optional(),
  ca: z.string().includes("-----BEGIN CERTIFICATE-----", { message: "must be a PEM certificate" }).optional(),
  token: z.string().min(1).optional(),
});
export type StoredConfig = z.output<typeof StoredConfigSchema>;

/** $XDG_CONFIG_HOME/muster/config.yaml, else $HOME/.config/muster/config.yaml; null without either. */
export function configPath(env: NodeJS.ProcessEnv): string | null {
  const base = env["XDG_CONFIG_HOME"] || (env["HOME"] ? path.join(env["HOME"], ".config") : "");
  return base ? path.join(base, "muster", "config.yaml") : null;
}

/** The stored config, or null when there is none; a broken one is a usage error naming the file. */
export function loadConfig(env: NodeJS.ProcessEnv): StoredConfig | null {
  const file = configPath(env);
  if (!file) return null;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new UsageError(
      `cannot read the CLI's configuration ${file}: ${fileProblem(err)}; fix it, or run muster login again`,
    );
  }
  try {
    return parseYamlAs(StoredConfigSchema, text, file);
  } catch (err) {
    const reason = err instanceof MusterError ? err.message : String(err);
    throw new UsageError(`${reason} (fix it, or run muster login again)`);
  }
}

export function saveConfig(env: NodeJS.ProcessEnv, config: StoredConfig): string {
  const file = configPath(env);
  if (!file) throw new UsageError("cannot tell where to write the config: set HOME or XDG_CONFIG_HOME");
  const tmp = `${file}.${process.pid}.tmp`;
  const header = "# Written by `muster login`. Holds the admin token: keep it 0600.\n";
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, header + stringify(config), { mode: 0o600, flag: "w" });
    chmodSync(tmp, 0o600); // the umask cannot widen it, but an existing tmp file's mode could
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new UsageError(
      `cannot write the CLI's configuration ${file}: ${fileProblem(err)}; set XDG_CONFIG_HOME to a directory you can write to`,
    );
  }
  return file;
}
