import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type NodePlan, parseRke2Token } from "@muster/shared";
import t from "tap";
import {
  answerChecks,
  CLUSTER_TOKEN,
  eventsOf,
  FakeLink,
  finish,
  formInit,
  join as joinNode,
  makeWorld,
  planOf,
  type World,
} from "../../helpers/domain.ts";

// Invariant 11 (docs/architecture.md#invariant-11): servers carry one agent-token, agents receive
// only a credential made from it; a cluster whose servers predate it keeps working (legacy).

const SERVER_PASSWORD = CLUSTER_TOKEN.split(":").at(-1)!;

async function joinAndRelease(w: World, name: string, role: "server" | "agent"): Promise<NodePlan> {
  joinNode(w, name, role);
  answerChecks(w, name);
  await w.coord.settle();
  return planOf(w, name);
}

t.test(
  "a new cluster: every server has the same agent-token, agents only the agent credential",
  async (t) => {
    const w = makeWorld(t);
    formInit(w, "s1");
    const init = planOf(w, "s1");
    const agentToken = init.config["agent-token"];
    t.type(agentToken, "string", "the init server carries agent-token");
    t.match(agentToken, /^[0-9a-f]{32}$/, "a generated 32-hex password, like RKE2's");
    t.notOk("token" in init.config, "the init server still generates the server token itself");

    const s2 = await joinAndRelease(w, "s2", "server");
    t.equal(s2.config["token"], CLUSTER_TOKEN, "servers get the server token");
    t.equal(s2.config["agent-token"], agentToken, "and the same agent-token (a critical value)");

    const a1 = await joinAndRelease(w, "a1", "agent");
    const credential = a1.config["token"] as string;
    t.notOk("agent-token" in a1.config, "agents do not get agent-token");
    t.notOk(JSON.stringify(a1).includes(SERVER_PASSWORD), "the agent's plan holds no server password");
    const parsed = parseRke2Token(credential);
    t.same(
      parsed,
      { caHash: parseRke2Token(CLUSTER_TOKEN).caHash, user: "node", password: agentToken },
      "K10<the cluster CA hash>::node:<agent-token>: it pins the CA and authenticates as rke2:agent",
    );

    // After a restart the joining agent gets the very same plan (tokens re-inserted from the vault).
    await w.coord.close();
    const again = w.reopen();
    const link = new FakeLink();
    again.coord.attach("a1", link, null);
    t.same(link.last("plan.apply")?.plan, a1, "the stored plan restores to the same checksum");
    await again.coord.close();
    const db = readFileSync(join(w.stateDir, "muster.db")).toString("latin1");
    t.notOk(db.includes(agentToken as string), "the agent token is not in the database in clear");
  },
);

/**
 * Rewrites the database as the version before the agent token left it: no mode, no agent token, and
 * stored plans without the secrets marker (which planFromStorage reads as "token = cluster token").
 */
function makeLegacy(stateDir: string): void {
  const db = new DatabaseSync(join(stateDir, "muster.db"));
  db.exec(`DELETE FROM meta WHERE key IN ('agent-token-mode', 'rke2-agent-token');
    UPDATE nodes SET plan = json_remove(plan, '$."$secrets"') WHERE plan IS NOT NULL;`);
  db.close();
}

function setMode(stateDir: string, mode: string): void {
  const db = new DatabaseSync(join(stateDir, "muster.db"));
  db.prepare("UPDATE meta SET value = ? WHERE key = 'agent-token-mode'").run(mode);
  db.close();
}

t.test(
  "an existing cluster (servers without agent-token) keeps working and is told how to move",
  async (t) => {
    // The old version's cluster: an init server and an agent that both got the server token.
    const w = makeWorld(t);
    await w.coord.close();
    setMode(w.stateDir, "legacy");
    const old = w.reopen();
    formInit(old, "s1");
    t.notOk("agent-token" in planOf(old, "s1").config, "legacy: a server gets no agent-token");
    const a1 = await joinAndRelease(old, "a1", "agent");
    t.equal(a1.config["token"], CLUSTER_TOKEN, "legacy: agents keep the server token");
    await old.coord.close();

    // The upgrade: this version opens a database with released plans and no mode.
    makeLegacy(w.stateDir);
    t.notMatch(readFileSync(join(w.stateDir, "muster.db")).toString("latin1"), /\$secrets/);
    const upgraded = old.reopen();
    t.ok(
      eventsOf(upgraded).some((e) => e.type === "cluster.agent-token.legacy"),
      "the first start on a cluster with plans records legacy mode, with the reason",
    );
    t.ok(
      upgraded.coord.getCluster().warnings.some((m) => m.includes("agents receive the server token")),
      "and the cluster view warns about it",
    );
    const link = new FakeLink();
    upgraded.coord.attach("a1", link, null);
    t.same(link.last("plan.apply")?.plan, a1, "an old stored plan restores to its old checksum");

    const s2 = await joinAndRelease(upgraded, "s2", "server");
    t.notOk(
      "agent-token" in s2.config,
      "a new server gets no agent-token (its join would fail on a critical config mismatch)",
    );
    t.equal(s2.config["token"], CLUSTER_TOKEN);
    const a2 = await joinAndRelease(upgraded, "a2", "agent");
    t.equal(a2.config["token"], CLUSTER_TOKEN, "new agents still join: no downtime for workers");
    finish(upgraded, "a2");
    t.equal(upgraded.coord.getNode("a2").state, "joined");
  },
);

t.test("a fresh database decides enforced mode once, and keeps it", async (t) => {
  const w = makeWorld(t);
  t.notOk(
    w.coord.getCluster().warnings.some((m) => m.includes("agent token")),
    "no legacy warning on a new cluster",
  );
  formInit(w, "s1");
  await w.coord.close();
  const again = w.reopen();
  const s2 = await joinAndRelease(again, "s2", "server");
  t.type(s2.config["agent-token"], "string", "plans released after a restart still carry agent-token");
  t.notOk(eventsOf(again).some((e) => e.type === "cluster.agent-token.legacy"));
});
