// Enrolling machines the way an operator would: the coordinator's curl-bash line, pasted in the node.
import fs from "node:fs";
import type { JoinTokenCreated, NodeView } from "@muster/shared";
import type { ApiClient } from "../world/api-client.ts";
import type { WorldNode } from "../world/node.ts";
import { labFile, record } from "./state.ts";

const SETTLED = new Set(["joined", "failed", "check-failed"]);

export interface Enrolment {
  node: WorldNode;
  role: "server" | "agent";
}

/** Runs each role's one-liner in its nodes, all at once; returns the nodes whose bootstrap failed. */
export async function enrol(
  id: string,
  api: ApiClient,
  list: readonly Enrolment[],
  say: (line: string) => void,
): Promise<string[]> {
  const commands = new Map<string, string>();
  for (const role of new Set(list.map((e) => e.role))) {
    const t = await api.post<JoinTokenCreated>("/v1/join-tokens", { role });
    commands.set(role, t.command);
  }
  const failed: string[] = [];
  await Promise.all(
    list.map(async ({ node, role }) => {
      const log = labFile(id, `bootstrap-${node.name}.log`);
      record(id, { kind: "file", path: log });
      const r = await node.sh(commands.get(role)!, { reject: false, all: true });
      fs.writeFileSync(log, r.all ?? "", { mode: 0o600 });
      if (r.exitCode !== 0) {
        failed.push(node.name);
        say(`  bootstrap on ${node.name} failed (exit ${r.exitCode}); output in ${log}`);
      }
    }),
  );
  return failed;
}

/** Polls /v1/nodes until every named node is joined, failed or check-failed; reports each change. */
export async function waitSettled(
  api: ApiClient,
  names: readonly string[],
  timeoutMs: number,
  say: (line: string) => void,
): Promise<NodeView[]> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Map<string, string>();
  for (;;) {
    const nodes = (await api.get<{ nodes: NodeView[] }>("/v1/nodes")).nodes;
    for (const n of nodes) {
      if (!names.includes(n.name) || seen.get(n.name) === n.state) continue;
      seen.set(n.name, n.state);
      say(`  ${n.name}: ${n.state}${n.message ? ` (${n.message})` : ""}`);
    }
    const wanted = nodes.filter((n) => names.includes(n.name));
    if (wanted.length === names.length && wanted.every((n) => SETTLED.has(n.state))) return wanted;
    if (Date.now() > deadline) {
      const missing = names.filter((x) => !wanted.some((n) => n.name === x && SETTLED.has(n.state)));
      throw new Error(`lab: timed out waiting for ${missing.join(", ")} to join`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Generous upper bound for a join wave: every server in turn, agents beside them, plus slack. */
export function settleTimeoutMs(
  d: { initSeconds: number; joinSeconds: number; agentSeconds: number },
  servers: number,
): number {
  return (120 + 2 * (d.initSeconds + Math.max(0, servers - 1) * (d.joinSeconds + 5) + d.agentSeconds)) * 1000;
}
