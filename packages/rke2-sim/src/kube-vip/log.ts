// kube-vip's log lines as a container writes them: kube-vip logs through Go's log/slog default handler
// ("2025/01/02 15:04:05 INFO msg key=value"), client-go's leader election through klog
// ("I0102 15:04:05.000000       1 leaderelection.go:257] ..."). The kubelet stores container output
// in CRI format ("<RFC3339Nano> stderr F <line>") under /var/log/pods; since the simulated container
// must outlive the rke2 process that started it (as a real one outlives the kubelet), it writes that
// file itself.
import { appendFileSync, mkdirSync } from "node:fs";
import path from "node:path";

let file: string | null = null;

export function setLogFile(f: string): void {
  mkdirSync(path.dirname(f), { recursive: true });
  file = f;
}

function write(line: string): void {
  const cri = `${new Date().toISOString().replace(/\.(\d+)Z$/, (_, ms: string) => `.${ms.padEnd(9, "0")}Z`)} stderr F ${line}\n`;
  if (file) appendFileSync(file, cri);
  else process.stderr.write(`${line}\n`);
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

function attrs(kv: Record<string, string | number | boolean>): string {
  return Object.entries(kv)
    .map(([k, v]) => {
      const key = /[\s"=]/.test(k) ? JSON.stringify(k) : k;
      const s = String(v);
      return `${key}=${/[\s"=]/.test(s) || s === "" ? JSON.stringify(s) : s}`;
    })
    .join(" ");
}

function slog(
  level: "INFO" | "WARN" | "ERROR" | "DEBUG",
  msg: string,
  kv: Record<string, string | number | boolean> = {},
) {
  const d = new Date();
  const ts = `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const rest = attrs(kv);
  write(`${ts} ${level} ${msg}${rest ? ` ${rest}` : ""}`);
}

export const log = {
  info: (msg: string, kv?: Record<string, string | number | boolean>) => slog("INFO", msg, kv),
  warn: (msg: string, kv?: Record<string, string | number | boolean>) => slog("WARN", msg, kv),
  error: (msg: string, kv?: Record<string, string | number | boolean>) => slog("ERROR", msg, kv),
};

/** A klog line from client-go's leaderelection.go, as kube-vip's container prints it. */
export function klog(severity: "I" | "E", msg: string): void {
  const d = new Date();
  const us = `${pad(d.getMilliseconds(), 3)}000`;
  const ts = `${severity}${pad(d.getMonth() + 1)}${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${us}`;
  write(`${ts}       1 leaderelection.go:${severity === "I" ? 257 : 436}] ${msg}`);
}
