// Least privilege in the lab (docs/architecture.md#invariant-11): the agent machine's config.yaml holds
// only the agent token, never the server token, and the simulated RKE2 lets that token in as
// rke2:agent only: the agent endpoints answer, the server bootstrap (what a server joining with it
// would need) is 403 Forbidden.
import { readFile } from "node:fs/promises";
import t from "tap";
import { parse } from "yaml";
import { cannotRun, enrol, startCluster } from "./scenario.ts";

const NAMES = ["server-1", "agent-1"];

const reason = cannotRun();
t.test(
  "an agent holds the agent token only, and it is no server credential",
  { skip: reason ?? false },
  async (t) => {
    const cluster = await startCluster(t, { servers: 1, agents: 1 });
    await enrol(t, cluster, NAMES);
    await cluster.waitForNodes(NAMES, "joined", 240_000);
    const config = async (name: string) =>
      parse(await readFile(cluster.world.node(name).path("/etc/rancher/rke2/config.yaml"), "utf8")) as Record<
        string,
        unknown
      >;
    const server = await config("server-1");
    const agent = await config("agent-1");
    const serverAgentToken = String(server["agent-token"] ?? "");
    t.ok(serverAgentToken.length >= 32, "the server carries an agent-token");
    const token = String(agent["token"] ?? "");
    const m = /^K10[0-9a-f]{64}::node:(.+)$/.exec(token);
    t.ok(m, "the agent's token is K10<ca hash>::node:<password>");
    t.equal(m?.[1], serverAgentToken, "its password is the servers' agent-token");
    t.not(token, server["token"], "the agent does not hold the server token");
    const agentFile = await readFile(
      cluster.world.node("agent-1").path("/etc/rancher/rke2/config.yaml"),
      "utf8",
    );
    t.notOk(
      agentFile.includes(String(server["token"])),
      "the server token appears nowhere in its config.yaml",
    );
    t.notOk("agent-token" in agent, "and no agent-token key either");

    // From the agent machine, with its own token: rke2:agent only.
    const via = cluster.world.node("agent-1");
    const supervisor = String(agent["server"]).replace(/\/+$/, "");
    const curl = (path: string) =>
      via.exec(
        "curl",
        [
          "-sk",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-u",
          `node:${m?.[1] ?? ""}`,
          `${supervisor}${path}`,
        ],
        {
          reject: false,
        },
      );
    t.equal((await curl("/v1-rke2/readyz")).stdout, "200", "the agent endpoints accept it");
    t.equal(
      (await curl("/v1-rke2/server-bootstrap")).stdout,
      "403",
      "the server bootstrap refuses it: a server started with it cannot join",
    );
  },
);
