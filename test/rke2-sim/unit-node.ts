// A simulated server run the way a machine runs it: rke2-server.service under the systemctl stand-in,
// inside the machine's netns, with its own unit directory and systemctl state. `start` blocks until
// READY=1 (Type=notify), `stop` is `systemctl stop` (SIGTERM to the unit's process group),
// `killall` is the bundle's rke2-killall.sh.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { nodeBinary, SIM_DIR } from "@muster/rke2-sim/paths";
import { stringify } from "yaml";
import type { Machine } from "./netns.ts";
import { FAST_ENV } from "./testkit.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class UnitNode {
  readonly m: Machine;
  readonly dir: string;
  readonly dataDir: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(root: string, m: Machine, config: Record<string, unknown>, knobs: Record<string, string> = {}) {
    this.m = m;
    this.dir = path.join(root, m.name);
    this.dataDir = path.join(this.dir, "data");
    mkdirSync(path.join(this.dir, "units"), { recursive: true });
    const cfgFile = path.join(this.dir, "config.yaml");
    writeFileSync(
      cfgFile,
      stringify({ "node-name": m.name, "node-ip": m.ip, "data-dir": this.dataDir, ...config }),
      { mode: 0o600 },
    );
    const environment = Object.entries({ ...FAST_ENV, ...knobs })
      .map(([k, v]) => `Environment=${k}=${v}`)
      .join("\n");
    writeFileSync(
      path.join(this.dir, "units", "rke2-server.service"),
      `[Unit]\nDescription=Rancher Kubernetes Engine v2 (server)\n\n[Service]\nType=notify\nKillMode=process\nTimeoutStartSec=0\nRestart=always\nRestartSec=1s\n${environment}\nExecStart=${nodeBinary()} ${path.join(SIM_DIR, "rke2.ts")} server --config ${cfgFile}\n`,
    );
    this.env = {
      ...process.env,
      SYSTEMCTL_SIM_UNIT_PATH: path.join(this.dir, "units"),
      SYSTEMCTL_SIM_STATE_DIR: path.join(this.dir, "state"),
      RKE2_DATA_DIR: this.dataDir,
      PATH: `${SIM_DIR}:${process.env["PATH"]}`,
    };
  }

  run(cmd: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
    return new Promise((resolve) => {
      execFile(
        "ip",
        ["netns", "exec", this.m.netns, cmd, ...args],
        { env: this.env, timeout: timeoutMs },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  systemctl(...args: string[]): Promise<RunResult> {
    return this.run(path.join(SIM_DIR, "systemctl"), args);
  }

  killall(): Promise<RunResult> {
    return this.run("sh", [path.join(SIM_DIR, "bundle/bin/rke2-killall.sh")]);
  }

  kubectl(...args: string[]): Promise<RunResult> {
    return this.run(path.join(this.dataDir, "bin", "kubectl"), [
      "--kubeconfig",
      path.join(this.dataDir, "rke2.yaml"),
      ...args,
    ]);
  }

  journal(): string {
    const f = path.join(this.dir, "state", "journal", "rke2-server.service.log");
    return existsSync(f) ? readFileSync(f, "utf8") : "";
  }

  writeFile(rel: string, content: string): void {
    const f = path.join(this.dataDir, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, content);
  }

  /** Everything kube-vip's containers on this node logged (pod logs, every restart). */
  kubeVipLog(): string {
    const root = path.join(this.dataDir, "agent", "pod-logs");
    if (!existsSync(root)) return "";
    let out = "";
    for (const pod of readdirSync(root)
      .filter((d) => d.includes("kube-vip"))
      .sort()) {
      const dir = path.join(root, pod, "kube-vip");
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir).sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10))) {
        out += readFileSync(path.join(dir, f), "utf8");
      }
    }
    return out;
  }

  /** The pid of this node's kube-vip container, if one runs. */
  kubeVipPid(): number | null {
    const dir = path.join(this.dataDir, "sim", "pids");
    if (!existsSync(dir)) return null;
    for (const f of readdirSync(dir).filter((x) => x.startsWith("pod-") && x.includes("kube-vip"))) {
      const [pid, started] = readFileSync(path.join(dir, f), "utf8").trim().split(" ");
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (fields[0] !== "Z" && fields[19] === started) return Number(pid);
      } catch {}
    }
    return null;
  }
}
