import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { rke2ConfigCredential } from "@muster/agent/tasks/handlers/config-credential";
import { TaskFailed } from "@muster/agent/tasks/types";
import t from "tap";
import { parse } from "yaml";
import { taskContext } from "../../helpers/task-context.ts";

// rke2.config-credential (the agent-token migration): one credential key set in config.yaml, every
// other key kept, 0600, the value never in a message; a drop-in that would override it refuses.

const CONFIG = "/etc/rancher/rke2/config.yaml";
const SECRET = "0123456789abcdef0123456789abcdef";

function put(root: string, p: string, body: string, mode = 0o600) {
  mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
  writeFileSync(path.join(root, p), body, { mode });
}

t.test("sets agent-token, keeps the rest, 0600; the same value again changes nothing", async (t) => {
  const root = t.testdir();
  put(root, CONFIG, "token: K10abc::server:pw\nnode-name: s2\ntls-san:\n  - 10.0.0.100\n", 0o644);
  const { ctx, progress, logLines } = taskContext(root);
  const task = { kind: "rke2.config-credential", key: "agent-token", value: SECRET } as const;
  t.same(await rke2ConfigCredential(task, ctx), { changed: true });
  const file = path.join(root, CONFIG);
  t.same(parse(readFileSync(file, "utf8")), {
    token: "K10abc::server:pw",
    "node-name": "s2",
    "tls-san": ["10.0.0.100"],
    "agent-token": SECRET,
  });
  t.equal(statSync(file).mode & 0o777, 0o600, "0600: it holds secrets");
  t.same(await rke2ConfigCredential(task, ctx), { changed: false }, "idempotent");
  t.notOk(
    [...progress, ...logLines].some((l) => l.includes(SECRET)),
    "the value is never echoed",
  );

  const agent = { kind: "rke2.config-credential", key: "token", value: `K10abc::node:${SECRET}` } as const;
  t.same(await rke2ConfigCredential(agent, ctx), { changed: true });
  t.equal(parse(readFileSync(file, "utf8")).token, `K10abc::node:${SECRET}`, "an agent's token replaced");
});

t.test("refused: no config.yaml, or a drop-in that sets the key", async (t) => {
  const root = t.testdir();
  const { ctx } = taskContext(root);
  const task = { kind: "rke2.config-credential", key: "agent-token", value: SECRET } as const;
  await t.rejects(rke2ConfigCredential(task, ctx), TaskFailed);
  put(root, CONFIG, "token: x\n");
  put(root, "/etc/rancher/rke2/config.yaml.d/50-local.yaml", "agent-token: other\n");
  await t.rejects(rke2ConfigCredential(task, ctx), /50-local\.yaml sets agent-token: remove it/);
  t.notMatch(readFileSync(path.join(root, CONFIG), "utf8"), /agent-token/, "config.yaml unchanged");
});
