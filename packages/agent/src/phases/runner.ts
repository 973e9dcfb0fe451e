import type { PhaseFrame, PhaseName } from "@muster/shared";
import { findInstalledRke2 } from "../rke2-paths.ts";
import { captureTokenPhase } from "./capture-token.ts";
import { configurePhase } from "./configure.ts";
import { installPhase } from "./install.ts";
import { startPhase } from "./start.ts";
import {
  clearProgress,
  ensureStateDir,
  readApplied,
  readProgress,
  writeApplied,
  writeProgress,
} from "./state.ts";
import { type Phase, PhaseAborted, type PhaseContext } from "./types.ts";
import { waitReadyPhase } from "./wait-ready.ts";

// One runner for every plan (kubeadm workflow style): phases are data, run in order, each reported
// as started/succeeded/skipped/failed. Progress is saved after each phase so a restart resumes where
// it stopped; the applied checksum makes re-applying the same plan a no-op (bar re-probing).
export const PHASE_LIST: readonly Phase[] = [
  installPhase,
  configurePhase,
  startPhase,
  waitReadyPhase,
  captureTokenPhase,
];

export type PlanOutcome = { ok: true; message: string } | { ok: false; message: string } | { aborted: true };

export async function applyPlan(
  ctx: PhaseContext,
  phases: readonly Phase[] = PHASE_LIST,
): Promise<PlanOutcome> {
  const { files } = ctx.host;
  const { plan, stateDir } = ctx;
  const emit = (phase: PhaseName, status: PhaseFrame["status"], message?: string) =>
    ctx.send({
      type: "phase",
      checksum: plan.checksum,
      phase,
      status,
      ...(message ? { message: message.slice(0, 4000) } : {}),
    });

  await ensureStateDir(files, stateDir);
  const reapply = (await readApplied(files, stateDir))?.checksum === plan.checksum;
  const progress = await readProgress(files, stateDir);
  const done: PhaseName[] = !reapply && progress?.checksum === plan.checksum ? [...progress.done] : [];

  for (const phase of phases) {
    if (ctx.signal.aborted) return { aborted: true };
    if (reapply && !phase.onReapply) {
      emit(phase.name, "skipped", "plan already applied");
      continue;
    }
    if (done.includes(phase.name) && !phase.alwaysRun) {
      emit(phase.name, "skipped", "completed before the agent restarted");
      continue;
    }
    try {
      const skip = phase.skipIf ? await phase.skipIf(ctx) : null;
      if (skip !== null) {
        emit(phase.name, "skipped", skip);
      } else {
        emit(phase.name, "started");
        const message = await phase.run(ctx);
        emit(phase.name, "succeeded", message);
      }
    } catch (err) {
      if (err instanceof PhaseAborted || ctx.signal.aborted) return { aborted: true };
      const message = err instanceof Error ? err.message : String(err);
      ctx.log.warn({ phase: phase.name, checksum: plan.checksum, reason: message }, "phase failed");
      emit(phase.name, "failed", message);
      const summary = `${phase.name} failed: ${message}`.slice(0, 4000);
      ctx.send({ type: "plan.done", checksum: plan.checksum, ok: false, message: summary });
      return { ok: false, message: summary };
    }
    if (!reapply && !done.includes(phase.name)) {
      done.push(phase.name);
      await writeProgress(files, stateDir, plan.checksum, done);
    }
  }

  if (!reapply) {
    await writeApplied(files, stateDir, plan.checksum, plan.node);
    await clearProgress(files, stateDir);
  }
  const message = reapply ? "plan already applied; node is ready" : "plan applied; node is ready";
  // An init server installed from a channel says which release it got: the cluster freezes it.
  const found =
    !reapply && plan.init && !plan.install.version
      ? await findInstalledRke2(files, ctx.host.exec).catch(() => null)
      : null;
  ctx.send({
    type: "plan.done",
    checksum: plan.checksum,
    ok: true,
    message,
    ...(found?.version ? { rke2Version: found.version } : {}),
  });
  return { ok: true, message };
}
