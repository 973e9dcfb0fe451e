import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { HostAdapters } from "@muster/agent/adapters/types";
import { Agent } from "@muster/agent/daemon/agent";
import type { AgentConfig } from "@muster/shared";
import { memoryLogger } from "./fakes.ts";

export const JOIN_TOKEN = "abcdef.0123456789abcdef";
export const CONFIG_PATH = "/etc/muster/agent.yaml";

/** An Agent wired to a fake host under `root`, with fast backoff; stopped at teardown. */
export function startAgent(
  t: { teardown(fn: () => unknown): void },
  root: string,
  host: HostAdapters,
  config: Partial<AgentConfig> & Pick<AgentConfig, "coordinatorUrl" | "pin">,
) {
  const full: AgentConfig = { stateDir: "/var/lib/muster/agent", ...config } as AgentConfig;
  if (!full.joinToken && !full.credential) full.joinToken = JOIN_TOKEN;
  mkdirSync(path.join(root, "etc/muster"), { recursive: true });
  writeFileSync(path.join(root, "etc/muster/agent.yaml"), "# placeholder\n");
  chmodSync(path.join(root, "etc/muster/agent.yaml"), 0o600);
  const { log, lines } = memoryLogger();
  const agent = new Agent({
    config: full,
    configPath: CONFIG_PATH,
    host,
    log,
    agentVersion: "0.1.0-test",
    backoff: { baseMs: 20, capMs: 100, refusedMs: 400 },
    pollMs: 10,
    stopGraceMs: 2000,
  });
  agent.start();
  t.teardown(() => agent.stop());
  return { agent, lines };
}

export function once<T>(
  emitter: { once(ev: string, fn: (arg: T) => void): unknown },
  ev: string,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${ev}`)), timeoutMs);
    emitter.once(ev, (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    });
  });
}
