import { setTimeout as sleep } from "node:timers/promises";
import { macOwner } from "../registration/mac-owner.ts";
import { type StopServerOutcome, stopServerSafely, VipDidNotMove } from "../registration/stop-server.ts";
import type { OperationDeps } from "./definitions.ts";
import { type StepContext, StepFailed } from "./types.ts";

// How an operation step stops rke2-server on a server (a removal, an upgrade's or the agent-token
// migration's restart): the VIP-safe stop of stop-server.ts, observed from the other connected
// servers, with the step's stable task ids; a VIP that did not move fails the step there.

export async function stopServerInStep(
  deps: Pick<OperationDeps, "tasks" | "spec" | "store" | "now">,
  ctx: StepContext<unknown>,
  node: string,
): Promise<StopServerOutcome> {
  try {
    return await stopServerSafely(
      {
        tasks: deps.tasks,
        spec: deps.spec,
        observers: () =>
          deps.store.nodes
            .summaries()
            .filter((n) => n.role === "server" && n.connected && n.name !== node)
            .map((n) => n.name),
        nameOfMac: macOwner(deps.store, deps.spec),
        now: deps.now,
        sleep: (ms, signal) => sleep(ms, undefined, { signal: signal ?? ctx.signal }).catch(() => undefined),
      },
      node,
      { taskId: ctx.taskId, signal: ctx.signal, progress: ctx.progress },
    );
  } catch (err) {
    if (err instanceof VipDidNotMove) throw new StepFailed(err.message);
    throw err;
  }
}
