import { hashSecret } from "@muster/shared";
import t from "tap";
import { answerChecks, finish, join, type World } from "../../helpers/domain.ts";
import { ADMIN_TOKEN, type Harness, makeApp } from "../../helpers/harness.ts";

const METRICS_TOKEN = "metrics-token-for-tests-0123456789";

/** The value of one series in Prometheus' text format, or undefined when it is not there. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function scrape(h: Harness, token = ADMIN_TOKEN) {
  const res = await h.app.inject({
    method: "GET",
    url: "/metrics",
    headers: { authorization: `Bearer ${token}` },
  });
  return res;
}

function worldOf(h: Harness, clock: { now: number }): World {
  // The domain helpers need only the coordinator and the fake links.
  return { coord: h.service, links: new Map(), clock } as unknown as World;
}

t.test("GET /metrics takes the admin token or the metrics token, nothing else", async (t) => {
  const h = await makeApp(t, { app: { metricsTokenHash: hashSecret(METRICS_TOKEN) } });
  const anon = await h.app.inject({ method: "GET", url: "/metrics" });
  t.equal(anon.statusCode, 401);
  t.equal(anon.json().error.code, "UNAUTHORIZED");
  const wrong = await scrape(h, "not-the-token-at-all-xxxxxxxx");
  t.equal(wrong.statusCode, 401);
  t.match(wrong.json().error.message, /metrics token/);
  const admin = await scrape(h);
  t.equal(admin.statusCode, 200);
  t.match(admin.headers["content-type"], /^text\/plain; version=0\.0\.4/);
  const metrics = await scrape(h, METRICS_TOKEN);
  t.equal(metrics.statusCode, 200);
  // The metrics token is a scrape credential only: admin routes refuse it.
  const api = await h.app.inject({
    method: "GET",
    url: "/v1/cluster",
    headers: { authorization: `Bearer ${METRICS_TOKEN}` },
  });
  t.equal(api.statusCode, 401);
});

t.test("nodes, connected agents, lease, join timings and process metrics are exported", async (t) => {
  const clock = { now: Date.now() - 600_000 };
  const h = await makeApp(t, { coordinator: { now: () => clock.now } });
  const w = worldOf(h, clock);

  const empty = (await scrape(h)).body;
  t.equal(sample(empty, 'muster_nodes{role="server",state="joined"}'), 0, "every state is listed, at 0");
  t.equal(sample(empty, 'muster_cluster_phase{phase="empty"}'), 1);
  t.equal(sample(empty, 'muster_operations{type="remove",state="running"}'), 0);
  t.notOk(/^muster_lease_held\{/m.test(empty), "no lease series while the lease is free");
  t.ok(sample(empty, "process_cpu_user_seconds_total") !== undefined, "process metrics");
  t.ok(sample(empty, "nodejs_heap_size_used_bytes") !== undefined, "Node.js metrics");

  join(w, "s1", "server");
  answerChecks(w, "s1");
  clock.now += 5_000;
  h.service.tick(); // releases s1's plan: it takes the lease
  const joining = (await scrape(h)).body;
  t.equal(sample(joining, 'muster_nodes{role="server",state="joining"}'), 1);
  t.equal(sample(joining, 'muster_agents_connected{role="server"}'), 1);
  t.equal(sample(joining, 'muster_lease_held{kind="server-join",holder="s1"}'), 1);
  const age = sample(joining, 'muster_lease_age_seconds{kind="server-join",holder="s1"}');
  t.ok(age !== undefined && age > 500, `lease age counts from the release (${age} s)`);

  clock.now += 30_000;
  finish(w, "s1");
  const joined = (await scrape(h)).body;
  t.equal(sample(joined, 'muster_nodes{role="server",state="joined"}'), 1);
  t.equal(sample(joined, 'muster_nodes{role="server",state="joining"}'), 0);
  t.notOk(/^muster_lease_held\{/m.test(joined), "the lease is free again");
  t.equal(sample(joined, 'muster_plan_result_seconds_count{role="server",result="succeeded"}'), 1);
  t.equal(sample(joined, 'muster_plan_result_seconds_sum{role="server",result="succeeded"}'), 30);
  t.equal(sample(joined, 'muster_plan_result_seconds_bucket{le="30",role="server",result="succeeded"}'), 1);
  t.equal(sample(joined, 'muster_plan_result_seconds_bucket{le="20",role="server",result="succeeded"}'), 0);
  t.equal(sample(joined, 'muster_node_join_duration_seconds_count{role="server"}'), 1);
  t.equal(sample(joined, 'muster_node_join_duration_seconds_sum{role="server"}'), 35);
  t.equal(sample(joined, 'muster_cluster_servers{kind="ready"}'), 1);

  // A second scrape reads only new events: the histograms do not count the join twice.
  const again = (await scrape(h)).body;
  t.equal(sample(again, 'muster_plan_result_seconds_count{role="server",result="succeeded"}'), 1);
});
