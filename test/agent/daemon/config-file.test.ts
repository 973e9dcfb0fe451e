import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createFiles } from "@muster/agent/adapters/files";
import {
  AgentConfigError,
  enrolledConfig,
  loadAgentConfig,
  saveAgentConfig,
} from "@muster/agent/daemon/config-file";
import t from "tap";
import { parse } from "yaml";

const PIN = `sha256//${"A".repeat(43)}=`;
const YAML = `coordinatorUrl: https://10.0.0.1:9443\npin: "${PIN}"\njoinToken: abcdef.0123456789abcdef\n`;

function write(root: string, text: string, mode: number) {
  mkdirSync(path.join(root, "etc/muster"), { recursive: true });
  writeFileSync(path.join(root, "etc/muster/agent.yaml"), text);
  chmodSync(path.join(root, "etc/muster/agent.yaml"), mode);
}

t.test("refuses a group- or world-readable agent.yaml, telling how to fix it", async (t) => {
  for (const mode of [0o640, 0o604, 0o644]) {
    const root = t.testdir();
    write(root, YAML, mode);
    const err = await loadAgentConfig(createFiles(root), "/etc/muster/agent.yaml").catch((e) => e);
    t.ok(err instanceof AgentConfigError, mode.toString(8));
    t.match(err.message, /chmod 600 \/etc\/muster\/agent\.yaml/);
    t.match(err.message, /refusing to start/);
  }
});

t.test("loads a 0600 file; schema errors name the field", async (t) => {
  const root = t.testdir();
  write(root, YAML, 0o600);
  const c = await loadAgentConfig(createFiles(root), "/etc/muster/agent.yaml");
  t.equal(c.joinToken, "abcdef.0123456789abcdef");
  t.equal(c.stateDir, "/var/lib/muster/agent");
  write(root, YAML.replace("https://", "http://"), 0o600);
  await t.rejects(
    loadAgentConfig(createFiles(root), "/etc/muster/agent.yaml"),
    /coordinatorUrl: must be an https:\/\/ URL/,
  );
  await t.rejects(loadAgentConfig(createFiles(t.testdir()), "/etc/muster/agent.yaml"), /not found/);
});

t.test("after enrolment: node + credential, no join token, rewritten 0600", async (t) => {
  const root = t.testdir();
  write(root, YAML, 0o600);
  const files = createFiles(root);
  const c = await loadAgentConfig(files, "/etc/muster/agent.yaml");
  const next = enrolledConfig(c, "node-1", "c".repeat(43));
  await saveAgentConfig(files, "/etc/muster/agent.yaml", next);
  const file = path.join(root, "etc/muster/agent.yaml");
  t.equal(statSync(file).mode & 0o777, 0o600);
  const doc = parse(readFileSync(file, "utf8"));
  t.same(doc, {
    coordinatorUrl: "https://10.0.0.1:9443",
    pin: PIN,
    node: "node-1",
    credential: "c".repeat(43),
    stateDir: "/var/lib/muster/agent",
  });
  const again = await loadAgentConfig(files, "/etc/muster/agent.yaml");
  t.equal(again.joinToken, undefined);
  t.equal(again.credential, "c".repeat(43));
});
