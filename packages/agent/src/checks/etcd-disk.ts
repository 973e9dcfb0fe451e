import path from "node:path";
import { RKE2_DATA_DIR } from "../rke2-paths.ts";
import { type Check, pass, warn } from "./types.ts";

// etcd acknowledges a write only after fdatasync of its WAL, so a slow disk under the data dir makes
// a slow (and, past the election timeout, leaderless) control plane. etcd's guidance, as kURL's and
// Replicated's preflights apply it: the p99 of small-write fdatasync below 10 ms. A warning, not a
// failure: a slow disk works, with slow writes and leader elections under load.
export const FSYNC_WRITES = 100;
export const FSYNC_BYTES = 2300;
/** A very slow disk ends the sample early rather than stall the checks. */
export const FSYNC_BUDGET_MS = 1500;
export const P99_LIMIT_MS = 10;
const MIN_SAMPLES = 10;

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

const ms = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;

export const etcdDiskCheck: Check = {
  name: "etcd-disk",
  async run({ host }) {
    // Before the install the data dir does not exist: measure the filesystem it will live on.
    let dir = RKE2_DATA_DIR;
    while (dir !== "/" && !(await host.files.exists(dir))) dir = path.dirname(dir);
    let latencies: number[];
    try {
      ({ latenciesMs: latencies } = await host.disk.fdatasync(dir, {
        writes: FSYNC_WRITES,
        bytes: FSYNC_BYTES,
        budgetMs: FSYNC_BUDGET_MS,
      }));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return warn(
        `could not measure fsync latency under ${dir}: ${code}`,
        "run as root on a writable filesystem, or measure by hand (fio --fdatasync=1 --bs=2300)",
      );
    }
    const fix =
      "put /var/lib/rancher/rke2/server/db on a faster disk (SSD/NVMe, not shared or throttled storage)";
    if (latencies.length < MIN_SAMPLES)
      return warn(
        `only ${latencies.length} fsync(s) of ${FSYNC_BYTES} bytes finished in ${FSYNC_BUDGET_MS} ms under ${dir}: far too slow for etcd`,
        fix,
      );
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const measured = `fdatasync p99 ${ms(p99)}, p50 ${ms(p50)} (${latencies.length} writes of ${FSYNC_BYTES} bytes under ${dir})`;
    if (p99 >= P99_LIMIT_MS) return warn(`${measured}: etcd wants p99 below ${P99_LIMIT_MS} ms`, fix);
    return pass(`${measured}; etcd wants p99 below ${P99_LIMIT_MS} ms`);
  },
};
