// npm run demo [-- --servers N --agents M --json]: builds a throwaway world of nodes (network + mount
// namespaces), runs the real coordinator, enrols every node with the curl-bash one-liner, shows the
// coordinator's events live, prints a summary and removes everything. With --json the progress goes
// to stderr and one JSON object (docs/reference.md) is printed last on stdout.
import { parseArgs } from "node:util";
import { type SimDurations, TestCluster } from "@muster/lab/cluster/test-cluster";
import { demoFailover } from "./demo-failover.ts";
import {
  type DemoSummary,
  formatBootstrapLine,
  formatEvent,
  formatSummary,
  lowerBoundSeconds,
  overheadOf,
  overlappingServerJoins,
  progressLine,
  serverJoins,
} from "./demo-report.ts";
import { cannotRun } from "./scenario.ts";

const USAGE = `Usage: npm run demo -- [--servers N] [--agents M] [--json] [--registration vip|node]
                     [--failover] [--init-seconds S] [--join-seconds S] [--agent-seconds S]

Builds a throwaway cluster of simulated nodes (Linux namespaces on this machine, RKE2 simulated on real
etcd), bootstraps it through the real coordinator and agents, and removes it again. Needs root.

  --servers N        servers (default 3)
  --agents M         agents/workers (default 2)
  --json             print one JSON summary object last on stdout (progress goes to stderr)
  --registration M   vip (default: a VIP run by kube-vip, which muster deploys) or node (the init
                     server's IP)
  --failover         after the cluster formed, stop rke2-server on the VIP holder and report how long
                     the VIP took to move and whether the API answers through it (needs --registration
                     vip and 3+ servers)
  --init-seconds S   simulated first server, seconds from service start to ready (default 60)
  --join-seconds S   simulated further server, seconds from service start to ready (default 60)
  --agent-seconds S  simulated agent, seconds from service start to ready (default 30)
  -h, --help         show this help`;

function usageError(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

function parse() {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        servers: { type: "string", default: "3" },
        agents: { type: "string", default: "2" },
        json: { type: "boolean", default: false },
        registration: { type: "string", default: "vip" },
        failover: { type: "boolean", default: false },
        "init-seconds": { type: "string", default: "60" },
        "join-seconds": { type: "string", default: "60" },
        "agent-seconds": { type: "string", default: "30" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usageError((err as Error).message.split("\n")[0]!);
  }
  if (values["help"]) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (flag: string, min: number, max: number): number => {
    const raw = String(values[flag]);
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max)
      usageError(`--${flag} must be a whole number from ${min} to ${max}`);
    return n;
  };
  const registration = String(values["registration"]);
  if (registration !== "vip" && registration !== "node") usageError("--registration must be vip or node");
  const servers = int("servers", 1, 9);
  if (values["failover"] === true && (registration !== "vip" || servers < 3))
    usageError("--failover needs --registration vip and at least 3 servers (quorum after the stop)");
  return {
    registration: registration as "vip" | "node",
    failover: values["failover"] === true,
    servers,
    agents: int("agents", 0, 20),
    json: values["json"] === true,
    durations: {
      initSeconds: int("init-seconds", 0, 600),
      joinSeconds: int("join-seconds", 0, 600),
      agentSeconds: int("agent-seconds", 0, 600),
      promoteIntervalSeconds: 1,
    } satisfies SimDurations,
  };
}

async function main(): Promise<number> {
  const opts = parse();
  const say = (line: string) => (opts.json ? process.stderr : process.stdout).write(`${line}\n`);
  const reason = cannotRun();
  if (reason) {
    process.stderr.write(`demo: cannot build the demo world here: ${reason}\n`);
    return 1;
  }
  say(`muster demo: ${opts.servers} servers + ${opts.agents} agents (simulated RKE2 on real etcd)`);
  say("  building the world: nodes, local mirror of the RKE2 installer + artifacts, coordinator …");
  const cluster = await TestCluster.start({
    servers: opts.servers,
    agents: opts.agents,
    durations: opts.durations,
    vip: opts.registration === "vip",
  });
  try {
    await cluster.watchMembership();
    const server = await cluster.joinCommand("server");
    const agent = await cluster.joinCommand("agent");
    say(`  coordinator ${cluster.coordinator.url}; join command for servers:`);
    say(`    ${server.command.replace(/--token \S+/, "--token <join token>")}`);
    say("  pasting it on every node at once …\n");

    const t0 = Date.now();
    let ok = true;
    // Each node's own bootstrap output, line by line as it prints, from the first second (the agent's
    // events take over once it enrols); the tokens masked as a second lock (the script never prints them).
    const secrets = [server.token, agent.token];
    const bootstraps = cluster.world.nodes.map(async (n) => {
      const r = await cluster.bootstrap(
        n,
        n.name.startsWith("server") ? server.command : agent.command,
        "",
        (line) => say(formatBootstrapLine((Date.now() - t0) / 1000, n.name, line, secrets)),
      );
      if (r.exitCode !== 0) {
        ok = false;
        say(
          formatBootstrapLine(
            (Date.now() - t0) / 1000,
            n.name,
            `failed (exit ${r.exitCode}): see the lines above`,
          ),
        );
      }
    });

    let seen = 0;
    const total = opts.servers + opts.agents;
    const deadline = t0 + (120 + 3 * lowerBoundSeconds(opts.durations, opts.servers, opts.agents)) * 1000;
    let nodes = await cluster.nodes();
    const names = cluster.world.nodes.map((n) => n.name);
    // Every node's progress from the first second: a line of where each one is whenever 3 s pass
    // without an event (before enrolment the coordinator has nothing to say about a node).
    let quietSince = 0;
    for (;;) {
      let any = false;
      for (const e of await cluster.events(seen)) {
        seen = e.seq;
        any = true;
        say(formatEvent(e, t0));
      }
      nodes = await cluster.nodes();
      if (any) quietSince = Date.now();
      else if (Date.now() - quietSince >= 3000) {
        say(progressLine((Date.now() - t0) / 1000, names, nodes));
        quietSince = Date.now();
      }
      if (nodes.length === total && nodes.every((n) => n.state === "joined")) break;
      if (nodes.some((n) => n.state === "failed" || n.state === "check-failed")) ok = false;
      if (!ok || Date.now() > deadline) {
        ok = false;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await Promise.all(bootstraps);
    const events = await cluster.events();
    const lastJoin = events.filter((e) => e.type === "node.join.succeeded").at(-1);
    const wallSeconds = ((lastJoin ? Date.parse(lastJoin.time) : Date.now()) - t0) / 1000;
    // Let the membership recorder take one more sample after the last promotion.
    await new Promise((r) => setTimeout(r, 500));
    const etcdMembers = cluster.etcdMembers();
    const registration = {
      mode: opts.registration,
      address: (await cluster.cluster()).registrationAddress ?? "",
    };
    const failover = opts.failover && ok ? await demoFailover(cluster, say) : undefined;
    const joins = serverJoins(events, nodes);
    const overlaps = overlappingServerJoins(joins);
    const wall = Math.round(wallSeconds * 10) / 10;
    const lowerBound = lowerBoundSeconds(opts.durations, opts.servers, opts.agents);
    const summary: DemoSummary = {
      ok:
        ok &&
        overlaps.length === 0 &&
        etcdMembers.length === opts.servers &&
        etcdMembers.every((m) => !m.isLearner),
      servers: opts.servers,
      agents: opts.agents,
      etcdMembers,
      nodesReady: nodes.filter((n) => n.state === "joined").length,
      serverJoins: joins,
      overlaps,
      wallSeconds: wall,
      lowerBoundSeconds: lowerBound,
      ...overheadOf(joins, t0, wall, lowerBound, opts.durations),
      registration,
      ...(failover ? { failover } : {}),
    };
    if (opts.failover && !failover?.apiReachable) summary.ok = false;
    say(formatSummary(summary, nodes, t0));
    say("  removing the world …");
    await cluster.down();
    if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary.ok ? 0 : 1;
  } finally {
    await cluster.down();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
