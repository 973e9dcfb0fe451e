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
