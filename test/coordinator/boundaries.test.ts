import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import t from "tap";

// The coordinator's layout as a rule (docs/architecture.md, Parts): the domain decides and imports
// no transport, server or adapter, nor any network library; the transports reach the domain only
// through the types of its one service interface (domain/service.ts).

const SRC = path.resolve(import.meta.dirname, "../../packages/coordinator/src");
const NETWORK = /^(fastify|@fastify\/.*|ws|node:https?|node:tls|node:net|https?|tls|net)$/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : [],
  );
}

interface Import {
  file: string;
  spec: string;
  typeOnly: boolean;
  /** The imported file, relative to src/, for relative imports. */
  target: string | null;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const out: Import[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^"]+)";/gms)) {
    const spec = m[2]!;
    const target = spec.startsWith(".") ? path.relative(SRC, path.resolve(path.dirname(file), spec)) : null;
    out.push({ file: path.relative(SRC, file), spec, typeOnly: m[1] !== undefined, target });
  }
  return out;
}

const all = files(SRC).flatMap(importsOf);

t.test("the scan sees the imports it judges", async (t) => {
  t.ok(
    all.some((i) => i.file === "transport/agent-channel/hub.ts" && i.target === "domain/service.ts"),
    "the hub's import of the service interface",
  );
  t.ok(all.some((i) => i.file === "transport/http/app.ts" && i.spec === "fastify"));
  t.ok(all.some((i) => i.file === "domain/coordinator.ts" && i.target === "store/store.ts"));
});

t.test("the domain imports no transport, server or adapter, and no network library", async (t) => {
  const bad = all.filter(
    (i) =>
      i.file.startsWith("domain/") &&
      (NETWORK.test(i.spec) || /^(transport|server|adapters)\//.test(i.target ?? "")),
  );
  t.same(
    bad.map((i) => `${i.file}: ${i.spec}`),
    [],
  );
});

t.test("transports reach the domain only through the types of domain/service.ts", async (t) => {
  const bad = all.filter(
    (i) =>
      i.file.startsWith("transport/") &&
      i.target?.startsWith("domain/") &&
      !(i.target === "domain/service.ts" && i.typeOnly),
  );
  t.same(
    bad.map((i) => `${i.file}: ${i.spec}`),
    [],
  );
});
