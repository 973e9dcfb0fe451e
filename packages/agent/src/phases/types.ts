import type { AgentFrame, Logger, NodePlan, PhaseName } from "@muster/shared";
import type { HostAdapters } from "../adapters/types.ts";

// kubeadm-style phases: plain data run by one runner. `run` returns a short message for the phase
// event, or throws a PhaseError whose message is shown to the operator (never holding a secret).
export interface PhaseContext {
  plan: NodePlan;
  host: HostAdapters;
  stateDir: string;
  log: Logger;
  /** Sends a frame to the coordinator (queued while disconnected). */
  send(frame: AgentFrame): void;
  /** Aborted when the agent stops: long waits end early; the phase is then resumed on restart. */
  signal: AbortSignal;
  /** RKE2 artifact arch (amd64, arm64, s390x). */
  arch: string;
  /** Poll interval of wait-ready (tests shorten it). */
  pollMs: number;
  /** The coordinator's URL (air-gap images are fetched from its /v1/artifacts/images/). */
  coordinatorUrl?: string;
  /** What earlier phases of this run found out, e.g. whether config.yaml changed. */
  scratch: { configChanged?: boolean };
}

/** What installing RKE2 needs: a plan's phase context, or a pre-stage request's (install.prepare). */
export type InstallContext = Pick<PhaseContext, "host" | "stateDir" | "log" | "signal" | "arch"> & {
  plan: Pick<NodePlan, "install" | "service">;
};

export interface Phase {
  name: PhaseName;
  /** A reason to skip this phase (reported as a `skipped` event), or null to run it. */
  skipIf?: (ctx: PhaseContext) => Promise<string | null>;
  run: (ctx: PhaseContext) => Promise<string>;
  /** Run again even when progress.json says it completed before a restart (probes, not changes). */
  alwaysRun?: boolean;
  /** Run again when the same plan is re-applied (readiness is re-probed; the token re-sent). */
  onReapply?: boolean;
}

export class PhaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PhaseError";
  }
}

/** Thrown when the agent is stopping: the phase is neither failed nor done, and resumes on restart. */
export class PhaseAborted extends Error {
  constructor() {
    super("aborted: the agent is stopping");
    this.name = "PhaseAborted";
  }
}

export function abortable(signal: AbortSignal): void {
  if (signal.aborted) throw new PhaseAborted();
}

/** Sleeps, waking early (with PhaseAborted) when the agent stops. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new PhaseAborted());
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new PhaseAborted());
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
