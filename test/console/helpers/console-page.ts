// biome-ignore-all lint/performance/useDomNodeTextContent: the tests read what a person sees (rendered text), not the DOM text.
// Steps on the console page shared by the browser tests (fake hosts and lab).
import type { Page } from "playwright-core";

/** Polls `fn` until true; fails with what the page says after `ms`. */
export async function waitFor(
  what: string,
  page: Page,
  fn: () => Promise<boolean>,
  ms = 60_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; the page says:\n${await page.innerText("body")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The rendered text of `selector`, or "" while it is not there. */
export const text = (page: Page, selector: string) =>
  page
    .locator(selector)
    .innerText()
    .catch(() => "");

/** "Add node": picks the role and a 1-hour TTL, creates the command and returns it as shown. */
export async function mintJoinCommand(page: Page, role: "server" | "agent"): Promise<string> {
  await page.getByRole("button", { name: "Add node" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a node" });
  await dialog.getByRole("radio", { name: role === "server" ? /^Server/ : /^Agent/ }).check();
  await dialog.getByLabel("Join token valid for").selectOption({ label: "1 hour" });
  await dialog.getByRole("button", { name: "Create join command" }).click();
  const command = (await dialog.locator("#join-command").innerText()).trim();
  await dialog.getByRole("button", { name: "Done" }).click();
  await dialog.waitFor({ state: "detached" });
  return command;
}
