// Scheduled etcd snapshots on a running server (docs/rke2-behaviour.md#snapshots-and-restore):
// etcd-snapshot-schedule-cron (default `0 */12 * * *`) fires `etcd-snapshot-<node>-<unix time>`
// snapshots (etcd-snapshot-name sets the prefix), uploaded to S3 and pruned like an on-demand save.
// RKE2's cron library also takes descriptors such as `@every 5s`, which tests use to stay short.
import { Cron } from "croner";
import type { SimConfig, Values } from "./config.ts";
import type { Knobs } from "./env.ts";
import { s3Settings } from "./etcd-s3.ts";
import { saveSnapshot, snapshotDir } from "./etcd-snapshot.ts";
import { log } from "./log.ts";

export const DEFAULT_SCHEDULE = "0 */12 * * *";

/** Starts the schedule; the returned function stops it. A disabled schedule (etcd-disable-snapshots) returns a no-op. */
export function startSnapshotSchedule(cfg: SimConfig, values: Values, knobs: Knobs): () => void {
  if (values.get("etcd-disable-snapshots") === "true") return () => undefined;
  const raw = values.get("etcd-snapshot-schedule-cron");
  const spec = typeof raw === "string" && raw.trim() !== "" ? raw.trim() : DEFAULT_SCHEDULE;
  const name = values.get("etcd-snapshot-name");
  const prefix = typeof name === "string" && name !== "" ? name : "etcd-snapshot";
  let running = false;
  const take = async () => {
    // One at a time, as RKE2's cron job does: a slow upload does not pile snapshots up.
    if (running) return;
    running = true;
    try {
      await saveSnapshot({
        cfg,
        values,
        knobs,
        dir: snapshotDir(cfg.dataDir, values),
        prefix,
        s3: s3Settings(values),
      });
    } catch (err) {
      log.error(`Failed to take scheduled snapshot: ${(err as Error).message}`);
    } finally {
      running = false;
    }
  };
  const every = /^@every\s+(\d+)(s|m|h)$/.exec(spec);
  if (every) {
    const ms = Number(every[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[every[2] as "s" | "m" | "h"];
    const timer = setInterval(() => void take(), ms);
    timer.unref();
    log.info(`Scheduled etcd snapshots: ${spec}`);
    return () => clearInterval(timer);
  }
  let job: Cron;
  try {
    job = new Cron(spec, { unref: true }, () => void take());
  } catch (err) {
    log.error(`Invalid etcd-snapshot-schedule-cron ${JSON.stringify(spec)}: ${(err as Error).message}`);
    return () => undefined;
  }
  log.info(`Scheduled etcd snapshots: ${spec}`);
  return () => job.stop();
}
