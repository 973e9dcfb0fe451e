// The repository stands alone: every relative link in its Markdown resolves inside it (files and
// GitHub-style #anchors), and every code comment citing docs/ points at something that exists.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import t from "tap";
import { anchorsOf, checkCitations, checkMarkdown, extractLinks, slug, walk } from "./markdown-links.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

t.test(
  "slugs follow GitHub: lower case, punctuation dropped, spaces to hyphens, duplicates numbered",
  async (t) => {
    t.equal(slug("config.yaml"), "configyaml");
    t.equal(
      slug("How a server joins, and why joins must be serialised"),
      "how-a-server-joins-and-why-joins-must-be-serialised",
    );
    t.equal(slug("1. One init server"), "1-one-init-server");
    t.equal(slug("`muster-agent` and [the lab](x.md)"), "muster-agent-and-the-lab");
    t.equal(slug("Back up & restore"), "back-up--restore");
    const anchors = anchorsOf(
      '# Intro\n## Setup\n## Setup\n```\n# not a heading\n```\n<a id="invariant-3"></a>\n',
    );
    t.same([...anchors].sort(), ["intro", "invariant-3", "setup", "setup-1"]);
  },
);

t.test("links in code are ignored; inline links, images and definitions are found", async (t) => {
  const md = [
    'See [a](a.md) and ![img](img/x.png "title").',
    "`[not](a-link.md)` and",
    "```sh",
    "[also not](b.md)",
    "```",
    "[ref]: docs/c.md#part",
  ].join("\n");
  t.same(
    extractLinks("f.md", md).map((l) => [l.line, l.target]),
    [
      [1, "a.md"],
      [1, "img/x.png"],
      [6, "docs/c.md#part"],
    ],
  );
});

t.test("the checker reports broken files, missing anchors and links out of the repository", async (t) => {
  // Negative control: a scratch repository with one good and several bad links.
  const root = mkdtempSync(path.join(tmpdir(), "muster-links-"));
  mkdirSync(path.join(root, "docs"));
  writeFileSync(path.join(root, "docs/guide.md"), "# Guide\n## Install it\n");
  writeFileSync(
    path.join(root, "README.md"),
    [
      "[ok](docs/guide.md#install-it) [web](https://example.com/x) [self](#readme)",
      "# Readme",
      "[gone](docs/missing.md)",
      "[no anchor](docs/guide.md#uninstall)",
      "[outside](../elsewhere/notes.md)",
      "[here missing](#nowhere)",
    ].join("\n"),
  );
  const problems = checkMarkdown(root, ["README.md"]).map((p) => [p.line, p.target, p.reason]);
  t.same(problems, [
    [3, "docs/missing.md", "no such file or directory"],
    [4, "docs/guide.md#uninstall", "no anchor #uninstall in docs/guide.md"],
    [5, "../elsewhere/notes.md", "leads outside the repository"],
    [6, "#nowhere", "no anchor #nowhere in README.md"],
  ]);

  writeFileSync(path.join(root, "docs/architecture.md"), '<a id="invariant-2"></a>\n### 2. Lease\n');
  writeFileSync(
    path.join(root, "code.ts"),
    [
      '// ok: docs/architecture.md, invariant 2 and docs/guide.md "Install it"',
      "// bad: docs/architecture.md, invariant 9",
      '// bad: docs/guide.md "Upgrade"',
      "// bad: docs/install-somewhere.md",
    ].join("\n"),
  );
  t.same(
    checkCitations(root, ["code.ts"]).map((p) => [p.line, p.reason]),
    [
      [2, "docs/architecture.md has no invariant 9"],
      [3, '"Upgrade" is not in docs/guide.md'],
      [4, "docs/install-somewhere.md does not exist"],
    ],
  );
});

t.test("every relative link in the repository's Markdown resolves inside it", async (t) => {
  const files = walk(ROOT, (rel) => rel.endsWith(".md"));
  for (const required of [
    "README.md",
    "docs/architecture.md",
    "docs/reference.md",
    "docs/rke2-behaviour.md",
    "docs/operations.md",
    "CHANGELOG.md",
    "CONTRIBUTING.md",
  ])
    t.ok(files.includes(required), `${required} exists`);
  const problems = checkMarkdown(ROOT, files).map((p) => `${p.file}:${p.line} ${p.target}: ${p.reason}`);
  t.same(problems, [], "no broken links");
});

t.test("code comments cite docs that exist: files, quoted sections and invariants", async (t) => {
  // test/docs holds this checker's own examples of bad citations.
  const source = /\.(ts|sh|tmpl|service)$|\/systemctl$/;
  const files = walk(ROOT, (rel) => source.test(rel) && !rel.startsWith("test/docs/"));
  t.ok(files.length > 100, `scanned ${files.length} source files`);
  const problems = checkCitations(ROOT, files).map((p) => `${p.file}:${p.line} ${p.target}: ${p.reason}`);
  t.same(problems, [], "no citation points at nothing");
});
