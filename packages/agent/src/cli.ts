#!/usr/bin/env node
import { createLogger } from "@muster/shared";
import { createHostAdapters } from "./adapters/index.ts";
import { runCheckCommand } from "./check-command.ts";
import { parseCommand, USAGE, UsageError } from "./cli-args.ts";
import { Agent } from "./daemon/agent.ts";
import { AgentConfigError, loadAgentConfig } from "./daemon/config-file.ts";
import { AGENT_VERSION } from "./version.ts";

// muster-agent: `run` (the daemon) and `check` (standalone node checks). Exit codes: 0 ok,
// 1 a check failed or the daemon could not start, 2 bad usage.
async function runDaemon(configPath: string): Promise<number> {
  const host = createHostAdapters("/");
  const log = createLogger({ name: "muster-agent" });
  let config: Awaited<ReturnType<typeof loadAgentConfig>>;
  try {
    config = await loadAgentConfig(host.files, configPath);
  } catch (err) {
    if (!(err instanceof AgentConfigError)) throw err;
    process.stderr.write(`muster-agent: ${err.message}\n`);
    return 1;
  }
  const agent = new Agent({ config, configPath, host, log, agentVersion: AGENT_VERSION });
  log.info(
    { version: AGENT_VERSION, coordinator: config.coordinatorUrl, node: config.node },
    "muster-agent starting",
  );
  agent.start();
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await agent.stop();
  log.info("muster-agent stopped");
  return 0;
}

async function main(argv: string[]): Promise<number> {
  let cmd: ReturnType<typeof parseCommand>;
  try {
    cmd = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message} (see muster-agent --help)\n`);
    return 2;
  }
  switch (cmd.kind) {
    case "help":
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case "version":
      process.stdout.write(`muster-agent ${AGENT_VERSION}\n`);
      return 0;
    case "run":
      return runDaemon(cmd.config);
    case "check": {
      const { report, output } = await runCheckCommand(createHostAdapters("/"), cmd);
      process.stdout.write(`${output}\n`);
      return report.ok ? 0 : 1;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`muster-agent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
