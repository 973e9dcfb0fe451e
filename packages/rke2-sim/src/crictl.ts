// crictl (simulator): the stand-in for the crictl RKE2 unpacks into <data-dir>/bin, for the containers
// the simulated kubelet runs (kube-vip's; ./kube-vip/container.ts records each under
// <data-dir>/sim/pods/ and its pid under <data-dir>/sim/pids/). Verbs: `ps [--name RE] [--state S]
// [-a] [-q]` and `stop [--timeout N] ID...`, with crictl's messages and exit statuses. Like the real
// one it needs the RKE2 endpoint (CONTAINER_RUNTIME_ENDPOINT, --runtime-endpoint or CRI_CONFIG_FILE):
//   CONTAINER_RUNTIME_ENDPOINT=unix:///run/k3s/containerd/containerd.sock /var/lib/rancher/rke2/bin/crictl ps
// The simulator has no containerd process: containerd counts as up while the rke2 process or any
// container still runs (containerd outlives `systemctl stop rke2-server`, KillMode=process, and dies in
// rke2-killall.sh). `stop` is containerd's StopContainer: SIGTERM, SIGKILL after the timeout (at once
// with --timeout 0, crictl's default).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { livePid } from "./rke2/pids.ts";

const RKE2_ENDPOINT = "unix:///run/k3s/containerd/containerd.sock";
const DEFAULT_ENDPOINT = "unix:///run/containerd/containerd.sock";
const dataDir = process.env["CRICTL_SIM_DATA_DIR"] || "/var/lib/rancher/rke2";

interface Record_ {
  id: string;
  pidName: string;
  name: string;
  image: string;
  podName: string;
  namespace: string;
  attempt: number;
  startedAt: string;
}

function fatal(msg: string): never {
  process.stderr.write(`time="${new Date().toISOString()}" level=fatal msg=${JSON.stringify(msg)}\n`);
  process.exit(1);
}

function records(): Record_[] {
  const dir = path.join(dataDir, "sim", "pods");
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  } catch {}
  const out: Record_[] = [];
  for (const f of files) {
    try {
      const s = JSON.parse(readFileSync(path.join(dir, f), "utf8"));
      if (!s.id) continue;
      out.push({
        id: s.id,
        pidName: f.slice(0, -".json".length),
        name: s.container ?? "",
        image: s.image ?? "",
        podName: s.podName ?? "",
        namespace: s.namespace ?? "",
        attempt: s.restartCount ?? 0,
        startedAt: s.startedAt ?? "",
      });
    } catch {}
  }
  return out;
}

const running = (r: Record_) => livePid(dataDir, r.pidName) !== null;

function containerdUp(): boolean {
  const pids = path.join(dataDir, "sim", "pids");
  let names: string[] = [];
  try {
    names = readdirSync(pids).filter((f) => f.endsWith(".pid"));
  } catch {}
  return names.some((f) => livePid(dataDir, f.slice(0, -".pid".length)) !== null);
}

function endpointFrom(args: string[]): string | null {
  const i = args.findIndex((a) => a === "--runtime-endpoint" || a === "-r");
  if (i >= 0) return args.splice(i, 2)[1] ?? null;
  const eq = args.findIndex((a) => a.startsWith("--runtime-endpoint="));
  if (eq >= 0) return args.splice(eq, 1)[0]!.split("=")[1] ?? null;
  if (process.env["CONTAINER_RUNTIME_ENDPOINT"]) return process.env["CONTAINER_RUNTIME_ENDPOINT"];
  const cfg = process.env["CRI_CONFIG_FILE"] || "/etc/crictl.yaml";
  if (existsSync(cfg)) {
    const m = /^runtime-endpoint:\s*"?([^"\s]+)"?/m.exec(readFileSync(cfg, "utf8"));
    if (m) return m[1]!;
  }
  return null;
}

function connect(configured: string | null): void {
  let endpoint = configured;
  if (!endpoint) {
    process.stderr.write(
      `time="${new Date().toISOString()}" level=warning msg="runtime connect using default endpoints: [${DEFAULT_ENDPOINT} unix:///run/crio/crio.sock unix:///var/run/cri-dockerd.sock]. As the default settings are now deprecated, you should set the endpoint instead."\n`,
    );
    endpoint = DEFAULT_ENDPOINT;
  }
  const sock = endpoint.replace(/^unix:\/\//, "");
  if (endpoint !== RKE2_ENDPOINT)
    fatal(
      `validate service connection: validate CRI v1 runtime API for endpoint "${endpoint}": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix ${sock}: connect: no such file or directory"`,
    );
  if (!containerdUp())
    fatal(
      `validate service connection: validate CRI v1 runtime API for endpoint "${endpoint}": rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix ${sock}: connect: connection refused"`,
    );
}

function flag(args: string[], ...names: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    for (const n of names) {
      if (a === n) return args[i + 1] ?? null;
      if (a.startsWith(`${n}=`)) return a.slice(n.length + 1);
    }
  }
  return null;
}

function ps(args: string[]): number {
  const name = flag(args, "--name");
  const state = flag(args, "--state", "-s");
  const all = args.includes("-a") || args.includes("--all");
  const quiet = args.includes("-q") || args.includes("--quiet");
  const re = name ? new RegExp(name) : null;
  const rows = records()
    .map((r) => ({ r, state: running(r) ? "Running" : "Exited" }))
    .filter(({ r, state: s }) => {
      if (re && !re.test(r.name)) return false;
      if (state) return s.toLowerCase() === state.toLowerCase();
      return all || s === "Running";
    });
  if (quiet) {
    for (const { r } of rows) process.stdout.write(`${r.id}\n`);
    return 0;
  }
  process.stdout.write("CONTAINER\tIMAGE\tCREATED\tSTATE\tNAME\tATTEMPT\tPOD\n");
  for (const { r, state: s } of rows)
    process.stdout.write(
      `${r.id.slice(0, 13)}\t${r.image}\t${r.startedAt}\t${s}\t${r.name}\t${r.attempt}\t${r.podName}\n`,
    );
  return 0;
}

async function stop(args: string[]): Promise<number> {
  const timeout = Number(flag(args, "--timeout", "-t") ?? "0");
  if (!Number.isFinite(timeout) || timeout < 0) fatal(`invalid value for --timeout: ${timeout}`);
  const ids = args.filter((a, i) => !a.startsWith("-") && !["--timeout", "-t"].includes(args[i - 1] ?? ""));
  if (!ids.length) fatal("ID cannot be empty");
  const all = records();
  for (const id of ids) {
    const r = all.find((c) => c.id.startsWith(id));
    if (!r)
      fatal(
        `stopping the container "${id}": rpc error: code = NotFound desc = an error occurred when try to find container "${id}": not found`,
      );
    const pid = livePid(dataDir, r.pidName);
    if (pid) {
      const gone = () => livePid(dataDir, r.pidName) !== pid;
      if (timeout > 0) {
        try {
          process.kill(pid, "SIGTERM");
        } catch {}
        const deadline = Date.now() + timeout * 1000;
        while (!gone() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      }
      if (!gone()) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
        while (!gone()) await new Promise((res) => setTimeout(res, 20));
      }
    }
    process.stdout.write(`${r.id}\n`);
  }
  return 0;
}

const USAGE = `NAME:
   crictl - client for CRI (rke2 simulator: ps, stop)

USAGE:
   crictl [global options] command [command options]

COMMANDS:
   ps      List containers
   stop    Stop one or more running containers
`;

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const endpoint = endpointFrom(args); // takes --runtime-endpoint out of args
  const at = args.findIndex((a) => !a.startsWith("-"));
  const verb = at >= 0 ? args[at]! : null;
  if (!verb || verb === "help" || args.slice(0, at).some((a) => a === "--help" || a === "-h")) {
    process.stdout.write(USAGE);
    return 0;
  }
  connect(endpoint);
  const rest = args.slice(at + 1);
  if (verb === "ps") return ps(rest);
  if (verb === "stop") return stop(rest);
  process.stderr.write(`No help topic for '${verb}'\n`);
  return 1;
}

process.exit(await main(process.argv.slice(2)));
