import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

// A small link checker for the repository's Markdown: every relative link must reach a file or
// directory inside the repository, and every #anchor must exist in its target the way GitHub renders
// it (heading slugs, de-duplicated with -1, -2, …, plus explicit <a id> / <a name> anchors). Code
// comments that cite the docs are checked too, so "docs/architecture.md, invariant N" and
// docs/rke2-behaviour.md "Section" never point at nothing.

export interface Link {
  file: string;
  line: number;
  target: string;
}

export interface Problem {
  file: string;
  line: number;
  target: string;
  reason: string;
}

const SKIP_DIRS = new Set(["node_modules", "dist", ".git", ".state"]);
const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/** Files under `root` (relative paths) for which `want` holds, skipping dependencies and build output. */
export function walk(root: string, want: (rel: string) => boolean, dir = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !entry.name.startsWith(".")) out.push(...walk(root, want, rel));
    } else if (entry.isFile() && want(rel)) out.push(rel);
  }
  return out.sort();
}

/** The text with fenced code blocks blanked (line numbers kept) and inline code spans removed. */
export function withoutCode(markdown: string): string[] {
  let fence: string | null = null;
  return markdown.split("\n").map((line) => {
    const opener = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence !== null) {
      if (opener && opener[1]!.startsWith(fence)) fence = null;
      return "";
    }
    if (opener) {
      fence = opener[1]!;
      return "";
    }
    return line.replace(/(`+)(?:(?!\1).)+?\1/g, "");
  });
}

/** Inline links and images `[text](target "title")` and reference definitions `[x]: target`. */
export function extractLinks(file: string, markdown: string): Link[] {
  const links: Link[] = [];
  withoutCode(markdown).forEach((text, i) => {
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
      links.push({ file, line: i + 1, target: m[1]! });
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text);
    if (def) links.push({ file, line: i + 1, target: def[1]! });
  });
  return links;
}

/** GitHub's heading anchor: rendered text, lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images keep their text
    .replace(/<[^>]+>/g, "") // inline HTML
    .replace(/[`*]/g, ""); // code and emphasis markers
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a Markdown document offers. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const lines = withoutCode(markdown);
  const raw = markdown.split("\n");
  lines.forEach((line, i) => {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+\s*)?$/.exec(line === "" ? "" : raw[i]!);
    if (heading) {
      const base = slug(heading[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s[^>]*\b(?:id|name)\s*=\s*["']([^"']+)["']/gi)) anchors.add(m[1]!);
  });
  return anchors;
}

/** What is wrong with one link, or null. `root` bounds where a relative link may lead. */
export function checkLink(root: string, link: Link, read: (abs: string) => string): string | null {
  if (EXTERNAL.test(link.target)) return null;
  const [rawPath, anchor] = link.target.split("#", 2) as [string, string | undefined];
  const fromDir = path.dirname(path.join(root, link.file));
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return "not a valid URL path";
  }
  const abs = decoded === "" ? path.join(root, link.file) : path.resolve(fromDir, decoded);
  const rel = path.relative(root, abs);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return "leads outside the repository";
  if (!existsSync(abs)) return "no such file or directory";
  if (anchor === undefined || anchor === "") return null;
  if (!statSync(abs).isFile() || !abs.endsWith(".md")) return `#${anchor} on a file that is not Markdown`;
  return anchorsOf(read(abs)).has(anchor.toLowerCase()) ? null : `no anchor #${anchor} in ${rel}`;
}

/** Every problem with the links of the given Markdown files. */
export function checkMarkdown(root: string, files: readonly string[]): Problem[] {
  const cache = new Map<string, string>();
  const read = (abs: string) => {
    let text = cache.get(abs);
    if (text === undefined) {
      text = readFileSync(abs, "utf8");
      cache.set(abs, text);
    }
    return text;
  };
  const problems: Problem[] = [];
  for (const file of files) {
    for (const link of extractLinks(file, read(path.join(root, file)))) {
      const reason = checkLink(root, link, read);
      if (reason) problems.push({ ...link, reason });
    }
  }
  return problems;
}

/**
 * Citations of the docs in source files: every `docs/X.md` must exist, `docs/X.md "Section"` must name
 * text found in that document, and `docs/architecture.md, invariant N` an invariant it anchors.
 */
export function checkCitations(root: string, files: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const docs = new Map<string, string | null>();
  const doc = (name: string) => {
    if (!docs.has(name)) {
      const abs = path.join(root, name);
      docs.set(name, existsSync(abs) ? readFileSync(abs, "utf8") : null);
    }
    return docs.get(name) ?? null;
  };
  for (const file of files) {
    readFileSync(path.join(root, file), "utf8")
      .split("\n")
      .forEach((text, i) => {
        const at = (target: string, reason: string) => problems.push({ file, line: i + 1, target, reason });
        for (const m of text.matchAll(/\bdocs\/([a-z0-9-]+\.md)(?:,? "([^"]+)"|, invariants? (\d+))?/g)) {
          const name = `docs/${m[1]}`;
          const body = doc(name);
          if (body === null) {
            at(m[0], `${name} does not exist`);
            continue;
          }
          if (m[2] && !body.toLowerCase().includes(m[2].toLowerCase()))
            at(m[0], `"${m[2]}" is not in ${name}`);
          if (m[3] && !anchorsOf(body).has(`invariant-${m[3]}`)) at(m[0], `${name} has no invariant ${m[3]}`);
        }
      });
  }
  return problems;
}
