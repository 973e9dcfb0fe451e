// One simulated container (kube-vip's) as the kubelet and containerd run it: the image must be present
// (imported tarball or registry mirror, ./image.ts) or the pod waits in ErrImagePull/ImagePullBackOff;
// the process runs in its own session, so stopping rke2-server (which kills its own process group)
// leaves it running, as containers outlive the kubelet and containerd under containerd-shim; it is
// restarted with the kubelet's exponential back-off (10 s doubling to 5 min) when it exits. Its pid is
// recorded under <data-dir>/sim/pids/ so rke2-killall.sh can kill it (SIGKILL, like the real script's
// killtree of the shims), and a restarted rke2 adopts a container that is still running instead of
// starting a second one. The simulated crictl (../crictl.ts) lists and stops it from those records.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { nodeBinary, SIM_DIR } from "../paths.ts";
import { livePid, removePid, writePid } from "../rke2/pids.ts";
import { findImage } from "./image.ts";

export interface ContainerSpec {
  podName: string;
  namespace: string;
  podUid: string;
  containerName: string;
  image: string;
  env: Record<string, string>;
}

export interface ContainerHost {
  dataDir: string;
  nodeName: string;
  imagesDir: string;
  registriesFile: string;
  logRoot: string;
  backoffBaseMs: number;
  /** etcd client URLs the pod can reach the cluster through, best first. */
  endpoints(): string[];
  log(level: "info" | "warn" | "error", msg: string): void;
}

export type ContainerState =
  | { kind: "waiting"; reason: string; message?: string }
  | { kind: "running"; startedAt: string };

const MAX_BACKOFF_MS = 300_000;

export class Container {
  readonly spec: ContainerSpec;
  readonly #host: ContainerHost;
  readonly #pidName: string;
  state: ContainerState = { kind: "waiting", reason: "ContainerCreating" };
  restartCount = 0;
  #pid: number | null = null;
  #nextAttempt = 0;
  #failures = 0;
  #stopped = false;

  constructor(host: ContainerHost, spec: ContainerSpec) {
    this.#host = host;
    this.spec = spec;
    this.#pidName = `pod-${spec.namespace}-${spec.podName}`;
    // A container of this pod still running from an earlier rke2 process: adopt it.
    const pid = livePid(host.dataDir, this.#pidName);
    const saved = this.#readState();
    if (pid && saved?.uid === spec.podUid) {
      this.#pid = pid;
      this.restartCount = saved.restartCount;
      this.state = { kind: "running", startedAt: saved.startedAt };
    } else if (saved?.uid === spec.podUid) {
      this.restartCount = saved.restartCount;
    }
  }

  get logDir(): string {
    return path.join(
      this.#host.logRoot,
      `${this.spec.namespace}_${this.spec.podName}_${this.spec.podUid}`,
      this.spec.containerName,
    );
  }

  #stateFile(): string {
    return path.join(this.#host.dataDir, "sim", "pods", `${this.#pidName}.json`);
  }

  #readState(): { uid: string; restartCount: number; startedAt: string } | null {
    try {
      return JSON.parse(readFileSync(this.#stateFile(), "utf8"));
    } catch {
      return null;
    }
  }

  #saveState(startedAt: string): void {
    mkdirSync(path.dirname(this.#stateFile()), { recursive: true });
    writeFileSync(
      this.#stateFile(),
      JSON.stringify({
        uid: this.spec.podUid,
        restartCount: this.restartCount,
        startedAt,
        // What the simulated crictl lists (../crictl.ts): one id per container attempt.
        id: createHash("sha256")
          .update(`${this.spec.podUid}/${this.spec.containerName}/${this.restartCount}`)
          .digest("hex"),
        container: this.spec.containerName,
        image: this.spec.image,
        podName: this.spec.podName,
        namespace: this.spec.namespace,
      }),
    );
  }

  #alive(): boolean {
    return this.#pid !== null && livePid(this.#host.dataDir, this.#pidName) === this.#pid;
  }

  #backoff(): number {
    return Math.min(MAX_BACKOFF_MS, this.#host.backoffBaseMs * 2 ** Math.max(0, this.#failures - 1));
  }

  async tick(): Promise<void> {
    if (this.#stopped) return;
    const pod = `${this.spec.podName}_${this.spec.namespace}(${this.spec.podUid})`;
    if (this.state.kind === "running") {
      if (this.#alive()) return;
      this.#pid = null;
      this.restartCount++;
      this.#failures++;
      this.#nextAttempt = Date.now() + this.#backoff();
      this.state = { kind: "waiting", reason: "CrashLoopBackOff" };
      this.#host.log(
        "error",
        `Error syncing pod, skipping: failed to "StartContainer" for "${this.spec.containerName}" with CrashLoopBackOff: "back-off ${Math.round(this.#backoff() / 1000)}s restarting failed container=${this.spec.containerName} pod=${pod}"`,
      );
      return;
    }
    if (Date.now() < this.#nextAttempt) return;
    const registries = existsSync(this.#host.registriesFile)
      ? readFileSync(this.#host.registriesFile, "utf8")
      : null;
    const source = await findImage(this.spec.image, this.#host.imagesDir, registries);
    if (!source) {
      this.#failures++;
      this.#nextAttempt = Date.now() + this.#backoff();
      const message = `Back-off pulling image "${this.spec.image}"`;
      this.state = { kind: "waiting", reason: "ImagePullBackOff", message };
      this.#host.log(
        "error",
        `Failed to pull image "${this.spec.image}": failed to resolve reference "${this.spec.image}": dial tcp: lookup ${this.spec.image.split("/")[0]}: no such host (image not in ${this.#host.imagesDir} and no registry mirror for it)`,
      );
      this.#host.log(
        "error",
        `Error syncing pod, skipping: failed to "StartContainer" for "${this.spec.containerName}" with ImagePullBackOff: "${message}" pod=${pod}`,
      );
      return;
    }
    this.#start(source.via === "mirror" ? `pulled through the ${source.registry} mirror` : "image imported");
  }

  #start(how: string): void {
    mkdirSync(this.logDir, { recursive: true });
    const tag = this.spec.image.split(":").at(-1) ?? "";
    const child = spawn(nodeBinary(), [path.join(SIM_DIR, "kube-vip", "main.ts")], {
      detached: true,
      stdio: "ignore",
      env: {
        PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin",
        // Stands in for the machine's hostname, which kube-vip falls back to (nodes share one here).
        NODE_NAME: this.#host.nodeName,
        ...this.spec.env,
        KUBE_VIP_SIM_ENDPOINTS: this.#host.endpoints().join(","),
        KUBE_VIP_SIM_LOG: path.join(this.logDir, `${this.restartCount}.log`),
        KUBE_VIP_SIM_VERSION: tag,
      },
    });
    child.unref();
    if (!child.pid) {
      this.state = { kind: "waiting", reason: "CreateContainerError" };
      return;
    }
    this.#pid = child.pid;
    writePid(this.#host.dataDir, this.#pidName, child.pid);
    const startedAt = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    this.#saveState(startedAt);
    this.state = { kind: "running", startedAt };
    this.#host.log(
      "info",
      `Started container ${this.spec.containerName} in pod ${this.spec.namespace}/${this.spec.podName} (${how}), pid ${child.pid}`,
    );
  }

  /** The kubelet stopping a container of a pod that is gone: SIGTERM, SIGKILL after the grace period. */
  async stop(graceMs = 30_000): Promise<void> {
    this.#stopped = true;
    const pid = this.#alive() ? this.#pid : null;
    if (!pid) return;
    try {
      process.kill(pid, "SIGTERM");
    } catch {}
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && livePid(this.#host.dataDir, this.#pidName) === pid) {
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      if (livePid(this.#host.dataDir, this.#pidName) === pid) process.kill(pid, "SIGKILL");
    } catch {}
    removePid(this.#host.dataDir, this.#pidName);
  }
}
