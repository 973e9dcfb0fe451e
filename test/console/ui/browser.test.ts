// biome-ignore-all lint/performance/useDomNodeTextContent: the test reads what a person sees (rendered text), not the DOM text.
// The console in a real browser (Debian's Chromium) against a real coordinator whose nodes really
// join (helpers/fake-cluster.ts). It signs in (a wrong token first), mints every node's join command
// in the "Add node" dialog and runs it on a new machine, watches the cluster form live (phase, node
// table, why a node waits, the timeline, events), retries agents that failed their checks through the
// confirmation dialog (and sees a refusal verbatim), copies a command (the clipboard holds it exactly),
// shows an upgrade's plan and quorum verdict (a downgrade refused as sent), fits a narrow window, and goes
// back to sign-in when the token stops working. Any page error, console error or error banner other
// than the expected ones fails it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import t, { type Test } from "tap";
import { buildConsole } from "../../../scripts/lib/console-bundle.ts";
import { type Browser, browserMissing, openBrowser, type PageProblem } from "../helpers/browser.ts";
import { mintJoinCommand, text, waitFor } from "../helpers/console-page.ts";
import { type ClusterSource, NEEDS_ROOT, startCluster } from "../helpers/fake-cluster.ts";

const missing =
  browserMissing() ?? (NEEDS_ROOT && process.getuid?.() !== 0 ? "the cluster needs root" : null);
const reason = missing ? `browser test skipped: ${missing}` : null;

const SERVERS = ["server-1", "server-2", "server-3"];
// The fake hosts have 100 GiB of disk; agents need 250 GiB by default: both fail their checks first.
const AGENTS = ["agent-1", "agent-2"];

interface Ctx {
  t: Test;
  page: Page;
  cluster: ClusterSource;
  browser: Browser;
  /** Runs `step`, during which the browser is expected to log these failed requests; drops them. */
  expecting(status: number, route: string, step: () => Promise<void>): Promise<void>;
  noErrors(when: string): Promise<void>;
  shots: string;
}

async function signIn({ t, page, cluster, expecting, noErrors }: Ctx): Promise<void> {
  const first = await page.goto(`${cluster.url}/`);
  t.equal(first?.status(), 200);
  t.match(first?.headers()["content-security-policy"], /^default-src 'none'; script-src 'self'/);
  await expecting(401, "/v1/cluster", async () => {
    await page.getByLabel("Admin token").fill("not-the-admin-token-at-all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "did not accept that admin token" }).waitFor();
  });
  t.equal(await page.evaluate("sessionStorage.length"), 0, "a refused token is not kept");
  await page.getByLabel("Admin token").fill(cluster.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Nodes" }).waitFor();
  await waitFor(
    "the empty cluster",
    page,
    async () => (await text(page, "[data-testid=cluster-phase]")) === "empty",
  );
  await noErrors("signed in");
}

async function formServers({ t, page, cluster, noErrors }: Ctx): Promise<void> {
  await cluster.addNode("server-1", await mintJoinCommand(page, "server"));
  await waitFor("server-1 to join", page, async () =>
    (await text(page, "tr[data-node=server-1]")).includes("joined"),
  );
  // The rest at once: the coordinator releases one server at a time.
  for (const name of SERVERS.slice(1)) await cluster.addNode(name, await mintJoinCommand(page, "server"));
  for (const name of AGENTS) await cluster.addNode(name, await mintJoinCommand(page, "agent"));
  await waitFor(
    "3 servers ready",
    page,
    async () => (await text(page, "[data-testid=servers-ready]")) === "3 / 3",
  );
  t.match(await text(page, "tr[data-node=server-1]"), /init/);
  await noErrors("servers joined");
}

async function retryAgents({ t, page, cluster, expecting, noErrors, shots }: Ctx): Promise<void> {
  for (const name of AGENTS)
    await waitFor(`${name} to fail its checks`, page, async () =>
      (await text(page, `tr[data-node=${name}]`)).includes("check failed"),
    );
  await page.screenshot({ path: path.join(shots, "console-checks-failed.png"), fullPage: true });
  const row = await text(page, "tr[data-node=agent-2]");
  t.match(row, /check-failed: disk; fix them and run `muster retry agent-2`/, "why it waits, from the plan");
  t.match(await text(page, "[data-testid=cluster-phase]"), "forming");
  t.match(
    await page.getByRole("region", { name: "Cluster" }).innerText(),
    /agent agent-2 failed its checks \(disk\)/,
  );

  // The operator fixes the cause (the console does not edit the spec) and retries from the page.
  const spec = (await cluster.api("/v1/cluster/spec")) as { checks: { agent: { diskGiB: number } } };
  spec.checks.agent.diskGiB = 50;
  await cluster.api("/v1/cluster", "PUT", spec);
  await page.getByRole("button", { name: "Retry agent-2" }).click();
  const confirm = page.getByRole("dialog", { name: "Retry agent-2?" });
  t.match(await confirm.innerText(), /failed its host checks/);
  // First the coordinator refuses with details, the way DELETE /v1/nodes/:name will (409
  // QUORUM_GUARD): the dialog shows message and details as sent, and the operator may try again.
  const details = [{ path: "servers", message: "healthy now 3, after 2, quorum 2" }];
  await page.route("**/v1/nodes/agent-2/retry", (route) =>
    route.fulfill({
      status: 409,
      contentType: "application/json",
      body: JSON.stringify({
        error: { code: "QUORUM_GUARD", message: "removing would break quorum", details },
      }),
    }),
  );
  await expecting(409, "/v1/nodes/agent-2/retry", async () => {
    await confirm.getByRole("button", { name: "Retry", exact: true }).click();
    await confirm.getByText("The coordinator refused").waitFor();
  });
  const verdict = await confirm.getByRole("alert").innerText();
  t.match(verdict, /removing would break quorum\s+QUORUM_GUARD/);
  t.same(JSON.parse(await confirm.locator("pre.details").innerText()), details, "details verbatim");
  await page.unroute("**/v1/nodes/agent-2/retry");
  await confirm.getByRole("button", { name: "Retry", exact: true }).click();
  await confirm.waitFor({ state: "detached" });
  await waitFor("agent-2 to join after its retry", page, async () =>
    (await text(page, "tr[data-node=agent-2]")).includes("joined"),
  );

  // A verdict from the coordinator is shown as sent: agent-1 is retried elsewhere meanwhile.
  await page.getByRole("button", { name: "Retry agent-1" }).click();
  const late = page.getByRole("dialog", { name: "Retry agent-1?" });
  await late.waitFor();
  await cluster.api("/v1/nodes/agent-1/retry", "POST");
  await waitFor("agent-1 to join", page, async () =>
    (await text(page, "tr[data-node=agent-1]")).includes("joined"),
  );
  await expecting(409, "/v1/nodes/agent-1/retry", async () => {
    await late.getByRole("button", { name: "Retry", exact: true }).click();
    await late.getByText("The coordinator refused").waitFor();
  });
  t.match(
    await late.getByRole("alert").innerText(),
    /The coordinator refused: node agent-1 is joined; only failed or check-failed nodes can be retried\s+CONFLICT/,
  );
  await late.getByRole("button", { name: "Cancel" }).click();
  await late.waitFor({ state: "detached" });
  await noErrors("agents retried");
}

async function checkFormed({ t, page, cluster, noErrors, shots }: Ctx): Promise<void> {
  await waitFor(
    "the cluster to be ready",
    page,
    async () => (await text(page, "[data-testid=cluster-phase]")) === "ready",
  );
  for (const name of [...SERVERS, ...AGENTS]) {
    const row = await text(page, `tr[data-node="${name}"]`);
    t.match(row, /joined/, `${name} shows joined`);
    t.match(row, name.startsWith("server") ? /\bserver\b/ : /\bagent\b/);
    t.match(row, /127\.78\.0\.\d+/, `${name} shows its address`);
  }
  const summary = await page.getByRole("region", { name: "Cluster" }).innerText();
  t.match(summary, /Quorum\s+2 of 3 servers/);
  t.match(summary, /Fault tolerance\s+1 server may be lost/);
  t.match(summary, /Registration address\s+127\.78\.0\.10/);
  t.match(summary, /Agents ready\s+2 \/ 2/);
  t.notMatch(summary, /Warnings/, "no warning left");

  // Timeline: one bar per join, each from the coordinator's plan release to ready; servers in turn.
  const bars = await page.locator(".timeline-row").evaluateAll((rows) =>
    rows.map((r) => ({
      node: r.getAttribute("data-node")!,
      role: r.getAttribute("data-role")!,
      outcome: r.getAttribute("data-outcome")!,
      start: Number(r.getAttribute("data-start")),
      end: Number(r.getAttribute("data-end")),
    })),
  );
  t.same(bars.map((b) => b.node).sort(), [...SERVERS, ...AGENTS].sort());
  t.ok(
    bars.every((b) => b.outcome === "succeeded"),
    "every join succeeded",
  );
  const log = (await cluster.api("/v1/events?limit=1000")) as {
    events: Array<{ type: string; node?: string; time: string }>;
  };
  const at = (type: string, node: string) =>
    Date.parse(log.events.find((e) => e.type === type && e.node === node)?.time ?? "");
  for (const b of bars) {
    t.equal(b.start, at("node.join.started", b.node), `${b.node}'s bar starts at its plan release`);
    t.equal(b.end, at("node.join.succeeded", b.node), `${b.node}'s bar ends when it was ready`);
  }
  const servers = bars.filter((b) => b.role === "server").sort((a, b) => a.start - b.start);
  for (let i = 1; i < servers.length; i++)
    t.ok(
      servers[i]!.start >= servers[i - 1]!.end,
      `${servers[i]!.node} released after ${servers[i - 1]!.node} was ready`,
    );
  t.equal(await page.getByText("Server joins overlapped").count(), 0, "no overlap warning");

  // Events: newest first, the joins and the retry among them.
  const events = (await page.locator(".event-list li").allInnerTexts()).join("\n");
  for (const type of ["node.join.succeeded", "node.checks.failed", "node.retry", "cluster.token.captured"])
    t.match(events, type, `event ${type} shown`);
  const times = await page
    .locator(".event-list li time")
    .evaluateAll((ts) => ts.map((x) => x.getAttribute("datetime")!));
  t.same([...times].sort().reverse(), times, "newest first");

  const wide = path.join(shots, "console-1280x800.png");
  await page.screenshot({ path: wide });
  await page.screenshot({ path: path.join(shots, "console-1280-full.png"), fullPage: true });
  t.comment(`screenshot: ${wide}`);
  await noErrors("cluster formed");
}

async function copyCommand({ t, page, cluster, browser, noErrors }: Ctx): Promise<void> {
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: cluster.url });
  await page.getByRole("button", { name: "Add node" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a node" });
  await dialog.getByRole("radio", { name: /^Agent/ }).check();
  await dialog.getByRole("button", { name: "Create join command" }).click();
  const command = (await dialog.locator("#join-command").innerText()).trim();
  t.match(
    command,
    /^curl -fsSL -k --pinnedpubkey 'sha256\/\/[A-Za-z0-9+/=]+' https:\/\/127\.0\.0\.1:\d+\/v1\/bootstrap\.sh \| sudo sh -s - --token [a-z0-9]{6}\.\S+$/,
  );
  // Something else on the clipboard first, so only the button's copy can make the check pass.
  await page.evaluate('navigator.clipboard.writeText("not the command")');
  await dialog.getByRole("button", { name: "Copy command" }).click();
  await dialog.getByText("Copied to the clipboard.").waitFor();
  const copied: string = await page.evaluate("navigator.clipboard.readText()");
  t.equal(copied, command, "the clipboard holds exactly the one-liner");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  t.pass("Escape closes the dialog");
  await noErrors("copied a command");
}

async function narrowWindow({ t, page, shots }: Ctx): Promise<void> {
  await page.setViewportSize({ width: 400, height: 860 });
  const overflow: number = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
  t.ok(overflow <= 0, `no horizontal scrolling at 400 px (overflow ${overflow} px)`);
  await page.screenshot({ path: path.join(shots, "console-400-narrow.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function whatIfPanel({ t, page, noErrors }: Ctx): Promise<void> {
  // The coordinator's own what-if first, for the cluster that formed.
  const panel = page.getByRole("region", { name: "What if a server is lost" });
  await panel.waitFor();
  // Remove asks first and shows the quorum guard's verdict from the coordinator's what-if (3 servers:
  // without one, quorum is kept and no further server may be lost). Cancelled: nothing is removed.
  await page.getByRole("button", { name: "Remove server-2" }).click();
  const remove = page.getByRole("dialog", { name: "Remove server-2?" });
  t.match(
    await remove.innerText(),
    /Quorum guard: without server-2, quorum kept; no further server may be lost\./,
    "the remove confirmation shows the quorum guard's verdict",
  );
  await remove.getByRole("button", { name: "Cancel" }).click();
  await remove.waitFor({ state: "detached" });
  t.match(await panel.innerText(), /server-1: quorum (kept|lost)/, "the coordinator's what-if is shown");
  // Then a verdict this small cluster cannot give (quorum lost), answered in the route's shape.
  await page.route("**/v1/whatif", (route) =>
    route.fulfill({
      json: {
        servers: [
          { node: "server-1", ifLost: { quorumKept: true, toleranceLeft: 0 } },
          { node: "server-2", ifLost: { quorumKept: false, toleranceLeft: 0 } },
        ],
        warnings: ["losing two servers loses quorum"],
      },
    }),
  );
  await page.reload();
  await page.getByText("server-2: quorum lost").waitFor();
  const words = await panel.innerText();
  t.match(words, /server-1: quorum kept; no further server may be lost/);
  t.match(words, /server-2: quorum lost: etcd would stop accepting writes/);
  t.match(words, /losing two servers loses quorum/);
  await page.unroute("**/v1/whatif");
  await noErrors("what-if shown");
}

async function upgradeConfirm({ t, page, cluster, expecting, noErrors }: Ctx): Promise<void> {
  // The spec names the cluster's release (frozen at formation; only an upgrade moves it).
  const spec = (await cluster.api("/v1/cluster/spec")) as { rke2: { version?: string } };
  const current = spec.rke2.version ?? "";
  t.match(current, /^v\d+\.\d+\.\d+\+rke2r\d+$/, `the cluster's release is known: ${current}`);
  await page.getByRole("button", { name: "Upgrade RKE2" }).click();
  const dialog = page.getByRole("dialog", { name: "Upgrade RKE2" });
  // Not a version: the dialog says how to write one and sends nothing.
  await dialog.getByLabel("RKE2 version").fill("latest");
  await dialog.getByRole("button", { name: "Start upgrade" }).click();
  t.match(
    await dialog.getByRole("alert").innerText(),
    /“latest” is not an RKE2 version: write it like v1\.32\.4\+rke2r1/,
  );
  // The plan and the quorum guard's verdict from the coordinator's what-if, before anything runs.
  await dialog.getByLabel("RKE2 version").fill("v1.0.0+rke2r1");
  await dialog.getByLabel("Drain each node before its upgrade").check();
  const plan = await dialog.getByTestId("upgrade-plan").innerText();
  t.match(plan, /Snapshot etcd first/);
  t.match(
    plan,
    /Servers one at a time, the init server last: server-2, server-3, server-1 \(each: cordon, drain, install v1\.0\.0\+rke2r1/,
  );
  // Agents enrol in parallel, so their order in the plan is their enrolment order: either one.
  t.match(plan, /agents.*: (agent-1, agent-2|agent-2, agent-1)\./);
  const whatif = (await cluster.api("/v1/whatif")) as {
    servers: Array<{ ifLost: { toleranceLeft: number } }>;
  };
  t.equal(whatif.servers.length, 3);
  t.equal(
    await dialog.getByTestId("upgrade-verdict").innerText(),
    "Quorum guard: with any one of the 3 servers down for its restart, quorum kept; no further server may be lost.",
    "the verdict in the what-if's numbers",
  );
  // A downgrade: the coordinator refuses (nothing starts) and the dialog shows why, as sent.
  await expecting(400, "/v1/upgrades", async () => {
    await dialog.getByRole("button", { name: "Start upgrade" }).click();
    await dialog.getByText("The coordinator refused").waitFor();
  });
  const refusal = await dialog.getByRole("alert").innerText();
  t.match(refusal, /v1\.0\.0\+rke2r1/, "the refusal names the version asked for");
  t.ok(refusal.includes(current), "and the cluster's");
  t.comment(`upgrade refusal shown: ${refusal.replace(/\s+/g, " ")}`);
  const ops = (await cluster.api("/v1/operations")) as { operations: Array<{ type: string }> };
  t.notOk(
    ops.operations.some((o) => o.type === "upgrade"),
    "no upgrade operation was started",
  );
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await dialog.waitFor({ state: "detached" });
  await noErrors("upgrade confirmation");
}

async function tokenRefused({ t, page, cluster, expecting, noErrors }: Ctx): Promise<void> {
  await page.evaluate('sessionStorage.setItem("muster.adminToken", "replaced-token-0123456789")');
  await expecting(401, "/v1/", async () => {
    await page.reload();
    await page.getByText("no longer accepts this admin token").waitFor();
  });
  t.ok(await page.getByLabel("Admin token").isVisible(), "back at sign-in");
  t.equal(await page.evaluate('sessionStorage.getItem("muster.adminToken")'), null, "token forgotten");
  await page.getByLabel("Admin token").fill(cluster.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Nodes" }).waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("Signed out.").waitFor();
  t.equal(await page.evaluate("sessionStorage.length"), 0, "signing out clears the token");
  await noErrors("signed out");
}

t.test("the web console in Chromium, over a cluster that forms", { skip: reason ?? false }, async (t) => {
  const started = Date.now();
  const work = mkdtempSync(path.join(tmpdir(), "muster-console-test-"));
  const shots = mkdtempSync(path.join(tmpdir(), "muster-console-shots-"));
  let cluster: ClusterSource | null = null;
  let browser: Browser | null = null;
  t.teardown(async () => {
    await browser?.close();
    await cluster?.close();
    rmSync(work, { recursive: true, force: true }); // the screenshots stay, for people to look at
  });
  // The page as built from the current source, where the coordinator looks for it (dist/console).
  const root = path.resolve(import.meta.dirname, "../../..");
  const built = await buildConsole({
    entry: path.join(root, "packages/console/src/ui/main.tsx"),
    outDir: path.join(root, "dist/console"),
  });
  t.comment(
    `console bundle: ${built.assets.map((a) => `${a.name} ${a.bytes} B`).join(", ")}; ${built.gzipTotal} B gzipped`,
  );
  cluster = await startCluster(work);
  browser = await openBrowser({ width: 1280, height: 800 });
  const { page, problems } = browser;
  const ctx: Ctx = {
    t,
    page,
    cluster,
    browser,
    shots,
    async expecting(status, route, step) {
      const from = problems.length;
      await step();
      const matches = (p: PageProblem) =>
        p.kind === "console" && p.text.includes(`status of ${status}`) && p.url.includes(route);
      const late = problems.splice(from);
      t.ok(late.some(matches), `the browser logged the expected ${status} from ${route}`);
      problems.push(...late.filter((p) => !matches(p)));
    },
    async noErrors(when) {
      t.same(problems, [], `${when}: no page or console error`);
      t.equal(await page.locator(".error-banner").count(), 0, `${when}: no error banner`);
    },
  };
  try {
    await signIn(ctx);
    await formServers(ctx);
    await retryAgents(ctx);
    await checkFormed(ctx);
    await copyCommand(ctx);
    await narrowWindow(ctx);
    await whatIfPanel(ctx);
    await upgradeConfirm(ctx);
    await tokenRefused(ctx);
  } catch (err) {
    t.comment(cluster.logs());
    t.comment(JSON.stringify(problems, null, 2));
    throw err;
  }
  t.comment(`browser test ran ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shots}`);
});
