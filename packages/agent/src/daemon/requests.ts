import {
  type AgentConfig,
  type AgentFrame,
  AgentFrameSchema,
  type ChecksRunFrame,
  type Logger,
} from "@muster/shared";
import type { HostAdapters } from "../adapters/types.ts";
import { runChecks } from "../checks/runner.ts";
import { readApplied } from "../phases/state.ts";

// The two frames the agent builds from host state: the first frame of a session (enrol with the
// join token, or hello with the node credential and the last applied checksum), and checks.result.

function validated(frame: AgentFrame): AgentFrame {
  const r = AgentFrameSchema.safeParse(frame);
  if (!r.success)
    throw new Error(`invalid ${frame.type} frame: ${r.error.issues.map((i) => i.path.join(".")).join(", ")}`);
  return r.data;
}

export async function buildFirstFrame(
  c: AgentConfig,
  host: HostAdapters,
  agentVersion: string,
): Promise<AgentFrame> {
  const facts = await host.facts.collect(c.address ? { address: c.address } : {});
  if (c.node && c.credential) {
    const applied = await readApplied(host.files, c.stateDir);
    return validated({
      type: "hello",
      node: c.node,
      credential: c.credential,
      facts,
      agentVersion,
      appliedChecksum: applied?.checksum ?? null,
    });
  }
  return validated({
    type: "enrol",
    joinToken: c.joinToken!,
    facts,
    agentVersion,
    ...(c.nodeName ? { nodeName: c.nodeName } : {}),
    ...(c.address ? { address: c.address } : {}),
  });
}

/** Always answers: the coordinator waits for this result before the node can move on. */
export async function answerChecks(
  frame: ChecksRunFrame,
  host: HostAdapters,
  address: string | undefined,
  log: Logger,
): Promise<AgentFrame> {
  const { requestId, type: _t, ...request } = frame;
  try {
    const facts = await host.facts.collect({
      ...(frame.vip ? { vipInterface: frame.vip.interface } : {}),
      ...(address ? { address } : {}),
    });
    return { type: "checks.result", requestId, results: await runChecks({ request, facts, host }) };
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).slice(0, 1500);
    log.error({ reason }, "could not run the checks");
    return {
      type: "checks.result",
      requestId,
      results: [
        {
          name: "facts",
          status: "fail",
          message: `could not gather host facts: ${reason}`,
          fix: "see the agent log (journalctl -u muster-agent)",
        },
      ],
    };
  }
}
