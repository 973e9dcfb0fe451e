import type { Files } from "../adapters/types.ts";

// Who listens on which TCP port: /proc/net/tcp{,6} LISTEN sockets, mapped to processes through the
// socket inodes in /proc/<pid>/fd. Without root some fds are unreadable; the owner is then unknown.
const TCP_LISTEN = "0A";

export interface Listener {
  port: number;
  inode: string;
  pid?: number;
  comm?: string;
}

/** Parses /proc/net/tcp or tcp6 text into LISTEN sockets (port + socket inode). */
export function parseProcNetTcp(text: string): Array<{ port: number; inode: string }> {
  const out: Array<{ port: number; inode: string }> = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== TCP_LISTEN) continue;
    const port = Number.parseInt(f[1]!.split(":")[1] ?? "", 16);
    if (Number.isInteger(port)) out.push({ port, inode: f[9]! });
  }
  return out;
}

export async function listeningSockets(files: Files, ports: readonly number[]): Promise<Listener[]> {
  const wanted = new Set(ports);
  const texts = await Promise.all(["/proc/net/tcp", "/proc/net/tcp6"].map((p) => files.readTextIfExists(p)));
  const sockets = texts.flatMap((t) => (t ? parseProcNetTcp(t) : [])).filter((s) => wanted.has(s.port));
  if (sockets.length === 0) return [];
  const byInode = new Map(sockets.map((s) => [s.inode, s as Listener]));
  const pids = (await files.readdir("/proc")).filter((d) => /^\d+$/.test(d));
  await Promise.all(
    pids.map(async (pid) => {
      // Without root, other users' fd tables are unreadable (EACCES): their sockets stay "unknown".
      const fds = await files.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
      for (const fd of fds) {
        const link = await files.readlink(`/proc/${pid}/fd/${fd}`);
        const inode = link ? /^socket:\[(\d+)\]$/.exec(link)?.[1] : undefined;
        const listener = inode ? byInode.get(inode) : undefined;
        if (listener && listener.pid === undefined) {
          listener.pid = Number(pid);
          listener.comm = (await files.readTextIfExists(`/proc/${pid}/comm`))?.trim();
        }
      }
    }),
  );
  return sockets.map((s) => byInode.get(s.inode)!);
}
