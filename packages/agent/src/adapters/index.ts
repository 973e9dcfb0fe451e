import { createArp } from "./arp.ts";
import { createDiskLatency } from "./disk-latency.ts";
import { createEtcdClient } from "./etcd.ts";
import { createExec } from "./exec.ts";
import { createFacts } from "./facts.ts";
import { createFiles } from "./files.ts";
import { createHttp } from "./http.ts";
import { createKubectl } from "./kubectl.ts";
import { createPortProber } from "./ports.ts";
import { createSystemd } from "./systemd.ts";
import type { HostAdapters } from "./types.ts";

/** The real host: everything rooted at `root` ("/" in production). */
export function createHostAdapters(root = "/"): HostAdapters {
  const exec = createExec();
  const files = createFiles(root);
  const systemd = createSystemd(exec);
  return {
    exec,
    files,
    systemd,
    facts: createFacts({ files, exec, systemd }),
    arp: createArp(exec),
    http: createHttp(),
    identity: { uid: process.getuid?.() ?? -1 },
    etcd: createEtcdClient(files),
    kubectl: createKubectl(exec, files),
    ports: createPortProber(),
    disk: createDiskLatency(files),
  };
}
