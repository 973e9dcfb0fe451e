// Log lines shaped like rke2's (logrus text formatter, no TTY): time="..." level=info msg="...".
// Nothing secret is ever passed here: callers log token *hashes* at most, never passwords.

export type Level = "debug" | "info" | "warning" | "error" | "fatal";

let debugEnabled = false;

export function setDebug(on: boolean): void {
  debugEnabled = on;
}

function line(level: Level, msg: string): void {
  if (level === "debug" && !debugEnabled) return;
  const time = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  process.stderr.write(`time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`);
}

export const log = {
  debug: (msg: string) => line("debug", msg),
  info: (msg: string) => line("info", msg),
  warn: (msg: string) => line("warning", msg),
  error: (msg: string) => line("error", msg),
  fatal: (msg: string) => line("fatal", msg),
};

/** An error that ends the process with level=fatal and exit status 1, after cleanup. */
export class FatalError extends Error {}
