// Helpers for tests that use a world.
import type { WorldNode } from "./node.ts";

/** Resolves with the first line a child prints, leaving its stdout flowing (execa keeps reading it). */
export function firstLine(child: { stdout: NodeJS.ReadableStream | null }): Promise<string> {
  const stream = child.stdout;
  if (!stream) return Promise.reject(new Error("child has no stdout"));
  return new Promise((resolve, reject) => {
    let buf = "";
    const onData = (chunk: unknown): void => {
      buf += String(chunk);
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      stream.off("data", onData);
      resolve(buf.slice(0, nl));
    };
    stream.on("data", onData);
    stream.once("end", () => reject(new Error(`stdout ended before a full line: ${JSON.stringify(buf)}`)));
  });
}

export type ArpingFlavour = "habets" | "iputils";

/** Which arping the machine has: Debian's `arping` package is Habets', `iputils-arping` is iputils'. */
export async function arpingFlavour(n: WorldNode): Promise<ArpingFlavour> {
  const r = await n.exec("arping", ["--help"], { reject: false, all: true });
  return /Habets/i.test(r.all ?? "") ? "habets" : "iputils";
}

/**
 * True when nobody answers ARP for `ip` on the node's eth0 (`arping -D`). iputils' `-D` is duplicate
 * address detection and exits 0 when the address is free; Habets' `-D` only changes the display and
 * exits 1 when nobody answers.
 */
export async function arpFree(n: WorldNode, ip: string, flavour?: ArpingFlavour): Promise<boolean> {
  const f = flavour ?? (await arpingFlavour(n));
  const args = f === "iputils" ? ["-D", "-c1", "-w1", "-I", "eth0", ip] : ["-D", "-c1", "-I", "eth0", ip];
  const r = await n.exec("arping", args, { reject: false });
  return f === "iputils" ? r.exitCode === 0 : r.exitCode === 1;
}
