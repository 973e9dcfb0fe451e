import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { serve } from "@muster/coordinator/server/serve";
import { createLogger } from "@muster/shared";
import t from "tap";
import { answerChecks, finish, join as joinNode, nodeFacts, type World } from "../helpers/domain.ts";

// A real Prometheus (Debian's `prometheus`) scrapes a real coordinator over HTTPS, verifying the
// serving cert with the coordinator's CA and sending the metrics token from its 0600 file
// (`credentials_file`), exactly as docs/operations.md#prometheus tells an operator to set it up.

const hasPrometheus = spawnSync("prometheus", ["--version"], { stdio: "ignore" }).status === 0;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

interface PromResult {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promUrl: string, q: string): Promise<PromResult[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data: { result: PromResult[] } };
  return body.status === "success" ? body.data.result : [];
}

/** Polls until `ok` holds for the query's result, or fails with what it saw last. */
async function waitFor(promUrl: string, q: string, ok: (r: PromResult[]) => boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  let last: PromResult[] = [];
  while (Date.now() < deadline) {
    try {
      last = await query(promUrl, q);
      if (ok(last)) return last;
    } catch {} // Prometheus still starting
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${q}: not as expected within ${ms} ms; last result ${JSON.stringify(last)}`);
}

t.test(
  "Prometheus scrapes /metrics over TLS with the metrics token and sees the cluster",
  { skip: hasPrometheus ? false : "prometheus is not installed (scripts/setup.sh installs it)" },
  async (t) => {
    const dir = t.testdir();
    const stateDir = join(dir, "state");
    const logs: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    const coordinator = await serve({
      stateDir,
      host: "127.0.0.1",
      port: 0,
      logger: createLogger({ name: "coordinator", destination }),
      bootstrapScript: () => "#!/bin/sh\n",
      artifactsDir: join(dir, "artifacts"),
    });
    t.teardown(() => coordinator.close());

    // One agent enrols: Prometheus should then report it as `enrolled`.
    const { token } = coordinator.service.createJoinToken({ role: "agent" });
    coordinator.service.enrol(
      { type: "enrol", joinToken: token, facts: nodeFacts("a1", 7), agentVersion: "0.1.0" },
      "127.0.0.1",
    );

    const promPort = await freePort();
    const config = join(dir, "prometheus.yml");
    writeFileSync(
      config,
      [
        "global: { scrape_interval: 1s, scrape_timeout: 1s }",
        "scrape_configs:",
        "  - job_name: muster",
        "    scheme: https",
        "    authorization:",
        "      type: Bearer",
        `      credentials_file: ${join(stateDir, "metrics-token")}`,
        "    tls_config:",
        `      ca_file: ${join(stateDir, "tls", "ca.crt")}`,
        "    static_configs:",
        `      - targets: ["127.0.0.1:${coordinator.port}"]`,
        "",
      ].join("\n"),
    );
    const prom = spawn(
      "prometheus",
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let promLog = "";
    prom.stderr.on("data", (d) => {
      promLog = (promLog + String(d)).slice(-4000);
    });
    const exited = new Promise((resolve) => prom.once("exit", resolve));
    t.teardown(async () => {
      prom.kill("SIGTERM");
      await exited;
    });
    const promUrl = `http://127.0.0.1:${promPort}`;

    try {
      // up == 1 only when the scrape succeeded: TLS verified with the CA and the token accepted.
      await waitFor(promUrl, 'up{job="muster"}', (r) => r[0]?.value[1] === "1");
      const enrolled = await waitFor(
        promUrl,
        'muster_nodes{role="agent",state="enrolled"}',
        (r) => r.length === 1,
      );
      t.equal(enrolled[0]!.value[1], "1", "the enrolled agent, as Prometheus stored it");
      const empty = await query(promUrl, 'muster_cluster_phase{phase="initializing"}');
      t.equal(empty[0]?.value[1], "1", "an agent but no server yet: initializing");
      const heap = await query(promUrl, "nodejs_heap_size_used_bytes");
      t.ok(Number(heap[0]?.value[1]) > 0, "process metrics scraped too");
      const ops = await query(promUrl, 'muster_operations{type="remove"}');
      t.ok(ops.length > 0, "operations by type and state are exported (0 while none ran)");

      // A server joins: while its plan is out it holds the control-plane lease; once it is ready the
      // lease is free and the join's durations are in the histograms, by role (and result).
      // The domain helpers drive the real coordinator behind serve() with a fake agent link.
      const w = {
        coord: coordinator.service,
        links: new Map(),
        clock: { now: Date.now() },
      } as unknown as World;
      joinNode(w, "s1", "server");
      answerChecks(w, "s1");
      w.coord.tick(); // releases s1's plan
      const held = await waitFor(
        promUrl,
        'muster_lease_held{kind="server-join",holder="s1"}',
        (r) => r[0]?.value[1] === "1",
      );
      t.equal(held[0]!.metric["holder"], "s1", "the lease holder, as Prometheus stored it");
      const age = await query(promUrl, 'muster_lease_age_seconds{holder="s1"}');
      t.ok(Number(age[0]?.value[1]) >= 0, `the lease's age (${age[0]?.value[1]} s)`);
      finish(w, "s1");
      const results = await waitFor(
        promUrl,
        'muster_plan_result_seconds_count{role="server",result="succeeded"}',
        (r) => r[0]?.value[1] === "1",
      );
      t.equal(results.length, 1, "plan release to result latency, by role and result");
      const joins = await waitFor(
        promUrl,
        'muster_node_join_duration_seconds_count{role="server"}',
        (r) => r[0]?.value[1] === "1",
      );
      t.equal(joins.length, 1, "join duration histogram, by role");
      const buckets = await query(promUrl, 'muster_node_join_duration_seconds_bucket{role="server"}');
      t.ok(buckets.length > 1, `the histogram's buckets (${buckets.length})`);
      await waitFor(promUrl, "muster_lease_held", (r) => r.length === 0);
      t.pass("the lease series is gone once the join ended");
    } catch (err) {
      t.comment(promLog);
      throw err;
    }
  },
);
