import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";

// Runs the bootstrap as root against a scratch copy of the host: each run gets a private mount
// namespace (unshare -m) with overlays on /etc, /opt and /var/lib whose upper layers live in a temp
// dir. Writes land there (so they persist from run to run and the test can inspect them) and the
// real host never changes. A fake `systemctl` first on PATH records its calls and keeps
// enabled/active state in files. No test-only switch exists in the script itself.

const OVERLAID = ["etc", "opt", "var/lib"];

const FAKE_SYSTEMCTL = `#!/bin/sh
# systemctl stand-in: logs each call, keeps enabled/active state as files.
state=@STATE@
echo "$*" >>"$state/systemctl.log"
case $1 in
  daemon-reload) ;;
  enable) touch "$state/enabled"; if [ "\${2:-}" = --now ]; then touch "$state/active"; fi ;;
  disable) rm -f "$state/enabled"; if [ "\${2:-}" = --now ]; then rm -f "$state/active"; fi ;;
  start | restart) touch "$state/active" ;;
  stop) rm -f "$state/active" ;;
  is-enabled) [ -f "$state/enabled" ] ;;
  is-active) [ -f "$state/active" ] ;;
  *) echo "fake systemctl: unsupported: $*" >&2; exit 1 ;;
esac
`;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Goes to the command's stdin (the bootstrap script, when not fetched with curl). */
  input?: string;
  /** Run the command as nobody (setpriv) inside the namespace. */
  asNobody?: boolean;
}

export class ScratchRoot {
  readonly dir = mkdtempSync(path.join(tmpdir(), "muster-scratch-"));
  readonly state = path.join(this.dir, "state");
  readonly tmp = path.join(this.dir, "tmp");

  constructor() {
    for (const d of OVERLAID) {
      mkdirSync(path.join(this.dir, "upper", d), { recursive: true });
      mkdirSync(path.join(this.dir, "work", d), { recursive: true });
    }
    mkdirSync(this.state);
    mkdirSync(path.join(this.dir, "bin"));
    mkdirSync(this.tmp);
    chmodSync(this.tmp, 0o1777);
    writeFileSync(path.join(this.dir, "bin/systemctl"), FAKE_SYSTEMCTL.replace("@STATE@", this.state), {
      mode: 0o755,
    });
  }

  /** Runs `sh -c script` inside a fresh namespace over the scratch layers; "$@" holds args. */
  async run(script: string, args: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    const mounts = OVERLAID.map(
      (d) =>
        `mount -t overlay overlay -o lowerdir=/${d},upperdir=${this.dir}/upper/${d},workdir=${this.dir}/work/${d} /${d}`,
    ).join(" && ");
    const as = opts.asNobody ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    const outer = `${mounts} && exec ${as}sh -c "$SCRATCH_CMD" sh "$@"`;
    const r = await execa("unshare", ["-m", "--propagation", "private", "sh", "-c", outer, "sh", ...args], {
      input: opts.input ?? "",
      reject: false,
      env: {
        PATH: `${this.dir}/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        TMPDIR: this.tmp,
        LC_ALL: "C",
        SCRATCH_CMD: script,
      },
      extendEnv: false,
      timeout: 60_000,
    });
    return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /** A path inside the scratch layer: upper("/etc/muster/agent.yaml"). */
  upper(p: string): string {
    const d = OVERLAID.find((o) => p.startsWith(`/${o}/`));
    if (!d) throw new Error(`${p} is not under an overlaid dir`);
    return path.join(this.dir, "upper", p.slice(1));
  }

  /** Everything written to the overlays so far (relative paths), empty when the host was untouched. */
  written(): string[] {
    return OVERLAID.flatMap((d) =>
      (readdirSync(path.join(this.dir, "upper", d), { recursive: true }) as string[]).map(
        (f) => `/${d}/${f}`,
      ),
    ).sort();
  }

  systemctlCalls(): string[] {
    const log = path.join(this.state, "systemctl.log");
    return existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : [];
  }

  clearSystemctlLog(): void {
    rmSync(path.join(this.state, "systemctl.log"), { force: true });
  }

  leftoverTemp(): string[] {
    return readdirSync(this.tmp);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
