// Runs one task handler, or one check, against this host's real adapters and prints the outcome as
// JSON: tests start it inside a network namespace (ip netns exec) to act as an agent on that node.
//   node host-task.ts task '{"kind":"vip.observe",...}'
//   node host-task.ts check vip-free '{"vip":{...},"vipOwners":[...]}'
import { createHostAdapters } from "@muster/agent/adapters/index";
import { runChecks } from "@muster/agent/checks/runner";
import { vipFreeCheck } from "@muster/agent/checks/vip";
import { TASK_HANDLERS } from "@muster/agent/tasks/handlers/index";
import type { TaskHandler } from "@muster/agent/tasks/types";
import { createLogger, defaultSpec, TaskSchema } from "@muster/shared";

const [mode, a, b] = process.argv.slice(2);
const host = createHostAdapters("/");
const log = createLogger({ name: "host-task", level: "silent" });

if (mode === "task") {
  const task = TaskSchema.parse(JSON.parse(a!));
  const handler = TASK_HANDLERS[task.kind] as TaskHandler<typeof task.kind>;
  try {
    const result = await handler(task as never, {
      host,
      log,
      signal: new AbortController().signal,
      stateDir: "/tmp",
      progress: () => {},
    });
    console.log(JSON.stringify({ ok: true, result }));
  } catch (err) {
    console.log(JSON.stringify({ ok: false, message: (err as Error).message }));
  }
} else if (mode === "check" && a === "vip-free") {
  const request = JSON.parse(b!);
  const facts = await host.facts.collect({ vipInterface: request.vip.interface });
  const [result] = await runChecks(
    {
      request: {
        role: "server",
        minimums: defaultSpec().checks.server,
        ignore: [],
        peers: [],
        vipInUse: false,
        ...request,
      },
      facts,
      host,
    },
    [vipFreeCheck],
  );
  console.log(JSON.stringify(result));
} else {
  console.error("usage: host-task.ts task JSON | check vip-free REQUEST-JSON");
  process.exit(2);
}
