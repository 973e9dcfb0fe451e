import { mapLimit } from "../map-limit.ts";
import type { TaskHandler } from "../types.ts";

// The reachability matrix's probes from this node: each target tried once, in parallel but bounded
// (a large cluster asks for thousands; 64 sockets at a time keeps this node's file table calm).
const CONCURRENCY = 64;

export const portsProbe: TaskHandler<"ports.probe"> = async (task, ctx) => {
  const { ports } = ctx.host;
  const results = await mapLimit(task.targets, CONCURRENCY, async (target) => {
    const probe = target.protocol === "tcp" ? ports.tcp : ports.udp;
    const r = await probe(target.address, target.port, task.timeoutMs);
    return { ...target, ok: r.ok, detail: r.detail.slice(0, 500) };
  });
  return { results };
};
