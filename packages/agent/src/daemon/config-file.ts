import { type AgentConfig, AgentConfigSchema, parseYamlAs } from "@muster/shared";
import { stringify } from "yaml";
import type { Files } from "../adapters/types.ts";

// /etc/muster/agent.yaml: holds the join token, later the node credential. The daemon refuses a file
// others can read (a leaked credential lets anyone impersonate the node), and rewrites it
// atomically, 0600, once enrolment gave it its own credential.
export class AgentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentConfigError";
  }
}

export async function loadAgentConfig(files: Files, path: string): Promise<AgentConfig> {
  const stat = await files.stat(path);
  if (!stat?.isFile)
    throw new AgentConfigError(
      `${path} not found; the bootstrap writes it (curl ... | sudo sh -s - --token ...)`,
    );
  if ((stat.mode & 0o077) !== 0)
    throw new AgentConfigError(
      `${path} is readable by group or others (mode ${stat.mode.toString(8).padStart(4, "0")}) and holds a secret; refusing to start. Fix: chmod 600 ${path}`,
    );
  const text = await files.readText(path);
  try {
    return parseYamlAs(AgentConfigSchema, text, path);
  } catch (err) {
    throw new AgentConfigError(err instanceof Error ? err.message : String(err));
  }
}

/** The config after enrolment: own node name and credential, and no (single-use) join token. */
export function enrolledConfig(config: AgentConfig, node: string, credential: string): AgentConfig {
  const { joinToken: _used, ...rest } = config;
  return { ...rest, node, credential };
}

export async function saveAgentConfig(files: Files, path: string, config: AgentConfig): Promise<void> {
  const ordered: Record<string, unknown> = {
    coordinatorUrl: config.coordinatorUrl,
    pin: config.pin,
    joinToken: config.joinToken,
    node: config.node,
    credential: config.credential,
    nodeName: config.nodeName,
    address: config.address,
    stateDir: config.stateDir,
  };
  for (const key of Object.keys(ordered)) if (ordered[key] === undefined) delete ordered[key];
  const text = `# muster agent configuration (rewritten by the agent after enrolment)\n${stringify(ordered)}`;
  await files.writeAtomic(path, text, 0o600);
}
