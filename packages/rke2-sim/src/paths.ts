// Where the simulator's own files live, and how to quote them into generated shell scripts.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const SIM_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(SIM_DIR, "../../..");

/** The repo's pinned Node 24 binary (npm's `node` devDependency); falls back to the running one. */
export function nodeBinary(): string {
  const pinned = path.join(REPO_ROOT, "node_modules", "node", "bin", "node");
  return existsSync(pinned) ? pinned : process.execPath;
}

/** Single-quotes a string for POSIX sh. */
export function shQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}
