import {
  CHECK_NAMES,
  ClusterSpecSchema,
  defaultSpec,
  type MusterError,
  parseOrThrow,
  parseYamlAs,
  publicSpec,
} from "@muster/shared";
import t from "tap";

t.test("an empty spec gets the documented defaults", async (t) => {
  const spec = defaultSpec();
  t.equal(spec.name, "default");
  t.same(spec.checks.server, { cpus: 2, memoryGiB: 4, diskGiB: 50 });
  t.same(spec.checks.agent, { cpus: 2, memoryGiB: 4, diskGiB: 250 });
  t.equal(spec.agents.concurrency, 10);
  t.equal(spec.rke2.channel, "stable");
  t.equal(spec.rke2.installerUrl, "https://get.rke2.io");
  t.equal(spec.servers.dedicated, false);
});

t.test("every bad field is named", async (t) => {
  const yaml = [
    "name: Bad_Name",
    "vip: { address: 10.0.0, interface: eth0 }",
    "rke2: { version: '1.33', token: 'has space' }",
    "servers: { config: { token: x } }",
    "agents: { concurrency: 0 }",
    "surprise: 1",
  ].join("\n");
  const err = t.throws(() => parseYamlAs(ClusterSpecSchema, yaml, "cluster spec")) as unknown as MusterError;
  t.equal(err.code, "VALIDATION_FAILED");
  const paths = err.details!.map((d) => d.path).sort();
  t.same(paths, [
    "agents.concurrency",
    "name",
    "rke2.token",
    "rke2.version",
    "servers.config.token",
    "surprise",
    "vip.address",
  ]);
});

t.test("checks.ignore takes only known check names, naming the bad entry and the valid ones", async (t) => {
  const ok = ClusterSpecSchema.parse({ checks: { ignore: ["swap", "vip-subnet", "vip-subnet-matches"] } });
  t.same(ok.checks.ignore, ["swap", "vip-subnet", "vip-subnet-matches"], "agent and coordinator names");
  const err = t.throws(() =>
    parseOrThrow(ClusterSpecSchema, { checks: { ignore: ["swap", "vip-subnett"] } }, "cluster spec"),
  ) as unknown as MusterError;
  t.equal(err.code, "VALIDATION_FAILED");
  t.same(
    err.details!.map((d) => d.path),
    ["checks.ignore.1"],
  );
  t.match(err.message, 'checks.ignore.1: unknown check "vip-subnett"; valid names: root, os-arch,');
  for (const name of CHECK_NAMES) t.match(err.details![0]!.message, name, `lists ${name}`);
  t.equal(new Set(CHECK_NAMES).size, CHECK_NAMES.length, "one list, no name twice");
});

t.test("YAML syntax errors are validation errors, not crashes", async (t) => {
  const err = t.throws(() =>
    parseYamlAs(ClusterSpecSchema, "name: [unclosed", "spec"),
  ) as unknown as MusterError;
  t.equal(err.code, "VALIDATION_FAILED");
  t.match(err.message, /not valid YAML/);
});

t.test("the public spec never carries the token", async (t) => {
  const spec = ClusterSpecSchema.parse({ rke2: { token: "supersecretpw" } });
  const shown = JSON.stringify(publicSpec(spec));
  t.notMatch(shown, /supersecretpw/);
  t.match(shown, /"tokenSet":true/);
});
