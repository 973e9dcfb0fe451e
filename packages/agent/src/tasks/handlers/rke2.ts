import { rke2Arch } from "../../adapters/host-facts.ts";
import { installRke2 } from "../../phases/install.ts";
import { PhaseAborted, PhaseError } from "../../phases/types.ts";
import {
  findInstalledRke2,
  findRke2Script,
  RKE2_CONTAINERD_ENDPOINT,
  RKE2_CRICTL,
  RKE2_SERVER_DB,
  unitFileExists,
} from "../../rke2-paths.ts";
import { reportWhile } from "../progress.ts";
import { errorLine, scrubSecrets } from "../scrub.ts";
import { TaskFailed, type TaskHandler } from "../types.ts";

// The RKE2 service and installation on this node: systemctl, RKE2's own scripts, its installer.
/** A Type=notify start returns once RKE2 is ready; a joining server can take minutes. */
const START_TIMEOUT_MS = 15 * 60_000;
const SCRIPT_TIMEOUT_MS = 10 * 60_000;
/** systemctl's exit status for "Unit ... not loaded." (nothing to stop). */
const UNIT_NOT_LOADED = 5;

/** How long kube-vip gets to release its lease and delete the VIP before containerd SIGKILLs it. */
export const KUBE_VIP_STOP_TIMEOUT_S = 10;

/** A script's last words (its failing command, under set -x), scrubbed. */
const lastLines = (r: { stderr: string; stdout: string }) =>
  scrubSecrets((r.stderr.trim() || r.stdout.trim()).split("\n").slice(-2).join(" | ")).slice(0, 500);

export const rke2Stop: TaskHandler<"rke2.stop"> = async (task, ctx) => {
  const { systemd, files, exec } = ctx.host;
  const stopped = await systemd.stop(task.unit);
  if (stopped.exitCode !== 0 && stopped.exitCode !== UNIT_NOT_LOADED)
    throw new TaskFailed(
      `systemctl stop ${task.unit} failed (exit ${stopped.exitCode}): ${errorLine(stopped.stderr)}`,
    );
  if (!task.killall) return { killed: false };
  // A plain stop leaves containerd-shim children (kube-vip among them, holding the VIP) running.
  // rke2-killall.sh SIGKILLs them: kube-vip would keep its Lease until it expires. Stop kube-vip
  // gracefully first, so it releases the Lease and deletes the VIP and a follower takes over at once.
  await stopKubeVip(ctx);
  const script = await findRke2Script(files, "rke2-killall.sh");
  if (!script) {
    ctx.progress("rke2-killall.sh is not installed: only the service was stopped");
    return { killed: false };
  }
  const r = await exec.run(files.resolve(script), [], { timeoutMs: SCRIPT_TIMEOUT_MS, signal: ctx.signal });
  if (r.exitCode !== 0) throw new TaskFailed(`${script} failed (exit ${r.exitCode}): ${lastLines(r)}`);
  return { killed: true };
};

/**
 * `crictl stop` of every running kube-vip container (SIGTERM; SIGKILL after KUBE_VIP_STOP_TIMEOUT_S).
 * containerd outlives `systemctl stop rke2-server` (KillMode=process), so RKE2's crictl still reaches
 * it here. Best effort: without crictl, containerd or a kube-vip container, rke2-killall.sh follows
 * anyway (and the caller deletes a VIP a killed kube-vip left behind).
 */
export async function stopKubeVip(ctx: Parameters<TaskHandler<"rke2.stop">>[1]): Promise<number> {
  const { files, exec } = ctx.host;
  if (!(await files.exists(RKE2_CRICTL))) return 0;
  const crictl = files.resolve(RKE2_CRICTL);
  const env = { CONTAINER_RUNTIME_ENDPOINT: RKE2_CONTAINERD_ENDPOINT };
  const opts = { env, timeoutMs: 30_000, signal: ctx.signal };
  const ps = await exec.run(crictl, ["ps", "--name", "^kube-vip$", "--state", "running", "-q"], opts);
  if (ps.exitCode !== 0) {
    ctx.progress(`crictl ps found no containerd (${errorLine(ps.stderr)}): kube-vip not stopped first`);
    return 0;
  }
  const ids = ps.stdout.split(/\s+/).filter((id) => /^[0-9a-f]{12,64}$/.test(id));
  if (!ids.length) return 0;
  const stop = await exec.run(crictl, ["stop", "--timeout", String(KUBE_VIP_STOP_TIMEOUT_S), ...ids], {
    ...opts,
    timeoutMs: (KUBE_VIP_STOP_TIMEOUT_S + 20) * 1000,
  });
  if (stop.exitCode !== 0) {
    ctx.progress(`crictl stop of kube-vip failed (exit ${stop.exitCode}): ${errorLine(stop.stderr)}`);
    return 0;
  }
  ctx.progress("stopped kube-vip (crictl stop): it released its lease and the VIP");
  return ids.length;
}

export const rke2Start: TaskHandler<"rke2.start"> = async (task, ctx) => {
  if (!(await unitFileExists(ctx.host.files, task.unit)))
    throw new TaskFailed(`${task.unit}.service is not installed on this node`);
  const r = await reportWhile(
    ctx,
    ctx.host.systemd.start(task.unit, { timeoutMs: START_TIMEOUT_MS, signal: ctx.signal }),
    (s) => `waiting for ${task.unit} to report ready: ${s} s`,
  );
  if (r.exitCode === 0) return {};
  const why = r.timedOut ? `not ready after ${START_TIMEOUT_MS / 60_000} minutes` : `exit ${r.exitCode}`;
  const line = errorLine(r.stderr);
  throw new TaskFailed(
    `systemctl start ${task.unit} failed (${why})${line ? `: ${line}` : ""}; see journalctl -u ${task.unit}`,
  );
};

export const rke2Uninstall: TaskHandler<"rke2.uninstall"> = async (_task, ctx) => {
  const { files, exec } = ctx.host;
  const script = await findRke2Script(files, "rke2-uninstall.sh");
  if (!script) {
    const found = await findInstalledRke2(files, exec);
    if (found) throw new TaskFailed(`RKE2 is installed at ${found.binary} but rke2-uninstall.sh is missing`);
    return { wasInstalled: false };
  }
  const r = await reportWhile(
    ctx,
    exec.run(files.resolve(script), [], { timeoutMs: SCRIPT_TIMEOUT_MS, signal: ctx.signal }),
    (s) => `uninstalling RKE2: ${s} s`,
  );
  if (r.exitCode !== 0) throw new TaskFailed(`${script} failed (exit ${r.exitCode}): ${lastLines(r)}`);
  return { wasInstalled: true };
};

export const rke2WipeDb: TaskHandler<"rke2.wipe-db"> = async (_task, ctx) => {
  const { files, systemd } = ctx.host;
  if (await systemd.isActive("rke2-server"))
    throw new TaskFailed("rke2-server is running: stop it before wiping its etcd data (server/db)");
  const existed = await files.exists(RKE2_SERVER_DB);
  await files.remove(RKE2_SERVER_DB);
  return { existed };
};

// The install phase's own installer run (same environment, air-gap artifacts and version check);
// an upgrade is this with a new INSTALL_RKE2_VERSION followed by rke2.start.
export const rke2Install: TaskHandler<"rke2.install"> = async (task, ctx) => {
  const wanted = task.install.version;
  const before = wanted ? await findInstalledRke2(ctx.host.files, ctx.host.exec) : null;
  // A re-sent task (the coordinator did not get the result) finds the wanted version in place.
  if (wanted && before?.version === wanted) return { version: wanted };
  const installCtx = {
    host: ctx.host,
    stateDir: ctx.stateDir,
    log: ctx.log,
    signal: ctx.signal,
    arch: rke2Arch(process.arch),
    plan: { install: task.install, service: `rke2-${task.install.type}` as const },
  };
  try {
    await reportWhile(ctx, installRke2(installCtx), (s) => `running the RKE2 installer: ${s} s`);
  } catch (err) {
    if (err instanceof PhaseAborted) throw new TaskFailed(err.message);
    if (err instanceof PhaseError) throw new TaskFailed(err.message);
    throw err;
  }
  const found = await findInstalledRke2(ctx.host.files, ctx.host.exec);
  return { version: found?.version ?? null };
};
