import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { Files } from "@muster/agent/adapters/types";
import { configurePhase } from "@muster/agent/phases/configure";
import t from "tap";
import { parse } from "yaml";
import { fakeHost, samplePlan, TOKEN } from "../helpers/fakes.ts";
import { phaseContext } from "../helpers/phase-context.ts";

const DROPINS = "etc/rancher/rke2/config.yaml.d";

t.test("config.yaml: written atomically, mode 0600, content = plan.config; drop-ins kept", async (t) => {
  const root = t.testdir({
    etc: { rancher: { rke2: { "config.yaml.d": { "50-local.yaml": "kubelet-arg:\n  - max-pods=200\n" } } } },
  });
  const host = fakeHost(root);
  const writes: Array<{ path: string; mode: number }> = [];
  const files: Files = {
    ...host.files,
    writeAtomic: (p, d, m) => {
      writes.push({ path: p, mode: m });
      return host.files.writeAtomic(p, d, m);
    },
  };
  const plan = samplePlan();
  const prev = process.umask(0o022);
  t.teardown(() => {
    process.umask(prev);
  });
  const { ctx } = phaseContext({ ...host, files }, plan);
  const message = await configurePhase.run(ctx);
  const file = path.join(root, "etc/rancher/rke2/config.yaml");
  t.same(parse(readFileSync(file, "utf8")), plan.config);
  t.equal(statSync(file).mode & 0o777, 0o600);
  t.same(writes, [{ path: "/etc/rancher/rke2/config.yaml", mode: 0o600 }], "through the atomic writer, 0600");
  t.same(
    readdirSync(path.join(root, "etc/rancher/rke2")).sort(),
    ["config.yaml", "config.yaml.d"],
    "no temp file left",
  );
  t.equal(
    readFileSync(path.join(root, DROPINS, "50-local.yaml"), "utf8"),
    "kubelet-arg:\n  - max-pods=200\n",
  );
  t.match(message, /written; kept drop-ins: 50-local\.yaml/);
  t.notMatch(message, new RegExp(TOKEN.slice(3, 20)), "message never holds the token");
  t.equal(ctx.scratch.configChanged, true);

  writes.length = 0;
  const again = phaseContext({ ...host, files }, plan).ctx;
  t.match(await configurePhase.run(again), /unchanged/);
  t.same(writes, [], "identical config is not rewritten");
  t.equal(again.scratch.configChanged, false);
});

t.test("a drop-in that sets a key muster owns fails, naming file and key", async (t) => {
  for (const key of ["server", "token", "node-name", "node-ip", "node-ip+"]) {
    const root = t.testdir({
      etc: {
        rancher: {
          rke2: { "config.yaml.d": { "10-a.yaml": "cni: calico\n", "90-override.yaml": `${key}: x\n` } },
        },
      },
    });
    const { ctx } = phaseContext(fakeHost(root), samplePlan());
    await t.rejects(
      configurePhase.run(ctx),
      new RegExp(`config\\.yaml\\.d/90-override\\.yaml sets "${key.replace("+", "\\+")}"`),
      key,
    );
  }
});

t.test("a drop-in that is not YAML fails naming it", async (t) => {
  const root = t.testdir({ etc: { rancher: { rke2: { "config.yaml.d": { "bad.yaml": "a: [\n" } } } } });
  await t.rejects(
    configurePhase.run(phaseContext(fakeHost(root), samplePlan()).ctx),
    /bad\.yaml is not valid YAML/,
  );
});

t.test("manifests: written 0600 on servers, ignored on agents", async (t) => {
  const manifests = [{ name: "kube-vip.yaml", content: "apiVersion: v1\nkind: List\n" }];
  const root = t.testdir();
  await configurePhase.run(phaseContext(fakeHost(root), samplePlan({ manifests })).ctx);
  const m = path.join(root, "var/lib/rancher/rke2/server/manifests/kube-vip.yaml");
  t.equal(readFileSync(m, "utf8"), manifests[0]!.content);
  t.equal(statSync(m).mode & 0o777, 0o600);

  const agentRoot = t.testdir();
  await configurePhase.run(phaseContext(fakeHost(agentRoot), samplePlan({ role: "agent", manifests })).ctx);
  t.throws(() => statSync(path.join(agentRoot, "var/lib/rancher/rke2/server/manifests")));
});
