import { createReadStream, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConsoleAssetNotFound, ConsoleNotBuilt } from "@muster/shared";
import type { FastifyInstance, FastifyReply } from "fastify";

// The web console (packages/console, built by `npm run build` into dist/console): GET / is its
// index.html and GET /assets/<name> its content-hashed files. Both open: the page holds no secret (the
// operator types the admin token into it; its API calls carry it). index.html is revalidated on every
// load so a rebuild shows at once; the assets never change under their names, so browsers keep them.

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const INDEX = "index.html";
// Names the console build writes (app-<hash>.js): plain, with no path part, so no request reaches
// outside assets/.
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*\.(js|css|svg|png|woff2|map)$/;
const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  woff2: "font/woff2",
  map: "application/json; charset=utf-8",
};

/**
 * Where the console is: walks up from this module to the first dir holding `console/index.html` (an
 * installed coordinator, /usr/lib/muster/console) or `dist/console/index.html` (a checkout after
 * `npm run build`). Falls back to the checkout's path, which then answers 503 until it is built.
 */
export function defaultConsoleDir(from: string = fileURLToPath(import.meta.url)): string {
  let dir = path.dirname(from);
  for (;;) {
    for (const candidate of [path.join(dir, "console"), path.join(dir, "dist", "console")]) {
      try {
        if (statSync(path.join(candidate, INDEX)).isFile()) return candidate;
      } catch {}
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return path.resolve(fileURLToPath(new URL("../../../../../../dist/console", import.meta.url)));
}

/** index.html, re-read when it changes on disk (a rebuild needs no restart); null while not built. */
function indexCache(dir: string): () => string | null {
  let stamp = "";
  let html: string | null = null;
  return () => {
    const file = path.join(dir, INDEX);
    let next = "missing";
    try {
      const st = statSync(file);
      next = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {}
    if (next !== stamp) {
      stamp = next;
      try {
        html = next === "missing" ? null : readFileSync(file, "utf8");
      } catch {
        html = null;
      }
    }
    return html;
  };
}

function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header("content-security-policy", CONSOLE_CSP)
    .header("cross-origin-opener-policy", "same-origin");
}

export interface ConsoleRoutesOptions {
  /** dist/console (index.html + assets/); absent: GET / answers 503. */
  dir?: string;
}

export async function consoleRoutes(app: FastifyInstance, opts: ConsoleRoutesOptions): Promise<void> {
  const dir = opts.dir;
  const index = dir ? indexCache(dir) : () => null;

  app.get("/", async (_req, reply) => {
    const html = index();
    if (html === null) throw new ConsoleNotBuilt();
    return pageHeaders(reply).header("cache-control", "no-cache").type("text/html; charset=utf-8").send(html);
  });

  app.get<{ Params: { file: string } }>("/assets/:file", async (req, reply) => {
    const { file } = req.params;
    const match = ASSET_NAME.exec(file);
    const full = dir && match ? path.join(dir, "assets", file) : null;
    let size = -1;
    try {
      const st = full ? statSync(full) : null;
      if (st?.isFile()) size = st.size;
    } catch {}
    if (!full || size < 0) throw new ConsoleAssetNotFound(file);
    return pageHeaders(reply)
      .header("cache-control", "public, max-age=31536000, immutable")
      .header("content-length", size)
      .type(TYPES[match![1]!]!)
      .send(createReadStream(full));
  });
}
