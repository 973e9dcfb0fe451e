// A tiny static HTTP file server standing in for an operator's air-gap mirror of get.rke2.io and
// the RKE2 release artifacts. Serves files below `dir` (GET and HEAD); a directory URL serves its
// index file (default "install.sh", so "/" answers like get.rke2.io). No dependencies.
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";

export interface MirrorOptions {
  dir: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** File served for a directory URL, e.g. "/" -> "<dir>/install.sh". */
  index?: string;
  /** Called after every request. */
  onRequest?: (entry: MirrorLogEntry) => void;
}

export interface MirrorLogEntry {
  method: string;
  path: string;
  status: number;
  bytes: number;
}

export interface Mirror {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Every request served so far. */
  readonly log: readonly MirrorLogEntry[];
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".sh": "text/x-shellscript",
  ".txt": "text/plain; charset=utf-8",
  ".json": "application/json",
  ".yaml": "application/yaml",
  ".gz": "application/gzip",
  ".zst": "application/zstd",
};

export async function startMirror(opts: MirrorOptions): Promise<Mirror> {
  const root = fs.realpathSync(opts.dir);
  const index = opts.index ?? "install.sh";
  const log: MirrorLogEntry[] = [];
  const server = http.createServer((req, res) => {
    const record = (status: number, bytes: number): void => {
      const entry = { method: req.method ?? "", path: req.url ?? "", status, bytes };
      log.push(entry);
      opts.onRequest?.(entry);
    };
    const fail = (status: number, message: string): void => {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(`${message}\n`);
      record(status, 0);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return fail(405, "method not allowed");
    const file = resolveFile(root, req.url ?? "/", index);
    if (!file) return fail(404, "not found");
    res.writeHead(200, {
      "content-type": TYPES[path.extname(file.path)] ?? "application/octet-stream",
      "content-length": file.size,
    });
    if (req.method === "HEAD") {
      res.end();
      return record(200, 0);
    }
    const stream = fs.createReadStream(file.path);
    stream.on("error", () => res.destroy());
    stream.pipe(res).on("finish", () => record(200, file.size));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const hostForUrl = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${hostForUrl}:${addr.port}`,
    host: addr.address,
    port: addr.port,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The regular file a URL names inside root, or undefined (missing, outside root, or not a file). */
function resolveFile(root: string, url: string, index: string): { path: string; size: number } | undefined {
  let rel: string;
  try {
    rel = decodeURIComponent(new URL(url, "http://mirror").pathname);
  } catch {
    return undefined;
  }
  if (rel.includes("\0")) return undefined;
  let p = path.join(root, path.normalize(rel));
  try {
    if (fs.statSync(p).isDirectory()) p = path.join(p, index);
    const real = fs.realpathSync(p);
    if (real !== root && !real.startsWith(`${root}/`)) return undefined;
    const st = fs.statSync(real);
    return st.isFile() ? { path: real, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}
