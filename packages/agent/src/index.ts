// Public surface of @muster/agent: build the daemon with host adapters (real or fake), run checks
// and plans directly, and the pieces tests and the bundle need.

export { createArp, detectArpingFlavour } from "./adapters/arp.ts";
export { createExec } from "./adapters/exec.ts";
export { createFacts } from "./adapters/facts.ts";
export { createFiles } from "./adapters/files.ts";
export { createHttp } from "./adapters/http.ts";
export { createHostAdapters } from "./adapters/index.ts";
export { createSystemd } from "./adapters/systemd.ts";
export type * from "./adapters/types.ts";
export { runCheckCommand } from "./check-command.ts";
export { runChecks } from "./checks/runner.ts";
export type { CheckContext, CheckRequest } from "./checks/types.ts";
export { Agent, type AgentOptions } from "./daemon/agent.ts";
export { AgentConfigError, loadAgentConfig, saveAgentConfig } from "./daemon/config-file.ts";
export { applyPlan, PHASE_LIST, type PlanOutcome } from "./phases/runner.ts";
export type { Phase, PhaseContext } from "./phases/types.ts";
export { AGENT_VERSION } from "./version.ts";
