import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { listBackup, restoreState } from "@muster/coordinator/server/state-backup";
import type { CoordinatorFrame } from "@muster/shared";
import t from "tap";
import type { WebSocket } from "ws";
import { facts } from "../helpers/harness.ts";
import { fetchJson, pinnedWebSocket, runCli, startServe, waitFor } from "../helpers/spawn.ts";

// The coordinator's own backup (docs/operations.md#coordinator-backup): taken from a running
// coordinator with enrolled nodes, restored into a fresh state dir, and served again: same pin, same
// admin token, same nodes, and the agents' credentials still open the channel.

const TOKEN = `K10${"ab".repeat(32)}::server:${"5e".repeat(16)}`;

t.test(
  "backup while serving, restore on a new state dir: same pin, admin token, nodes, credentials",
  async (t) => {
    const dir = t.testdir({ "cluster.yaml": `name: lab\nrke2:\n  token: "${TOKEN}"\n` });
    const first = join(dir, "first");
    const served = await startServe([
      "--state-dir",
      first,
      "--listen",
      "127.0.0.1:0",
      "--config",
      join(dir, "cluster.yaml"),
    ]);
    t.teardown(() => served.child.kill("SIGKILL"));
    const admin = readFileSync(join(first, "admin-token"), "utf8").trim();

    const credentials: Record<string, string> = {};
    const machines: Record<string, ReturnType<typeof facts>> = {};
    for (const [name, role] of [
      ["s-1", "server"],
      ["w-1", "agent"],
    ] as const) {
      const join = await fetchJson(served.url, "/v1/join-tokens", admin, { role });
      t.equal(join.status, 201);
      machines[name] = facts(name);
      const ws = await open(served.url, served.pin);
      ws.send(
        JSON.stringify({
          type: "enrol",
          joinToken: join.body.token,
          facts: machines[name],
          agentVersion: "1",
        }),
      );
      const welcome = await nextFrame(ws, "welcome");
      credentials[name] = welcome.credential ?? "";
      ws.close();
    }

    // Taken while serve runs and holds the database open (WAL).
    const file = join(dir, "coordinator.backup");
    const backup = await runCli(["backup", "--state-dir", first, "--to", file]);
    t.equal(backup.code, 0, backup.stderr);
    t.match(backup.stdout, `written to ${file}`);
    t.equal(statSync(file).mode & 0o777, 0o600, "the backup file is 0600");
    t.same(
      await listBackup(file),
      [
        "admin-token",
        "manifest.json",
        "muster.db",
        "plan.key",
        "tls/ca.crt",
        "tls/ca.key",
        "tls/server.crt",
        "tls/server.key",
        "vault.key",
      ],
      "database, vault and plan keys, TLS and admin token in one file",
    );
    const raw = execFileSync("sh", ["-c", `gzip -dc '${file}'`]).toString("latin1");
    t.notOk(raw.includes(TOKEN), "the cluster token is only in sealed form inside");
    served.child.kill("SIGTERM");
    t.equal(await served.exited, 0);

    const second = join(dir, "second");
    const restored = await runCli(["restore", "--from", file, "--state-dir", second]);
    t.equal(restored.code, 0, restored.stderr);
    t.match(restored.stdout, `serve --state-dir ${second}`);
    for (const f of ["muster.db", "vault.key", "admin-token", "tls/server.key", "tls/ca.key"])
      t.equal(statSync(join(second, f)).mode & 0o777, 0o600, `${f} is 0600`);
    t.equal(statSync(second).mode & 0o777, 0o700);

    const again = await startServe(["--state-dir", second, "--listen", "127.0.0.1:0"]);
    t.teardown(() => again.child.kill("SIGKILL"));
    t.equal(again.pin, served.pin, "the pin printed in every join command stays valid");
    const nodes = await fetchJson(again.url, "/v1/nodes", admin);
    t.equal(nodes.status, 200, "the old admin token works");
    t.same(nodes.body.nodes.map((n: { name: string }) => n.name).sort(), ["s-1", "w-1"], "nodes listed");
    const spec = await fetchJson(again.url, "/v1/cluster/spec", admin);
    t.match(spec.body, { name: "lab", rke2: { tokenSet: true } }, "the spec came along");

    for (const name of ["s-1", "w-1"]) {
      const ws = await open(again.url, again.pin);
      ws.send(
        JSON.stringify({
          type: "hello",
          node: name,
          credential: credentials[name],
          facts: machines[name],
          agentVersion: "1",
          appliedChecksum: null,
        }),
      );
      await waitFor(
        async () => (await fetchJson(again.url, `/v1/nodes/${name}`, admin)).body.connected === true,
      );
      t.pass(`${name} reconnected with its old credential`);
      ws.close();
    }
    const wrong = await open(again.url, again.pin);
    const closed = new Promise<number>((r) => wrong.once("close", (code) => r(code)));
    wrong.send(
      JSON.stringify({
        type: "hello",
        node: "w-1",
        credential: "x".repeat(43),
        facts: machines["w-1"],
        agentVersion: "1",
        appliedChecksum: null,
      }),
    );
    t.not(await closed, 1000, "a wrong credential is still refused (control)");
    again.child.kill("SIGTERM");
    t.equal(await again.exited, 0);

    const over = await runCli(["restore", "--from", file, "--state-dir", second]);
    t.equal(over.code, 1);
    t.match(over.stderr, /already holds a coordinator database/, "never restores over a live state dir");
  },
);

t.test("restore refuses a damaged or foreign file and writes nothing", async (t) => {
  const dir = t.testdir({ "junk.tgz": "not a tar at all" });
  const junk = await runCli(["restore", "--from", join(dir, "junk.tgz"), "--state-dir", join(dir, "a")]);
  t.equal(junk.code, 1);
  t.match(junk.stderr, /^muster-coordinator: [^\n]*not a coordinator backup/);

  // A real backup with one byte of the database changed fails its checksum.
  const state = join(dir, "state");
  const served = await startServe(["--state-dir", state, "--listen", "127.0.0.1:0"]);
  served.child.kill("SIGTERM");
  await served.exited;
  const file = join(dir, "b.tgz");
  t.equal((await runCli(["backup", "--state-dir", state, "--to", file])).code, 0);
  const tampered = join(dir, "tampered");
  execFileSync("sh", [
    "-c",
    `mkdir '${tampered}' && cd '${tampered}' && tar xzf '${file}' && printf X | dd of=muster.db bs=1 seek=200 conv=notrunc 2>/dev/null && tar czf ../t.tgz *`,
  ]);
  const target = join(dir, "target");
  await t.rejects(
    restoreState({ from: join(dir, "t.tgz"), stateDir: target }),
    /does not match its checksum/,
  );
  t.same(execFileSync("ls", ["-A", target]).toString(), "", "nothing was written");

  const usage = await runCli(["backup", "--state-dir", state]);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /--to: is required/);
  const unknown = await runCli(["restore", "--form", file]);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown flag --form/);
  const missing = await runCli(["backup", "--state-dir", join(dir, "nothing"), "--to", join(dir, "x")]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /holds no coordinator database/);
  const help = await runCli(["backup", "--help"]);
  t.match(help.stdout, /--to FILE/);
  t.match((await runCli(["--help"])).stdout, /restore/);
});

function open(url: string, pin: string): Promise<WebSocket> {
  const ws = pinnedWebSocket(`${url.replace("https", "wss")}/v1/agent`, pin);
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function nextFrame<T extends CoordinatorFrame["type"]>(
  ws: WebSocket,
  type: T,
): Promise<Extract<CoordinatorFrame, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} frame`)), 10_000);
    const onMessage = (data: unknown) => {
      const frame = JSON.parse(String(data)) as CoordinatorFrame;
      if (frame.type !== type) return;
      clearTimeout(timer);
      ws.off("message", onMessage);
      resolve(frame as Extract<CoordinatorFrame, { type: T }>);
    };
    ws.on("message", onMessage);
  });
}
