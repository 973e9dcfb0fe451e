import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Files } from "./types.ts";

// etcd's write-ahead log appends small records and fdatasyncs each one before it acknowledges a
// write, so the fsync latency of the disk under the data dir bounds etcd's commit latency. This
// measures what etcd would see: appends of ~2.3 KB (etcd's typical WAL entry, the size kURL's and
// Replicated's etcd preflight use), each followed by fdatasync, in a temp file that is removed after.
export interface FsyncSample {
  /** fdatasync duration of each write, in milliseconds. */
  latenciesMs: number[];
  /** Where the sample was taken (a real path). */
  dir: string;
}

export interface FsyncOptions {
  writes: number;
  bytes: number;
  /** Stop early once this much time went by (a slow disk must not stall the checks). */
  budgetMs: number;
}

export interface DiskLatency {
  /** Times appends + fdatasync in a temp file under `dir` (an absolute host path that exists). */
  fdatasync(dir: string, opts: FsyncOptions): Promise<FsyncSample>;
}

export function createDiskLatency(files: Files): DiskLatency {
  return {
    async fdatasync(dir, opts) {
      const real = files.resolve(dir);
      const file = path.join(real, `.muster-fsync-${randomBytes(6).toString("hex")}.tmp`);
      const block = randomBytes(opts.bytes);
      const latenciesMs: number[] = [];
      const handle = await fs.open(file, "wx", 0o600);
      try {
        const deadline = performance.now() + opts.budgetMs;
        for (let i = 0; i < opts.writes && performance.now() < deadline; i++) {
          await handle.write(block, 0, block.length, null);
          const started = performance.now();
          await handle.datasync();
          latenciesMs.push(performance.now() - started);
        }
      } finally {
        await handle.close();
        await fs.rm(file, { force: true });
      }
      return { latenciesMs, dir: real };
    },
  };
}
