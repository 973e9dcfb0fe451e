// `rke2 server --cluster-reset [--cluster-reset-restore-path FILE]` (docs/rke2-behaviour.md#snapshots-and-restore):
// with a restore path, the node's etcd data is replaced by `etcdctl snapshot restore` of FILE as a
// one-member cluster; without, the existing data is reset to one member (etcd --force-new-cluster).
// The old data dir is kept beside (etcd-old-<unix time>), as RKE2 does. Then RKE2's message, exit 0:
// the operator starts the service normally and rejoins the other servers after wiping their server/db.
// With etcd-s3 on (config.yaml or flags), the restore path is the NAME of a snapshot in the bucket, as
// in RKE2: it is downloaded into the snapshot dir first; `--etcd-s3=false` restores a local file.
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import type { SimConfig } from "./config.ts";
import { loopbackFor } from "./config.ts";
import type { Knobs } from "./env.ts";
import { etcdDir, isInitialised, peerURLFor, startEtcd, waitHealthy } from "./etcd-process.ts";
import { downloadSnapshot, type S3Settings } from "./etcd-s3.ts";
import { FatalError, log } from "./log.ts";

// RKE2 prints `${datadir}` literally (k3s's message), so the placeholder is part of the text.
export const RESET_MESSAGE =
  "Managed etcd cluster membership has been reset, restart without --cluster-reset flag now. " +
  // biome-ignore lint/suspicious/noTemplateCurlyInString: RKE2's literal text
  "Backup and delete ${datadir}/server/db on each peer etcd server and rejoin the nodes";

export async function runClusterReset(
  cfg: SimConfig,
  knobs: Knobs,
  requested: string | null,
  s3: { settings: S3Settings; snapshotDir: string } | null = null,
): Promise<void> {
  const dir = etcdDir(cfg.dataDir);
  const peer = peerURLFor(cfg.nodeIP);
  let restorePath = requested;
  if (requested !== null && s3 !== null) {
    if (requested.includes("/")) throw new FatalError(`invalid S3 snapshot name ${requested}`);
    log.info(`Retrieving etcd snapshot ${requested} from S3`);
    mkdirSync(s3.snapshotDir, { recursive: true, mode: 0o700 });
    restorePath = path.join(s3.snapshotDir, requested);
    await downloadSnapshot(s3.settings, requested, restorePath);
    log.info(`S3 download complete for ${requested}`);
  }
  if (restorePath !== null) {
    if (!existsSync(restorePath)) throw new FatalError(`etcd: snapshot path does not exist: ${restorePath}`);
    const old = `${dir}-old-${Math.floor(Date.now() / 1000)}`;
    const tmp = `${dir}-restore`;
    rmSync(tmp, { recursive: true, force: true });
    const res = await execa(
      knobs.etcdctlBin,
      [
        "snapshot",
        "restore",
        restorePath,
        `--data-dir=${tmp}`,
        `--name=${cfg.nodeName}`,
        `--initial-cluster=${cfg.nodeName}=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
      ],
      { reject: false, env: { ETCDCTL_API: "3" } },
    );
    if (res.exitCode !== 0)
      throw new FatalError(`failed to restore etcd snapshot: ${String(res.stderr).trim().split("\n").pop()}`);
    if (existsSync(dir)) {
      renameSync(dir, old);
      log.info(`Pre-restore etcd database moved to ${old}`);
    }
    renameSync(tmp, dir);
  } else if (!isInitialised(cfg.dataDir)) {
    throw new FatalError("etcd: cannot reset a cluster that was never initialised on this node");
  }
  // Start the member once so it commits the one-member configuration, then stop it.
  const etcd = await startEtcd(
    {
      name: cfg.nodeName,
      dataDir: cfg.dataDir,
      nodeIP: cfg.nodeIP,
      loopback: loopbackFor(cfg.nodeIP),
      exposeMetrics: false,
      initialCluster: `${cfg.nodeName}=${peer}`,
      initialState: "new",
      ...(restorePath === null ? { extraArgs: ["--force-new-cluster"] } : {}),
    },
    knobs,
  );
  const ok = await waitHealthy(etcd, 60_000);
  await etcd.stop();
  if (!ok) throw new FatalError("etcd did not become healthy after the cluster reset");
  log.info(RESET_MESSAGE);
}
