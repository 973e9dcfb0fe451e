// The RKE2 simulator's command line: `rke2 server`, `rke2 agent`, `rke2 --version` (see README.md and
// docs/rke2-behaviour.md). Installed as <prefix>/bin/rke2 by the sim's install.sh.
import { mkdirSync } from "node:fs";
import { runAgent } from "./rke2/agent.ts";
import { runClusterReset } from "./rke2/cluster-reset.ts";
import { loadValues, type Role, resolveConfig } from "./rke2/config.ts";
import { knobs as readKnobs } from "./rke2/env.ts";
import { s3Settings } from "./rke2/etcd-s3.ts";
import { startSnapshotSchedule } from "./rke2/etcd-schedule.ts";
import { runEtcdSnapshot, snapshotDir } from "./rke2/etcd-snapshot.ts";
import { Lifecycle } from "./rke2/lifecycle.ts";
import { FatalError, log, setDebug } from "./rke2/log.ts";
import { removePid, writePid } from "./rke2/pids.ts";
import { runServer } from "./rke2/server.ts";

const USAGE = `NAME:
   rke2 - Rancher Kubernetes Engine 2 (simulator)

USAGE:
   rke2 [global options] command [command options] [arguments...]

COMMANDS:
   server         Run management server
   agent          Run node agent
   etcd-snapshot  Manage etcd snapshots (save, ls, delete)

GLOBAL OPTIONS:
   --help, -h     show help
   --version, -v  print the version
`;

async function main(argv: string[]): Promise<void> {
  const knobs = readKnobs();
  const [command, ...rest] = argv;
  if (command === "--version" || command === "-v" || command === "version") {
    process.stdout.write(
      `rke2 version ${knobs.version} (${knobs.commit})\ngo version n/a (rke2 simulator on node ${process.version})\n`,
    );
    return;
  }
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(USAGE);
    return;
  }
  if (command === "etcd-snapshot") {
    try {
      await runEtcdSnapshot(rest, knobs);
    } catch (err) {
      log.fatal(err instanceof FatalError ? err.message : `Error: ${(err as Error).message}`);
      process.exit(1);
    }
    return;
  }
  if (command !== "server" && command !== "agent") {
    process.stderr.write(`No help topic for '${command}'\n`);
    process.exit(3);
  }
  const role: Role = command;
  const life = new Lifecycle();
  process.on("SIGTERM", () => void life.shutdown(0));
  process.on("SIGINT", () => void life.shutdown(0));
  try {
    const { values, warnings } = loadValues(role, rest);
    const cfg = resolveConfig(role, values);
    setDebug(cfg.debug);
    for (const w of warnings) log.warn(w);
    log.info(`Starting rke2 ${knobs.version} (${knobs.commit})`);
    mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
    writePid(cfg.dataDir, `rke2-${role}`, process.pid);
    life.onStop(() => removePid(cfg.dataDir, `rke2-${role}`));
    if (role === "server" && values.get("cluster-reset") === "true") {
      const restore = values.get("cluster-reset-restore-path");
      const s3 = s3Settings(values);
      await runClusterReset(
        cfg,
        knobs,
        typeof restore === "string" && restore !== "" ? restore : null,
        s3 ? { settings: s3, snapshotDir: snapshotDir(cfg.dataDir, values) } : null,
      );
      await life.shutdown(0);
    } else if (role === "server") {
      await runServer(cfg, knobs, life);
      life.onStop(startSnapshotSchedule(cfg, values, knobs));
    } else await runAgent(cfg, knobs, life);
  } catch (err) {
    const msg = err instanceof FatalError ? err.message : `Error: ${(err as Error).message}`;
    life.fail(msg);
  }
}

await main(process.argv.slice(2));
