import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";

// Image tarballs the coordinator hands to servers for an air-gapped install (kube-vip's first):
// plain files in <state-dir>/images/ that the operator (or the lab) puts there, served under
// /v1/artifacts/images/<file>. Plans name a file with its sha256, so the agent checks what it got.
// Hashes are cached by size and mtime: a plan release must not re-read a 30 MB file each time.

export const IMAGES_SUBDIR = "images";
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

export interface ImageDir {
  readonly dir: string;
  /** sha256 of `file` if the directory holds it as a regular file, else null. */
  sha256(file: string): string | null;
  /** Absolute path of a file sha256() knows, else null. */
  resolve(file: string): string | null;
}

export function createImageDir(dir: string): ImageDir {
  const cache = new Map<string, { stamp: string; sha256: string }>();
  const resolve = (file: string): string | null => {
    if (!SAFE_NAME.test(file)) return null;
    const full = path.join(dir, file);
    try {
      return statSync(full).isFile() ? full : null;
    } catch {
      return null;
    }
  };
  return {
    dir,
    resolve,
    sha256(file) {
      const full = resolve(file);
      if (full === null) return null;
      const st = statSync(full);
      const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
      const hit = cache.get(file);
      if (hit?.stamp === stamp) return hit.sha256;
      const sha256 = createHash("sha256").update(readFileSync(full)).digest("hex");
      cache.set(file, { stamp, sha256 });
      return sha256;
    },
  };
}
