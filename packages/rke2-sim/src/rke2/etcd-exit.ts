// Why this node's etcd ended, from its own log (server/db/etcd.log). The case that matters: a member
// removed from the cluster (kubectl delete node, the remove annotation, etcdctl member remove) stops
// with etcd's "the member has been permanently removed from the cluster" and, restarted on the same
// data dir, is refused by its peers with the same words: the data dir (server/db) must be wiped before
// the server can join again as a new member.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import path from "node:path";

const REMOVED = "the member has been permanently removed from the cluster";

function tail(file: string, bytes = 64 * 1024): string {
  try {
    const size = statSync(file).size;
    const fd = openSync(file, "r");
    try {
      const len = Math.min(size, bytes);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      return buf.toString();
    } finally {
      closeSync(fd);
    }
  } catch {
    return "";
  }
}

export function etcdExitMessage(dataDir: string, code: number | null): string {
  const log = tail(path.join(dataDir, "server", "db", "etcd.log"));
  const start = log.lastIndexOf('"msg":"starting an etcd server"');
  const thisRun = start >= 0 ? log.slice(start) : log;
  if (thisRun.includes(REMOVED)) {
    return `etcd exited: ${REMOVED}; this server is not a member of the etcd cluster any more (etcd: "data-dir used by this member must be removed"): delete ${path.join(dataDir, "server", "db")} to join again as a new member`;
  }
  return `etcd exited unexpectedly with status ${code}; see server/db/etcd.log`;
}
