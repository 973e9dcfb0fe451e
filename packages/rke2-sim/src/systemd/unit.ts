// Unit files as systemd reads them: search path, drop-ins, specifiers, time spans (systemd.unit(5),
// systemd.service(5)). Only what the simulator acts on is interpreted; other keys are kept raw.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { type ExecCommand, parseExecLine } from "./exec-line.ts";

export const DEFAULT_UNIT_PATH = [
  "/etc/systemd/system",
  "/run/systemd/system",
  "/usr/local/lib/systemd/system",
  "/lib/systemd/system",
  "/usr/lib/systemd/system",
];

export type ServiceType = "simple" | "exec" | "notify" | "oneshot" | "forking";
export type RestartPolicy = "no" | "always" | "on-success" | "on-failure" | "on-abnormal" | "on-abort";

export interface EnvFileRef {
  path: string;
  optional: boolean;
}

export interface Unit {
  name: string;
  fragmentPath: string;
  /** Fragment plus drop-ins, exactly as read: daemon-reload compares it with what is on disk. */
  source: string;
  description: string;
  conflicts: string[];
  wantedBy: string[];
  hasInstall: boolean;
  type: ServiceType;
  execCondition: ExecCommand[];
  execStartPre: ExecCommand[];
  execStart: ExecCommand[];
  execStopPost: ExecCommand[];
  environment: [string, string][];
  environmentFiles: EnvFileRef[];
  workingDirectory: string;
  restart: RestartPolicy;
  restartMs: number;
  /** null = wait forever (TimeoutStartSec=0 or infinity). */
  timeoutStartMs: number | null;
  timeoutStopMs: number;
  remainAfterExit: boolean;
  startLimitBurst: number;
  startLimitIntervalMs: number;
}

export function unitSearchPath(): string[] {
  const override = process.env["SYSTEMCTL_SIM_UNIT_PATH"];
  return override ? override.split(":").filter(Boolean) : DEFAULT_UNIT_PATH;
}

/** `rke2-server` -> `rke2-server.service`, like systemctl's name mangling. */
export function normalizeUnitName(name: string): string {
  return /\.(service|target|socket|timer|mount|path|slice|scope)$/.test(name) ? name : `${name}.service`;
}

export function findFragment(name: string): string | null {
  for (const dir of unitSearchPath()) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

function dropIns(name: string): string[] {
  const byName = new Map<string, string>();
  // Earlier directories win for equal drop-in names, as in systemd.
  for (const dir of [...unitSearchPath()].reverse()) {
    const d = path.join(dir, `${name}.d`);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) if (f.endsWith(".conf")) byName.set(f, path.join(d, f));
  }
  return [...byName.keys()].sort().map((f) => byName.get(f)!);
}

/** Reads the fragment and drop-ins from disk; null when no fragment exists. */
export function readUnitSource(name: string): { fragmentPath: string; source: string } | null {
  const fragmentPath = findFragment(name);
  if (!fragmentPath) return null;
  const parts = [fragmentPath, ...dropIns(name)].map((f) => `#@file ${f}\n${readFileSync(f, "utf8")}`);
  return { fragmentPath, source: parts.join("\n") };
}

export function parseTimeSpanMs(value: string): number | null {
  const v = value.trim();
  if (v === "infinity") return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const units: Record<string, number> = {
    us: 0.001,
    ms: 1,
    s: 1000,
    sec: 1000,
    m: 60000,
    min: 60000,
    h: 3600000,
  };
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/g)) {
    const factor = units[m[2]!];
    if (factor === undefined) throw new Error(`invalid time span "${value}"`);
    total += Number(m[1]) * factor;
  }
  return total;
}

export function expandSpecifiers(value: string, unitName: string): string {
  const prefix = unitName.replace(/\.[^.]+$/, "");
  const [p, instance = ""] = prefix.split("@") as [string, string?];
  const table: Record<string, string> = {
    n: unitName,
    N: prefix,
    p,
    i: instance,
    I: instance,
    t: "/run",
    "%": "%",
  };
  return value.replace(/%(.)/g, (whole, c: string) => table[c] ?? whole);
}

type Sections = Map<string, [string, string][]>;

function parseIni(source: string): Sections {
  const sections: Sections = new Map();
  let current: [string, string][] | null = null;
  const lines = source.split("\n");
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    while (line.endsWith("\\") && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = sections.get(header[1]!) ?? [];
      sections.set(header[1]!, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq > 0 && current) current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return sections;
}

/** List-valued keys accumulate; an empty assignment resets the list, as in systemd. */
function list(entries: [string, string][], key: string): string[] {
  let out: string[] = [];
  for (const [k, v] of entries) if (k === key) out = v === "" ? [] : [...out, v];
  return out;
}

function last(entries: [string, string][], key: string): string | undefined {
  let out: string | undefined;
  for (const [k, v] of entries) if (k === key) out = v;
  return out;
}

export function parseUnit(name: string, fragmentPath: string, source: string): Unit {
  const expanded = expandSpecifiers(source, name);
  const s = parseIni(expanded);
  const unit = s.get("Unit") ?? [];
  const install = s.get("Install");
  const svc = s.get("Service") ?? [];
  const words = (key: string, entries: [string, string][]) =>
    list(entries, key).flatMap((v) => v.split(/\s+/));
  const exec = (key: string) => list(svc, key).map(parseExecLine);
  const environment: [string, string][] = [];
  for (const v of list(svc, "Environment")) {
    for (const m of v.matchAll(/"([^"]*)"|(\S+)/g)) {
      const assignment = m[1] ?? m[2]!;
      const eq = assignment.indexOf("=");
      if (eq > 0) environment.push([assignment.slice(0, eq), assignment.slice(eq + 1)]);
    }
  }
  const timeout = (key: string, fallback: number | null) => {
    const v = last(svc, key) ?? last(svc, "TimeoutSec");
    if (v === undefined) return fallback;
    const ms = parseTimeSpanMs(v);
    return ms === 0 ? null : ms;
  };
  return {
    name,
    fragmentPath,
    source,
    description: last(unit, "Description") ?? name,
    conflicts: words("Conflicts", unit).map(normalizeUnitName),
    wantedBy: install ? words("WantedBy", install) : [],
    hasInstall: install !== undefined,
    type: (last(svc, "Type") ?? (list(svc, "ExecStart").length ? "simple" : "oneshot")) as ServiceType,
    execCondition: exec("ExecCondition"),
    execStartPre: exec("ExecStartPre"),
    execStart: exec("ExecStart"),
    execStopPost: exec("ExecStopPost"),
    environment,
    environmentFiles: list(svc, "EnvironmentFile").map((v) =>
      v.startsWith("-") ? { path: v.slice(1), optional: true } : { path: v, optional: false },
    ),
    workingDirectory: last(svc, "WorkingDirectory")?.replace(/^-/, "") ?? "/",
    restart: (last(svc, "Restart") ?? "no") as RestartPolicy,
    restartMs: parseTimeSpanMs(last(svc, "RestartSec") ?? "100ms") ?? 100,
    timeoutStartMs: timeout("TimeoutStartSec", 90_000),
    timeoutStopMs: timeout("TimeoutStopSec", 90_000) ?? 90_000,
    remainAfterExit: /^(yes|true|1|on)$/i.test(last(svc, "RemainAfterExit") ?? ""),
    startLimitBurst: Number(last(unit, "StartLimitBurst") ?? 5),
    startLimitIntervalMs: parseTimeSpanMs(last(unit, "StartLimitIntervalSec") ?? "10s") ?? 0,
  };
}
