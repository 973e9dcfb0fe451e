import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import type { ConnectionOptions } from "node:tls";
import { pinnedConnect } from "@muster/net";
import { WebSocket } from "ws";

export const CLI = join(import.meta.dirname, "../../../packages/coordinator/src/server/cli.ts");

export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { encoding: "utf8", timeout: 30_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr });
      },
    );
  });
}

export interface Served {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stdout: () => string;
  stderr: () => string;
  url: string;
  pin: string;
  exited: Promise<number | null>;
}

/** Starts `serve` and resolves once it logs the URL it serves. */
export function startServe(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [CLI, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (d) => {
      err += d;
    });
    child.stdout!.on("data", (d) => {
      out += d;
      for (const line of String(d).split("\n").filter(Boolean)) {
        const json = JSON.parse(line) as Record<string, unknown>;
        lines.push(json);
        if (typeof json["url"] === "string" && typeof json["pin"] === "string")
          resolve({
            child,
            lines,
            stdout: () => out,
            stderr: () => err,
            url: json["url"],
            pin: json["pin"],
            exited,
          });
      }
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

/** A WebSocket to the coordinator that trusts it only if its key matches the pin (like the agent). */
export function pinnedWebSocket(url: string, pin: string): WebSocket {
  return new WebSocket(url, {
    rejectUnauthorized: false,
    createConnection: ((opts: ConnectionOptions) =>
      pinnedConnect(opts, pin, { mismatch: () => new Error("pin mismatch") })) as never,
  });
}

/** JSON over HTTPS to a spawned coordinator; trusts its self-signed cert the way the pin-checked clients do. */
export async function fetchJson(base: string, path: string, token: string, body?: unknown) {
  process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = "0";
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { "content-type": "application/json" } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the test reads response JSON loosely
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Polls `cond` until it holds, or throws after `ms`. */
export async function waitFor(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
