import { spawn } from "node:child_process";
import type { Exec, ExecOptions, ExecResult } from "./types.ts";

// The real child-process adapter, on node:child_process (no library: the agent stays small and
// starts fast). Output is captured as text and capped so a chatty child cannot bloat the daemon;
// secrets travel only via `input` (stdin), never argv or env. A timeout or cancel sends SIGTERM,
// then SIGKILL after FORCE_KILL_MS if the child lingers.
export const MAX_OUTPUT = 1024 * 1024;
const FORCE_KILL_MS = 5000;

export function createExec(): Exec {
  return {
    run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
      return new Promise<ExecResult>((resolve) => {
        if (opts.signal?.aborted) {
          resolve({ exitCode: 130, stdout: "", stderr: "", timedOut: false });
          return;
        }
        const child = spawn(cmd, [...args], {
          env: { ...process.env, ...opts.env },
          cwd: opts.cwd,
          stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        });
        const out = capture();
        const err = capture();
        child.stdout?.on("data", out.add);
        child.stderr?.on("data", err.add);
        let timedOut = false;
        let canceled = false;
        let forceKill: NodeJS.Timeout | undefined;
        const stop = () => {
          child.kill("SIGTERM");
          forceKill ??= setTimeout(() => child.kill("SIGKILL"), FORCE_KILL_MS);
          forceKill.unref();
        };
        const timer =
          opts.timeoutMs !== undefined && opts.timeoutMs > 0
            ? setTimeout(() => {
                timedOut = true;
                stop();
              }, opts.timeoutMs)
            : undefined;
        const onAbort = () => {
          canceled = true;
          stop();
        };
        opts.signal?.addEventListener("abort", onAbort, { once: true });
        let spawnError: NodeJS.ErrnoException | undefined;
        child.on("error", (e: NodeJS.ErrnoException) => {
          spawnError = e;
        });
        if (opts.input !== undefined && child.stdin) {
          child.stdin.on("error", () => {}); // the child may exit without reading its input
          child.stdin.end(opts.input);
        }
        child.on("close", (code) => {
          if (timer) clearTimeout(timer);
          if (forceKill) clearTimeout(forceKill);
          opts.signal?.removeEventListener("abort", onAbort);
          const stdout = out.text();
          const stderr = err.text();
          if (timedOut) return resolve({ exitCode: 124, stdout, stderr, timedOut: true });
          if (canceled) return resolve({ exitCode: 130, stdout, stderr, timedOut: false });
          if (spawnError || code === null) {
            // Spawn failure (ENOENT, EACCES) or killed by a signal: report it like a shell would.
            const notFound = spawnError?.code === "ENOENT";
            const reason = spawnError
              ? `Command failed with ${spawnError.code ?? "an error"}: ${cmd}`
              : `Command was killed: ${cmd}`;
            return resolve({
              exitCode: notFound ? 127 : 126,
              stdout,
              stderr: stderr || reason,
              timedOut: false,
            });
          }
          resolve({ exitCode: code, stdout, stderr, timedOut: false });
        });
      });
    },
  };
}

/** Collects a stream's bytes up to MAX_OUTPUT; the rest is dropped. */
function capture() {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    add: (chunk: Buffer) => {
      if (size >= MAX_OUTPUT) return;
      const part = chunk.subarray(0, MAX_OUTPUT - size);
      chunks.push(part);
      size += part.length;
    },
    text: () => Buffer.concat(chunks).toString("utf8"),
  };
}
