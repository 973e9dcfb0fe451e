import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import t from "tap";

// `npm run lint` (biome with the repository's biome.json) is what keeps the layout honest: the
// coordinator's domain imports no transport or network library, tests and benchmarks import packages
// through their exports, and every package declares what it imports. Each case lints a small tree
// laid out like the repository, with the real biome.json, and expects the rule to name the import.
const ROOT = path.resolve(import.meta.dirname, "../..");
const BIOME = path.join(ROOT, "node_modules", ".bin", "biome");

function lint(files: Record<string, string>): { code: number; out: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "muster-lint-"));
  try {
    copyFileSync(path.join(ROOT, "biome.json"), path.join(dir, "biome.json"));
    // biome.json reads .gitignore through git: make the tree a repository.
    spawnSync("git", ["init", "-q", dir]);
    const tree: Record<string, string> = {
      "package.json": JSON.stringify({
        name: "fixture",
        devDependencies: { "@muster/coordinator": "0.1.0" },
      }),
      "packages/coordinator/package.json": JSON.stringify({
        name: "@muster/coordinator",
        dependencies: { fastify: "^5.0.0" },
      }),
      ...files,
    };
    for (const [rel, text] of Object.entries(tree)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    const r = spawnSync(BIOME, ["lint", "--max-diagnostics=50", "."], { cwd: dir, encoding: "utf8" });
    return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test("a clean tree passes (the fixture itself is not what fails)", async (t) => {
  const r = lint({
    "packages/coordinator/src/domain/ok.ts": 'import { a } from "./b.ts";\nexport const x = a;\n',
    "packages/coordinator/src/domain/b.ts": "export const a = 1;\n",
    "packages/coordinator/src/transport/http/app.ts":
      'import Fastify from "fastify";\nexport const app = Fastify;\n',
  });
  t.equal(r.code, 0, r.out);
});

t.test("domain/ importing fastify or a transport fails lint", async (t) => {
  const r = lint({
    "packages/coordinator/src/domain/bad.ts":
      'import Fastify from "fastify";\nimport { app } from "../transport/http/app.ts";\nexport const x = [Fastify, app];\n',
    "packages/coordinator/src/transport/http/app.ts": "export const app = 1;\n",
  });
  t.not(r.code, 0);
  t.match(r.out, /domain\/bad\.ts.*noRestrictedImports/);
  t.match(r.out, "HTTP lives in transport/");
  t.match(r.out, "domain/ imports no transport, server or adapter");
});

t.test("a test reaching into another package's src fails lint", async (t) => {
  const r = lint({
    "packages/coordinator/src/x.ts": "export const x = 1;\n",
    "test/coordinator/x.test.ts":
      'import { x } from "../../packages/coordinator/src/x.ts";\nexport const y = x;\n',
  });
  t.not(r.code, 0);
  t.match(r.out, /test\/coordinator\/x\.test\.ts.*noRestrictedImports/);
  t.match(r.out, "through its exports");
});

t.test("a package importing what its package.json does not declare fails lint", async (t) => {
  const r = lint({
    "packages/coordinator/src/y.ts": 'import { z } from "zod";\nexport const y = z;\n',
  });
  t.not(r.code, 0);
  t.match(r.out, "Dependency zod isn't specified in packages/coordinator/package.json");
});
