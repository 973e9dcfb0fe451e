import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { FileStat, Files } from "./types.ts";

// Real file access, rooted: production uses "/", tests a t.testdir(), so a test never touches /etc.
export function createFiles(root = "/"): Files {
  const abs = path.resolve(root);
  const resolve = (p: string): string => {
    if (!path.isAbsolute(p)) throw new Error(`files: path must be absolute: ${p}`);
    return abs === "/" ? path.normalize(p) : path.join(abs, path.normalize(p));
  };
  const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

  return {
    root: abs,
    resolve,
    readText: (p) => fs.readFile(resolve(p), "utf8"),
    async readTextIfExists(p) {
      try {
        return await fs.readFile(resolve(p), "utf8");
      } catch (err) {
        if (missing(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") return null;
        throw err;
      }
    },
    async writeAtomic(p, data, mode) {
      const real = resolve(p);
      const dir = path.dirname(real);
      const tmp = path.join(dir, `.${path.basename(real)}.${randomBytes(6).toString("hex")}.tmp`);
      // The temp file is born with the final mode ("wx" + mode), so a secret is never readable by
      // others, not even for the instant between create and chmod.
      const handle = await fs.open(tmp, "wx", mode);
      try {
        await handle.chmod(mode); // umask may have cleared bits we asked for
        await handle.writeFile(data);
        await handle.sync();
      } catch (err) {
        await handle.close();
        await fs.rm(tmp, { force: true });
        throw err;
      }
      await handle.close();
      try {
        await fs.rename(tmp, real);
      } catch (err) {
        await fs.rm(tmp, { force: true });
        throw err;
      }
      // fsync the directory so the rename itself survives a crash.
      const dirHandle = await fs.open(dir, "r");
      try {
        await dirHandle.sync();
      } finally {
        await dirHandle.close();
      }
    },
    async stat(p): Promise<FileStat | null> {
      try {
        const s = await fs.stat(resolve(p));
        return {
          mode: s.mode & 0o7777,
          size: s.size,
          uid: s.uid,
          isFile: s.isFile(),
          isDirectory: s.isDirectory(),
        };
      } catch (err) {
        if (missing(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") return null;
        throw err;
      }
    },
    async exists(p) {
      try {
        await fs.access(resolve(p));
        return true;
      } catch {
        return false;
      }
    },
    async readdir(p) {
      try {
        return (await fs.readdir(resolve(p))).sort();
      } catch (err) {
        if (missing(err) || (err as NodeJS.ErrnoException).code === "ENOTDIR") return [];
        throw err;
      }
    },
    async readlink(p) {
      try {
        return await fs.readlink(resolve(p));
      } catch {
        return null;
      }
    },
    async mkdir(p, mode) {
      await fs.mkdir(resolve(p), { recursive: true, mode });
    },
    chmod: (p, mode) => fs.chmod(resolve(p), mode),
    rename: (from, to) => fs.rename(resolve(from), resolve(to)),
    remove: (p) => fs.rm(resolve(p), { recursive: true, force: true }),
  };
}
