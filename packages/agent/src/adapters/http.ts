import { createWriteStream } from "node:fs";
import http from "node:http";
import https from "node:https";
import { pipeline } from "node:stream/promises";
import type { Http, HttpGetOptions, HttpResponse } from "./types.ts";

// Probe and download helpers over node:http(s). Probes use an explicit CA (RKE2's own, pinned by the
// token's hash) rather than the system store; downloads (installer, air-gap artifacts) use the system
// store and follow redirects, as `curl -fsSL` would.
const MAX_BODY = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;

function request(url: string, opts: HttpGetOptions): Promise<http.IncomingMessage> {
  const u = new URL(url);
  const mod = u.protocol === "https:" ? https : u.protocol === "http:" ? http : null;
  if (!mod) return Promise.reject(new Error(`unsupported URL scheme: ${u.protocol}`));
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: "GET",
        headers: opts.headers,
        agent: false,
        ...(u.protocol === "https:"
          ? { ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.insecure !== true }
          : {}),
        timeout: opts.timeoutMs ?? 10_000,
      },
      resolve,
    );
    req.on("timeout", () => req.destroy(new Error(`timed out after ${opts.timeoutMs ?? 10_000} ms`)));
    req.on("error", reject);
    req.end();
  });
}

async function readBody(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) {
      res.destroy();
      throw new Error(`response body larger than ${MAX_BODY} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function createHttp(): Http {
  return {
    async get(url, opts = {}): Promise<HttpResponse> {
      const res = await request(url, opts);
      return { status: res.statusCode ?? 0, body: await readBody(res) };
    },
    async download(url, destPath, opts = {}) {
      let current = url;
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const res = await request(current, {
          timeoutMs: opts.timeoutMs ?? 60_000,
          ...(opts.insecure ? { insecure: true } : {}),
        });
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          current = new URL(res.headers.location, current).toString();
          continue;
        }
        if (status !== 200) {
          res.resume();
          return { status };
        }
        await pipeline(res, createWriteStream(destPath, { mode: opts.mode ?? 0o600 }));
        return { status };
      }
      throw new Error(`too many redirects fetching ${url}`);
    },
  };
}
