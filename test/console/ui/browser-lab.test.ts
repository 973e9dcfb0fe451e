// biome-ignore-all lint/performance/useDomNodeTextContent: the test reads what a person sees (rendered text), not the DOM text.
// The console in Debian's Chromium over a lab cluster (packages/lab: nodes are network namespaces
// running the simulated RKE2, the coordinator lives in its own namespace, reached through a loopback
// relay). The test signs in with the admin token, mints each node's join command with "Add node",
// runs it inside the node as pasted, and watches the cluster form on the page: every node reaches
// joined, the phase ready, and the join timeline shows the servers one after another, never
// overlapping; each pasted command printed its progress before its agent enrolled and never its token;
// Remove's confirmation shows the quorum guard's verdict; one server is then really removed from the page. It saves screenshots and fails on any page error, console error or error banner.
// Heavy (namespaces, root): run it through /work/bin/heavy.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { overlappingJoins } from "@muster/lab/cluster/membership";
import t from "tap";
import { buildConsole } from "../../../scripts/lib/console-bundle.ts";
import { type Browser, browserMissing, openBrowser } from "../helpers/browser.ts";
import { mintJoinCommand, text, waitFor } from "../helpers/console-page.ts";
import { type LabSource, labMissing, startLabCluster } from "../helpers/lab-cluster.ts";

const missing = browserMissing() ?? labMissing();
const reason = missing ? `lab browser test skipped: ${missing}` : null;

const SERVERS = ["server-1", "server-2", "server-3"];
const AGENTS = ["agent-1"];
// Under load (CI runs many suites on 2 cores) a lab cluster takes minutes to form; RKE2 itself
// retries a join etcd refuses, so only the end state is awaited, with generous deadlines.
const FORM_MS = 300_000;

t.test("the web console in Chromium, over a lab cluster that forms", { skip: reason ?? false }, async (t) => {
  const shots = mkdtempSync(path.join(tmpdir(), "muster-console-lab-shots-"));
  let cluster: LabSource | null = null;
  let browser: Browser | null = null;
  t.teardown(async () => {
    await browser?.close();
    await cluster?.close(); // the screenshots stay, for people to look at
  });
  const root = path.resolve(import.meta.dirname, "../../..");
  await buildConsole({
    entry: path.join(root, "packages/console/src/ui/main.tsx"),
    outDir: path.join(root, "dist/console"),
  });
  cluster = await startLabCluster({ servers: SERVERS.length, agents: AGENTS.length });
  browser = await openBrowser({ width: 1280, height: 800 });
  const { page, problems } = browser;
  const noErrors = async (when: string) => {
    t.same(problems, [], `${when}: no page or console error`);
    t.equal(await page.locator(".error-banner").count(), 0, `${when}: no error banner`);
  };
  try {
    const first = await page.goto(`${cluster.url}/`);
    t.equal(first?.status(), 200, "the console is served through the relay");
    await page.getByLabel("Admin token").fill(cluster.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Nodes" }).waitFor();
    await waitFor(
      "the empty cluster",
      page,
      async () => (await text(page, "[data-testid=cluster-phase]")) === "empty",
    );
    await noErrors("signed in");

    // The first server alone, then everything else at once: the coordinator orders the servers.
    await cluster.addNode("server-1", await mintJoinCommand(page, "server"));
    await waitFor(
      "server-1 to join",
      page,
      async () => (await text(page, "tr[data-node=server-1]")).includes("joined"),
      FORM_MS,
    );
    for (const name of SERVERS.slice(1)) await cluster.addNode(name, await mintJoinCommand(page, "server"));
    for (const name of AGENTS) await cluster.addNode(name, await mintJoinCommand(page, "agent"));
    await page.screenshot({ path: path.join(shots, "console-lab-forming.png"), fullPage: true });
    await waitFor(
      "every node joined and the cluster ready",
      page,
      async () =>
        (await text(page, "[data-testid=cluster-phase]")) === "ready" &&
        (await text(page, "[data-testid=servers-ready]")) === "3 / 3",
      FORM_MS,
    );
    // Each pasted command printed its progress while it ran, before its agent enrolled (what the demo
    // streams), and never the join token it carries.
    const log = (await cluster.api("/v1/events?limit=1000")) as {
      events: Array<{ type: string; node?: string; time: string }>;
    };
    for (const b of cluster.bootstraps) {
      const r = await b.run;
      t.equal(r.exitCode, 0, `the pasted command succeeded on ${b.name}`, { output: r.all });
      const enrolled = Date.parse(
        log.events.find((e) => e.type === "node.enrolled" && e.node === b.name)?.time ?? "",
      );
      const at = (re: RegExp) => b.lines.find((l) => re.test(l.line))?.at ?? Number.NaN;
      for (const step of [
        /^muster-bootstrap: downloaded muster-agent-linux-\w+\.tar\.gz: \d+ MiB/,
        /^muster-bootstrap: sha256 [0-9a-f]{64} matches/,
      ]) {
        const when = at(step);
        t.ok(when < enrolled, `${b.name}: "${step.source}" printed ${enrolled - when} ms before enrolment`);
      }
      const token = b.command.match(/--token (\S+)/)?.[1] ?? "";
      t.ok(
        token.length > 0 && !b.lines.some((l) => l.line.includes(token)),
        `${b.name}: no line carries the token`,
      );
    }
    const views = (await cluster.api("/v1/nodes")) as { nodes: Array<{ name: string; address: string }> };
    for (const name of [...SERVERS, ...AGENTS]) {
      const row = await text(page, `tr[data-node="${name}"]`);
      t.match(row, /joined/, `${name} shows joined`);
      t.match(row, name.startsWith("server") ? /\bserver\b/ : /\bagent\b/, `${name} shows its role`);
      const address = views.nodes.find((n) => n.name === name)?.address;
      t.ok(address && row.includes(address), `${name} shows its lab address ${address}`);
    }
    const summary = await page.getByRole("region", { name: "Cluster" }).innerText();
    t.match(summary, /Quorum\s+2 of 3 servers/);
    t.match(summary, /Fault tolerance\s+1 server may be lost/);

    // The timeline: one bar per join, from the plan release to ready; the servers in turn.
    await waitFor(
      "every join on the timeline",
      page,
      async () =>
        (await page.locator(".timeline-row[data-outcome=succeeded]").count()) ===
        SERVERS.length + AGENTS.length,
    );
    const bars = await page.locator(".timeline-row").evaluateAll((rows) =>
      rows.map((r) => ({
        node: r.getAttribute("data-node")!,
        role: r.getAttribute("data-role")!,
        outcome: r.getAttribute("data-outcome")!,
        start: Number(r.getAttribute("data-start")),
        end: Number(r.getAttribute("data-end")),
      })),
    );
    const servers = bars.filter((b) => b.role === "server").sort((a, b) => a.start - b.start);
    t.equal(servers[0]?.node, "server-1", "the timeline starts with the first server (enrolled alone)");
    t.same(servers.map((b) => b.node).sort(), SERVERS, "every server on the timeline, once");
    for (let i = 1; i < servers.length; i++)
      t.ok(
        servers[i]!.start >= servers[i - 1]!.end,
        `${servers[i]!.node} released after ${servers[i - 1]!.node} was ready`,
      );
    t.equal(await page.getByText("Server joins overlapped").count(), 0, "no overlap warning");
    // The page's bars agree with etcd's own membership history: never two learners at once.
    t.same(
      overlappingJoins(cluster.lab.etcdJoinWindows(), Date.now()),
      [],
      "etcd's membership history has no overlapping learner windows either",
    );
    const events = (await page.locator(".event-list li").allInnerTexts()).join("\n");
    t.match(events, "node.join.succeeded", "join events in the event stream");

    // Remove asks first, with the quorum guard's verdict from the coordinator's what-if; cancelled.
    await page.getByRole("button", { name: "Remove server-2" }).click();
    const remove = page.getByRole("dialog", { name: "Remove server-2?" });
    await waitFor("the what-if verdict in the remove confirmation", page, async () =>
      /Quorum guard: without server-2, quorum kept; no further server may be lost\./.test(
        await remove.innerText(),
      ),
    );
    await page.screenshot({ path: path.join(shots, "console-lab-remove.png") });
    await remove.getByRole("button", { name: "Cancel" }).click();
    await remove.waitFor({ state: "detached" });
    t.pass("the remove confirmation showed the quorum guard's verdict and was cancelled");

    const shot = path.join(shots, "console-lab-formed.png");
    await page.screenshot({ path: shot, fullPage: true });
    await noErrors("cluster formed");

    // A real removal from the page: server-3. The confirmation's verdict is the what-if's numbers for
    // it (quorum kept, tolerance 0 left); confirmed, the coordinator's remove operation runs to the
    // end, etcd loses the member, and the page shows the node removed and 2 servers.
    const whatif = (await cluster.api("/v1/whatif")) as {
      servers: Array<{ node: string; ifLost: { quorumKept: boolean; toleranceLeft: number } }>;
    };
    t.same(
      whatif.servers.find((s) => s.node === "server-3")?.ifLost,
      { quorumKept: true, toleranceLeft: 0 },
      "the coordinator's what-if for server-3",
    );
    await page.getByRole("button", { name: "Remove server-3" }).click();
    const real = page.getByRole("dialog", { name: "Remove server-3?" });
    await waitFor("the what-if verdict for server-3", page, async () =>
      /Quorum guard: without server-3, quorum kept; no further server may be lost\./.test(
        await real.innerText(),
      ),
    );
    await real.getByRole("button", { name: "Remove", exact: true }).click();
    await real.waitFor({ state: "detached" });
    // The page follows the node: removing while the operation runs, then removed (or gone).
    const badge = 'tr[data-node="server-3"] .badge';
    const seen = new Set<string>();
    let op: { state: string } | undefined;
    await waitFor(
      "the remove operation to finish",
      page,
      async () => {
        seen.add(await text(page, badge));
        const ops = (await cluster!.api("/v1/operations")) as {
          operations: Array<{ type: string; node?: string; state: string }>;
        };
        op = ops.operations.find((o) => o.type === "remove" && o.node === "server-3");
        return op?.state === "succeeded" || op?.state === "failed";
      },
      FORM_MS,
    );
    t.equal(op?.state, "succeeded", "the remove operation succeeded", { op });
    await waitFor(
      "server-3 shown removed",
      page,
      async () => (await page.locator(badge).count()) === 0 || (await text(page, badge)) === "removed",
    );
    t.ok(seen.has("removing"), "the page showed server-3 removing while the operation ran", {
      seen: [...seen],
    });
    t.notOk(
      cluster.lab.etcdMembers().some((m) => m.name.includes("server-3")),
      "etcd no longer has server-3",
    );
    await waitFor(
      "2 servers left",
      page,
      async () => (await text(page, "[data-testid=servers-ready]")) === "2 / 2",
    );
    await page.screenshot({ path: path.join(shots, "console-lab-removed.png"), fullPage: true });
    t.comment(`screenshots in ${shots}`);
    await noErrors("server-3 removed");
  } catch (err) {
    t.comment(cluster.logs());
    t.comment(JSON.stringify(problems, null, 2));
    throw err;
  }
});
