import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import t from "tap";
import { buildConsole } from "../../scripts/lib/console-bundle.ts";

// The real console build (esbuild over packages/console): content-hashed assets that index.html
// names, nothing rewritten when nothing changed, earlier builds' assets removed, and a small bundle.
const ROOT = path.resolve(import.meta.dirname, "../..");
const ENTRY = path.join(ROOT, "packages/console/src/ui/main.tsx");

t.test("builds hashed assets and an index.html naming them", async (t) => {
  const outDir = path.join(t.testdir(), "console");
  const built = await buildConsole({ entry: ENTRY, outDir });
  const names = readdirSync(path.join(outDir, "assets")).sort();
  t.equal(names.length, 2);
  const jsName = names.find((n) => n.endsWith(".js"));
  t.match(jsName, /^app-[A-Z0-9]{8}\.js$/);
  t.match(
    names.find((n) => n.endsWith(".css")),
    /^app-[A-Z0-9]{8}\.css$/,
  );
  const index = readFileSync(path.join(outDir, "index.html"), "utf8");
  for (const n of names) t.ok(index.includes(`./assets/${n}`), `index.html names ${n}`);
  t.notMatch(index, /<script>|style=/, "no inline script or style (the CSP forbids them)");
  t.match(index, /<div id="app"><\/div>/);
  t.same(built.assets.map((a) => a.name).sort(), names);
  t.ok(built.gzipTotal < 40 * 1024, `small: ${built.gzipTotal} bytes gzipped`);
  const js = readFileSync(path.join(outDir, "assets", jsName!), "utf8");
  t.notMatch(js, /from"@muster\/shared"|zod|pino/, "only types come from @muster/shared");

  const mtimes = () =>
    [...names, "../index.html"].map((n) => statSync(path.join(outDir, "assets", n)).mtimeMs);
  const before = mtimes();
  writeFileSync(path.join(outDir, "assets", "app-OLDBUILD.js"), "old");
  await buildConsole({ entry: ENTRY, outDir });
  t.same(readdirSync(path.join(outDir, "assets")).sort(), names, "an earlier build's asset is gone");
  t.same(mtimes(), before, "unchanged files are not rewritten");
});
