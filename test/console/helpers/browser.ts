// Debian's Chromium driven by playwright-core (never a downloaded browser), with a fresh profile and
// the flags that keep it from dialling out (this machine's closed network refuses those connections).
// Collects what counts as the page showing an error: uncaught exceptions and console errors.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why the browser test cannot run here, or null. */
export function browserMissing(): string | null {
  return existsSync(CHROMIUM)
    ? null
    : `${CHROMIUM} is missing (apt-get install chromium; scripts/setup.sh does)`;
}

export interface PageProblem {
  kind: "pageerror" | "console";
  text: string;
  url: string;
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  problems: PageProblem[];
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  const profile = mkdtempSync(path.join(tmpdir(), "muster-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport,
    // The coordinator's CA is its own (state-dir/tls/ca.crt); the page's security is not under test here.
    ignoreHTTPSErrors: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: PageProblem[] = [];
  page.on("pageerror", (err) => problems.push({ kind: "pageerror", text: err.message, url: page.url() }));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push({ kind: "console", text: msg.text(), url: msg.location().url });
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
