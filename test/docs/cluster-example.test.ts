// docs/cluster.example.yaml stays true: the coordinator's own config loader (the cluster spec schema)
// accepts it, every field of the schema appears in it (set, or commented out where two fields
// exclude each other or the value is a secret), and the defaults it names are the schema's.

import { readFileSync } from "node:fs";
import path from "node:path";
import { loadClusterConfig } from "@muster/coordinator/server/config-file";
import { ClusterSpecSchema, defaultSpec } from "@muster/shared";
import t from "tap";
import { z } from "zod";

const FILE = path.resolve(import.meta.dirname, "../../docs/cluster.example.yaml");
const TEXT = readFileSync(FILE, "utf8");

/** Every field path of an object schema, through defaults, optionals and refinements. */
function fieldPaths(schema: z.ZodType, prefix = ""): string[] {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else break;
  }
  if (!(s instanceof z.ZodObject)) return [];
  return Object.entries(s.shape as Record<string, z.ZodType>).flatMap(([key, inner]) => {
    const p = prefix ? `${prefix}.${key}` : key;
    return [p, ...fieldPaths(inner, p)];
  });
}

/** Keys as they appear in the file (set or commented out), with their nesting from indentation. */
function keysInFile(text: string): Set<string> {
  const found = new Set<string>();
  const stack: { indent: number; key: string }[] = [];
  for (const line of text.split("\n")) {
    const m = /^( *)(?:# ?)?( *)([A-Za-z][A-Za-z0-9]*):/.exec(line);
    if (!m) continue;
    const indent = m[1]!.length + m[2]!.length;
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop();
    const p = [...stack.map((s) => s.key), m[3]!].join(".");
    found.add(p);
    stack.push({ indent, key: m[3]! });
  }
  return found;
}

t.test("the coordinator's loader accepts the example", async (t) => {
  const spec = await loadClusterConfig(FILE);
  t.equal(spec.name, "prod-eu1");
  t.equal(spec.vip?.address, "10.0.0.100");
  t.equal(spec.backup?.s3?.bucket, "muster-snapshots");
  t.same(ClusterSpecSchema.parse(spec), spec, "it is a complete spec");
});

t.test("every field of the schema is in the example", async (t) => {
  const fields = fieldPaths(ClusterSpecSchema);
  t.ok(fields.length > 30, `the schema has ${fields.length} fields`);
  const inFile = keysInFile(TEXT);
  // Config maps take free-form RKE2 keys; only the schema's own fields must be listed.
  const missing = fields.filter((f) => !inFile.has(f));
  t.same(missing, [], "no field left out");
  const unknown = [...inFile].filter((k) => !fields.includes(k) && !/^(servers|agents)\.config\./.test(k));
  t.same(unknown, [], "no field the schema does not have");
});

t.test("the defaults the comments name are the schema's defaults", async (t) => {
  const d = defaultSpec();
  const said = (key: string) => new RegExp(`^ *#? *${key}: .*default:? "?([^";]+?)"?(;|$)`, "m");
  const checks: Array<[string, unknown]> = [
    ["heartbeat", d.timeouts.heartbeat],
    ["serverJoin", d.timeouts.serverJoin],
    ["agentJoin", d.timeouts.agentJoin],
    ["nodeLost", d.timeouts.nodeLost],
    ["retention", 5],
    ["region", "us-east-1"],
  ];
  for (const [key, value] of checks) {
    const m = said(key).exec(TEXT);
    t.ok(m, `${key} names its default`);
    t.equal(m?.[1]?.trim(), String(value), `${key}'s default`);
  }
  // The prose comments, joined across their lines.
  const prose = TEXT.replace(/\n\s*#\s*/g, " ");
  const says = (words: string) => t.ok(prose.includes(words), `the example says "${words}"`);
  says(`at the same time (servers always join one at a time). Default: ${d.agents.concurrency}.`);
  says(`no version is pinned. Default: ${d.rke2.channel}.`);
  says(`Default: ${d.rke2.installerUrl}`);
  const { server, agent } = d.checks;
  says(
    `Defaults: servers ${server.cpus} CPUs, ${server.memoryGiB} GiB memory, ${server.diskGiB} GiB disk; agents ${agent.cpus} CPUs, ${agent.memoryGiB} GiB memory, ${agent.diskGiB} GiB disk.`,
  );
  says(`Default: ${d.checks.reachability}.`);
  says(`Default: ${d.servers.dedicated}.`);
});
