import { portsProbe } from "@muster/agent/tasks/handlers/ports";
import { TaskResultSchemas } from "@muster/shared";
import t from "tap";
import { fakePorts } from "../../helpers/fakes.ts";
import { taskContext } from "../../helpers/task-context.ts";

t.test("ports.probe: every target once, results in order, by protocol", async (t) => {
  const p = fakePorts({
    "10.0.0.12:9345/tcp": { ok: true, detail: "connected in 1 ms" },
    "10.0.0.12:8472/udp": { ok: true, detail: "no ICMP port-unreachable within 2000 ms: open or filtered" },
  });
  const { ctx } = taskContext(t.testdir(), { ports: p.ports });
  const targets = [
    { address: "10.0.0.12", port: 9345, protocol: "tcp" as const },
    { address: "10.0.0.12", port: 6443, protocol: "tcp" as const },
    { address: "10.0.0.12", port: 8472, protocol: "udp" as const },
  ];
  const r = await portsProbe({ kind: "ports.probe", targets, timeoutMs: 2000 }, ctx);
  t.same(
    r.results.map((x) => [x.port, x.protocol, x.ok]),
    [
      [9345, "tcp", true],
      [6443, "tcp", false],
      [8472, "udp", true],
    ],
  );
  t.equal(r.results[1]!.detail, "connection refused");
  t.ok(TaskResultSchemas["ports.probe"].safeParse(r).success);
});

t.test("ports.probe: at most 64 probes in flight for a large matrix", async (t) => {
  const p = fakePorts();
  const { ctx } = taskContext(t.testdir(), { ports: p.ports });
  const targets = Array.from({ length: 500 }, (_, i) => ({
    address: `10.0.${i >> 8}.${i & 255}`,
    port: 10250,
    protocol: "tcp" as const,
  }));
  const r = await portsProbe({ kind: "ports.probe", targets, timeoutMs: 100 }, ctx);
  t.equal(r.results.length, 500);
  t.equal(p.calls.length, 500);
  t.equal(p.maxInFlight(), 64);
});
