import { fstatSync } from "node:fs";
import { type DestinationStream, type Logger, pino } from "pino";

// Every path where a secret can sit in a logged object. pino's `*` matches one level, so the usual
// nestings are listed; code must still never pass a secret as a log message string.
const SECRET_KEYS = ["token", "joinToken", "credential", "password", "authorization", "secret", "secretKey"];
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.*.${k}`),
  'req.headers["authorization"]',
  "req.headers.cookie",
  "plan.config",
  "*.plan.config",
  "config.token",
];

export interface LoggerOptions {
  name: string;
  level?: string;
  destination?: DestinationStream;
  /**
   * Prefix each line with its syslog priority (`<3>` for error) so journald files it under the
   * right PRIORITY and `journalctl -p err` finds errors. Default: when stdout is journald's
   * (systemd sets JOURNAL_STREAM for a service whose output goes to the journal).
   */
  journald?: boolean;
}

/** pino's level numbers → syslog priorities (trace and debug: 7 debug; fatal: 2 crit). */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

/** systemd's documented check: JOURNAL_STREAM is "<dev>:<inode>" of the journal stream, and stdout is it. */
function stdoutIsJournal(): boolean {
  const stream = process.env["JOURNAL_STREAM"];
  if (!stream) return false;
  try {
    const st = fstatSync(1);
    return stream === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

const LEVEL_FIELD = /"level":(\d+)/;

function journaldPrefix(line: string): string {
  const level = LEVEL_FIELD.exec(line);
  return `<${syslogPriority(level ? Number(level[1]) : 30)}>${line}`;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? process.env["MUSTER_LOG_LEVEL"] ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
      // journald adds its own timestamps; ISO time still helps when logs are shipped elsewhere.
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { name: opts.name },
      ...((opts.journald ?? stdoutIsJournal()) ? { hooks: { streamWrite: journaldPrefix } } : {}),
    },
    opts.destination,
  );
}

export type { Logger };
