import { randomBytes } from "node:crypto";
import { findInstalledRke2, unitFileExists } from "../rke2-paths.ts";
import { fetchArtifacts } from "./artifacts.ts";
import { type InstallContext, type Phase, PhaseAborted, PhaseError } from "./types.ts";

// install: run RKE2's own installer (get.rke2.io) with its INSTALL_RKE2_* environment. The installer
// never enables or starts the unit; `start` does that. Skipped when the wanted RKE2 is already there.
const INSTALL_TIMEOUT_MS = 20 * 60_000;

/** The installer's `[ERROR] ...` lines (it prints them to stderr before exiting 1). */
export function installerErrors(stderr: string, stdout = ""): string[] {
  return `${stderr}\n${stdout}`
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("[ERROR]"));
}

export async function alreadyInstalled(ctx: InstallContext): Promise<string | null> {
  const { install, service } = ctx.plan;
  const found = await findInstalledRke2(ctx.host.files, ctx.host.exec);
  if (!found) return null;
  if (install.version)
    return found.version === install.version ? `RKE2 ${found.version} is already installed` : null;
  return (await unitFileExists(ctx.host.files, service))
    ? `RKE2 ${found.version ?? ""} is already installed with ${service}.service`.replace("  ", " ")
    : null;
}

export const installPhase: Phase = {
  name: "install",
  skipIf: alreadyInstalled,
  run: (ctx) => installRke2(ctx),
};

/** Runs the installer for `ctx.plan.install`; returns what was installed or throws a PhaseError. */
export async function installRke2(ctx: InstallContext): Promise<string> {
  const { files, http, exec } = ctx.host;
  const { install } = ctx.plan;
  const env: Record<string, string> = { INSTALL_RKE2_TYPE: install.type };
  if (install.version) env["INSTALL_RKE2_VERSION"] = install.version;
  if (install.channel) env["INSTALL_RKE2_CHANNEL"] = install.channel;
  if (install.artifactPath) {
    if (!(await files.exists(install.artifactPath)))
      throw new PhaseError(`air-gap artifact directory ${install.artifactPath} does not exist on this node`);
    env["INSTALL_RKE2_ARTIFACT_PATH"] = files.resolve(install.artifactPath);
  } else if (install.artifactUrl) {
    env["INSTALL_RKE2_ARTIFACT_PATH"] = await fetchArtifacts(ctx, install.artifactUrl);
  }

  // A private 0700 directory: nobody else can swap the script between download and run.
  const tmp = `${ctx.stateDir}/tmp/install-${randomBytes(6).toString("hex")}`;
  await files.mkdir(tmp, 0o700);
  try {
    const script = `${tmp}/install.sh`;
    const dl = await http.download(install.installerUrl, files.resolve(script), {
      timeoutMs: 60_000,
      mode: 0o700,
    });
    if (dl.status !== 200)
      throw new PhaseError(
        `downloading the RKE2 installer from ${install.installerUrl} failed: HTTP ${dl.status}`,
      );
    ctx.log.info({ phase: "install", env }, "running the RKE2 installer");
    // On SIGTERM the installer is stopped too (systemd would kill it anyway); install is not marked
    // done, so the restarted agent runs the (idempotent) installer again.
    const r = await exec.run("sh", [files.resolve(script)], {
      env,
      timeoutMs: INSTALL_TIMEOUT_MS,
      signal: ctx.signal,
    });
    if (ctx.signal.aborted) throw new PhaseAborted();
    if (r.exitCode !== 0) {
      const errors = installerErrors(r.stderr, r.stdout);
      const tail = r.stderr.trim().split("\n").slice(-3).join(" | ");
      const why = r.timedOut ? "timed out" : `exit ${r.exitCode}`;
      throw new PhaseError(`RKE2 installer failed (${why}): ${errors.length > 0 ? errors.join(" ") : tail}`);
    }
  } finally {
    await files.remove(tmp);
  }

  const found = await findInstalledRke2(files, exec);
  if (!found) throw new PhaseError("the RKE2 installer exited 0 but no rke2 binary was found");
  if (install.version && found.version !== install.version)
    throw new PhaseError(
      `the installer left RKE2 ${found.version ?? "(unknown)"}; the plan wants ${install.version}`,
    );
  return `installed RKE2 ${found.version ?? ""} (${install.type})`.replace("  ", " ");
}
