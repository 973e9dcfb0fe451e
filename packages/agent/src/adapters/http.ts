import { createWriteStream } from "node:fs";
import type http from "node:http";
import { pipeline } from "node:stream/promises";
import { openRequest, readBody } from "@muster/net";
import type { Http, HttpGetOptions, HttpResponse } from "./types.ts";

// Probe and download helpers over node:http(s). Probes use an explicit CA (RKE2's own, pinned by the
// token's hash) rather than the system store; downloads (installer, air-gap artifacts) use the system
// store and follow redirects, as `curl -fsSL` would.
const MAX_BODY = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;

function request(url: string, opts: HttpGetOptions): Promise<http.IncomingMessage> {
  return openRequest(url, {
    headers: opts.headers,
    tls: { ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.insecure !== true },
    timeoutMs: opts.timeoutMs ?? 10_000,
  });
}

export function createHttp(): Http {
  return {
    async get(url, opts = {}): Promise<HttpResponse> {
      const res = await request(url, opts);
      return { status: res.statusCode ?? 0, body: (await readBody(res, MAX_BODY)).toString("utf8") };
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
