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
    },
    opts.destination,
  );
}

export type { Logger };
