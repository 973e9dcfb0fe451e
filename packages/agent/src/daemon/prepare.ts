import type { AgentFrame, InstallPrepareFrame, Logger } from "@muster/shared";
import type { HostAdapters } from "../adapters/types.ts";
import { alreadyInstalled, installRke2 } from "../phases/install.ts";
import { PhaseAborted } from "../phases/types.ts";

// install.prepare: install RKE2 while this node waits for its turn (the installer never starts a
// service, so this is safe before the join lease). The plan's install phase then finds RKE2 in place
// and is skipped, taking the install off the cluster's serial critical path.
export interface PrepareDeps {
  host: HostAdapters;
  stateDir: string;
  log: Logger;
  signal: AbortSignal;
  arch: string;
}

export async function prepareInstall(
  frame: InstallPrepareFrame,
  deps: PrepareDeps,
): Promise<Extract<AgentFrame, { type: "install.prepared" }> | null> {
  const ctx = { ...deps, plan: { install: frame.install, service: frame.service } };
  try {
    const present = await alreadyInstalled(ctx);
    if (present) return { type: "install.prepared", ok: true, message: present };
    deps.log.info({ version: frame.install.version, type: frame.install.type }, "pre-installing RKE2");
    return { type: "install.prepared", ok: true, message: `pre-installed: ${await installRke2(ctx)}` };
  } catch (err) {
    // Stopping: nothing to report; the plan's install phase runs the installer again anyway.
    if (err instanceof PhaseAborted || deps.signal.aborted) return null;
    const message = err instanceof Error ? err.message : String(err);
    deps.log.warn({ reason: message }, "pre-installing RKE2 failed; the plan's install phase will retry");
    return { type: "install.prepared", ok: false, message };
  }
}
