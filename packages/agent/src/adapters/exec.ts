import { execa } from "execa";
import type { Exec, ExecOptions, ExecResult } from "./types.ts";

// The real child-process adapter. Output is captured as text and capped so a chatty child cannot
// bloat the daemon; secrets travel only via `input` (stdin), never argv or env.
const MAX_OUTPUT = 1024 * 1024;

export function createExec(): Exec {
  return {
    async run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
      const result = await execa(cmd, args, {
        reject: false,
        env: opts.env,
        extendEnv: true,
        input: opts.input,
        stdin: opts.input === undefined ? "ignore" : "pipe",
        timeout: opts.timeoutMs,
        cwd: opts.cwd,
        cancelSignal: opts.signal,
        forceKillAfterDelay: 5000,
        maxBuffer: MAX_OUTPUT,
        stripFinalNewline: false,
        encoding: "utf8",
      });
      const stdout = typeof result.stdout === "string" ? result.stdout : "";
      const stderr = typeof result.stderr === "string" ? result.stderr : "";
      if (result.timedOut) return { exitCode: 124, stdout, stderr, timedOut: true };
      if (result.isCanceled) return { exitCode: 130, stdout, stderr, timedOut: false };
      if (result.exitCode === undefined) {
        // Spawn failure (ENOENT, EACCES) or killed by a signal: report it like a shell would.
        const notFound = (result as { code?: string }).code === "ENOENT";
        return {
          exitCode: notFound ? 127 : 126,
          stdout,
          stderr: stderr || (result.shortMessage ?? ""),
          timedOut: false,
        };
      }
      return { exitCode: result.exitCode, stdout, stderr, timedOut: false };
    },
  };
}
