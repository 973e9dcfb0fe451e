import type { HostAdapters } from "@muster/agent/adapters/types";
import type { PhaseContext } from "@muster/agent/phases/types";
import type { AgentFrame, NodePlan } from "@muster/shared";
import { memoryLogger } from "./fakes.ts";

export function phaseContext(host: HostAdapters, plan: NodePlan, over: Partial<PhaseContext> = {}) {
  const sent: AgentFrame[] = [];
  const { log, lines } = memoryLogger();
  const ctx: PhaseContext = {
    plan,
    host,
    stateDir: "/var/lib/muster/agent",
    log,
    send: (f) => sent.push(f),
    signal: new AbortController().signal,
    arch: "amd64",
    pollMs: 5,
    scratch: {},
    ...over,
  };
  return { ctx, sent, lines };
}
