import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { rke2ExistingCheck } from "@muster/agent/checks/rke2-existing";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";
import { TOKEN } from "../helpers/fakes.ts";

function serverData(root: string, token?: string) {
  mkdirSync(path.join(root, "var/lib/rancher/rke2/server/db"), { recursive: true });
  if (token) writeFileSync(path.join(root, "var/lib/rancher/rke2/server/token"), token, { mode: 0o600 });
}

t.test("rke2-existing: nothing installed passes", async (t) => {
  const r = await rke2ExistingCheck.run(checkContext(t.testdir()));
  t.equal(r.status, "pass");
  t.match(r.message, /not installed/);
});

t.test("rke2-existing: matching role passes (reused); other version warns", async (t) => {
  const root = t.testdir();
  const facts = { rke2: { installed: true, version: "v1.33.5+rke2r1", role: "server" as const } };
  const same = await rke2ExistingCheck.run(
    checkContext(root, { facts, request: { expectedVersion: "v1.33.5+rke2r1" } }),
  );
  t.equal(same.status, "pass");
  t.match(same.message, /reused/);
  const other = await rke2ExistingCheck.run(
    checkContext(root, { facts, request: { expectedVersion: "v1.34.1+rke2r1" } }),
  );
  t.equal(other.status, "warn");
  t.match(other.message, /v1\.33\.5\+rke2r1 is installed; the plan wants v1\.34\.1\+rke2r1/);
});

t.test("rke2-existing: agent installed but server wanted fails", async (t) => {
  const r = await rke2ExistingCheck.run(
    checkContext(t.testdir(), {
      facts: { rke2: { installed: true, version: "v1.33.5+rke2r1", role: "agent" } },
    }),
  );
  t.equal(r.status, "fail");
  t.match(r.message, /as an agent but this node should be a server/);
  t.match(r.fix, /rke2-uninstall\.sh/);
});

t.test("rke2-existing: server data on a node meant as agent fails", async (t) => {
  const root = t.testdir();
  serverData(root);
  const r = await rke2ExistingCheck.run(
    checkContext(root, {
      request: { role: "agent" },
      facts: { rke2: { installed: true, version: "v1.33.5+rke2r1" } },
    }),
  );
  t.equal(r.status, "fail");
  t.match(r.message, /server data exists/);
});

t.test("rke2-existing: leftover data without RKE2 fails", async (t) => {
  const root = t.testdir();
  serverData(root);
  const r = await rke2ExistingCheck.run(checkContext(root));
  t.equal(r.status, "fail");
  t.match(r.message, /left from an earlier cluster/);
});

t.test("rke2-existing: data of another cluster (different CA hash) fails; ours passes", async (t) => {
  const root = t.testdir();
  serverData(root, TOKEN);
  const facts = { rke2: { installed: true, version: "v1.33.5+rke2r1", role: "server" as const } };
  const foreign = await rke2ExistingCheck.run(
    checkContext(root, { facts, request: { clusterCaHash: "c".repeat(64) } }),
  );
  t.equal(foreign.status, "fail");
  t.match(foreign.message, /another cluster/);
  const ours = await rke2ExistingCheck.run(
    checkContext(root, { facts, request: { clusterCaHash: "a".repeat(64) } }),
  );
  t.equal(ours.status, "pass");
});
