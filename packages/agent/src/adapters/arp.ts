import { arpingFailed, arpingOwnersArgs, parseArpReplies } from "./arp-replies.ts";
import type { Arp, ArpOutcome, ArpOwners, Exec } from "./types.ts";

// Two unrelated tools are both called `arping`, with different flags and exit codes:
// - Thomas Habets' arping 2.x (Debian/Ubuntu package "arping"): `-i IFACE`, `-w` seconds, `-0` sends
//   from 0.0.0.0 (a duplicate-address probe that does not disturb neighbours' caches); exit 0 when at
//   least one reply arrived, 1 when none did.
// - iputils arping (RHEL, "iputils-arping"): `-I IFACE`, `-D` is duplicate address detection with
//   INVERTED meaning: exit 0 = no reply (address free), 1 = someone answered; plain mode exits 0 on a reply.
// We detect which one is installed from `arping --help` (Habets prints his name) and build flags to suit.
export type ArpingFlavour = "habets" | "iputils" | "missing";

export function detectArpingFlavour(helpExitCode: number, helpText: string): ArpingFlavour {
  if (helpExitCode === 127) return "missing";
  if (/habets/i.test(helpText)) return "habets";
  return "iputils";
}

/** The argv for a probe, and how to read its exit code as "answered". */
export function arpingCommand(
  flavour: Exclude<ArpingFlavour, "missing">,
  mode: "in-use" | "reachable",
  iface: string,
  ip: string,
  waitSeconds: number,
): { args: string[]; answered: (exitCode: number, stderr: string) => boolean | null } {
  const w = String(Math.max(1, Math.round(waitSeconds)));
  if (flavour === "habets") {
    const args = ["-q", "-c", "1", "-C", "1", "-w", w, "-i", iface];
    if (mode === "in-use") args.push("-0");
    args.push(ip);
    // Habets exits 1 for "no reply" and for errors alike; with -q only an error prints anything.
    return {
      args,
      answered: (code, stderr) => (code === 0 ? true : code === 1 && stderr.trim() === "" ? false : null),
    };
  }
  if (mode === "in-use") {
    return {
      args: ["-q", "-D", "-c", "1", "-w", w, "-I", iface, ip],
      answered: (code) => (code === 1 ? true : code === 0 ? false : null),
    };
  }
  return {
    args: ["-q", "-f", "-c", "1", "-w", w, "-I", iface, ip],
    answered: (code) => (code === 0 ? true : code === 1 ? false : null),
  };
}

export function createArp(exec: Exec, opts: { arping?: string; waitSeconds?: number } = {}): Arp {
  const bin = opts.arping ?? "arping";
  const wait = opts.waitSeconds ?? 1;
  let flavour: Promise<ArpingFlavour> | undefined;
  const detect = () => {
    flavour ??= exec.run(bin, ["--help"], { timeoutMs: 5000 }).then((r) => {
      return detectArpingFlavour(r.exitCode, `${r.stdout}\n${r.stderr}`);
    });
    return flavour;
  };

  async function probe(mode: "in-use" | "reachable", iface: string, ip: string): Promise<ArpOutcome> {
    const kind = await detect();
    if (kind === "missing")
      return { status: "error", detail: "arping is not installed (apt install arping)" };
    const cmd = arpingCommand(kind, mode, iface, ip, wait);
    const r = await exec.run(bin, cmd.args, { timeoutMs: (wait + 5) * 1000 });
    const answered = cmd.answered(r.exitCode, r.stderr);
    const detail = (r.stderr || r.stdout).trim().split("\n")[0] ?? "";
    if (answered === null)
      return { status: "error", detail: `arping (${kind}) exit ${r.exitCode}: ${detail}` };
    return answered ? { status: "answered", detail } : { status: "silent", detail };
  }

  async function owners(iface: string, ip: string): Promise<ArpOwners> {
    const kind = await detect();
    if (kind === "missing") return { ok: false, detail: "arping is not installed (apt install arping)" };
    const waitSeconds = wait + 1;
    const r = await exec.run(bin, arpingOwnersArgs(kind, iface, ip, 3, waitSeconds), {
      timeoutMs: (waitSeconds + 5) * 1000,
    });
    const macs = parseArpReplies(r.stdout, ip);
    if (macs.length === 0 && arpingFailed(kind, r.exitCode, r.stderr)) {
      const detail = (r.stderr || r.stdout).trim().split("\n")[0] ?? "";
      return { ok: false, detail: `arping (${kind}) exit ${r.exitCode}: ${detail}` };
    }
    return { ok: true, macs };
  }

  async function neighbours(iface: string): Promise<Map<string, string[]>> {
    const r = await exec.run("ip", ["-4", "-j", "neigh", "show", "dev", iface], { timeoutMs: 5000 });
    return r.exitCode === 0 ? parseNeighbours(r.stdout) : new Map();
  }

  return {
    probeInUse: (iface, ip) => probe("in-use", iface, ip),
    probeReachable: (iface, ip) => probe("reachable", iface, ip),
    owners,
    neighbours,
  };
}

/** `ip -4 -j neigh show dev IF` -> MAC (lower case) -> its addresses; entries without a MAC skipped. */
export function parseNeighbours(json: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let rows: unknown;
  try {
    rows = JSON.parse(json);
  } catch {
    return out;
  }
  if (!Array.isArray(rows)) return out;
  for (const row of rows as { dst?: unknown; lladdr?: unknown; state?: unknown }[]) {
    if (typeof row.dst !== "string" || typeof row.lladdr !== "string") continue;
    const states = Array.isArray(row.state) ? row.state : [];
    if (states.includes("FAILED") || states.includes("INCOMPLETE")) continue;
    const mac = row.lladdr.toLowerCase();
    out.set(mac, [...(out.get(mac) ?? []), row.dst]);
  }
  return out;
}
