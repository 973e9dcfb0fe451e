import { tcpProbe, udpEchoProbe } from "@muster/agent/adapters/ports";
import { peersPortsCheck, reachRetry } from "@muster/agent/checks/reachability";
import { openResponders } from "@muster/agent/checks/responders";
import type { ReachTarget } from "@muster/agent/checks/types";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";

const target = (o: Partial<ReachTarget>): ReachTarget => ({
  node: "s2",
  address: "127.0.0.1",
  port: 1,
  protocol: "tcp",
  responder: true,
  ...o,
});

// Retries inside a short deadline here (15 s in the agent).
reachRetry.deadlineMs = 1500;
reachRetry.intervalMs = 200;

t.test("peers-ports: no targets is a pass without probing", async (t) => {
  const r = await peersPortsCheck.run(checkContext(t.testdir()));
  t.equal(r.status, "pass");
  t.match(r.message, /no peer ports/);
});

t.test(
  "peers-ports: real responders on loopback answer TCP and echo UDP; a closed port fails naming the pair and the fix",
  async (t) => {
    const base = 20000 + (process.pid % 20000);
    const r1 = await openResponders({ role: "server", host: "127.0.0.1", tcp: [base], udp: [base + 1] });
    t.teardown(() => r1.close());
    t.same(r1.tcp, [base]);
    t.same(r1.udp, [base + 1]);
    t.ok((await tcpProbe("127.0.0.1", base, 2000)).ok);
    t.ok((await udpEchoProbe("127.0.0.1", base + 1, 2000)).ok);

    const ctx = checkContext(t.testdir(), {
      request: {
        reachability: [
          target({ port: base }),
          target({ port: base + 1, protocol: "udp" }),
          target({ node: "s3", port: base + 2, responder: false }),
        ],
      },
    });
    ctx.host.ports = { tcp: tcpProbe, udp: udpEchoProbe, udpEcho: udpEchoProbe };
    // A joined peer's closed port answers with a reset: reachable, RKE2 not listening there (stopped,
    // restarting): a warning that names the peer, not a network failure.
    t.equal((await tcpProbe("127.0.0.1", base + 2, 2000)).refused, true, "a closed port is refused");
    const r = await peersPortsCheck.run(ctx);
    t.equal(r.status, "warn", r.message);
    t.match(r.message, /nothing listens/);
    t.match(r.message, `10.0.0.11 -> s3 127.0.0.1 tcp/${base + 2}`);
    t.notMatch(r.message, `s2 127.0.0.1 tcp/${base}:`);
    t.match(r.fix, /start rke2 on s3/);

    // The same pair silent (dropped) or unreachable is the network: the check fails with the fix.
    const cut = checkContext(t.testdir(), { request: ctx.request });
    cut.host.ports = {
      tcp: async (a, p, ms) =>
        p === base + 2 ? { ok: false, detail: "host unreachable" } : tcpProbe(a, p, ms),
      udp: udpEchoProbe,
      udpEcho: udpEchoProbe,
    };
    const f = await peersPortsCheck.run(cut);
    t.equal(f.status, "fail", f.message);
    t.match(f.message, `10.0.0.11 -> s3 127.0.0.1 tcp/${base + 2}: host unreachable`);
    t.notMatch(f.message, `s2 127.0.0.1 tcp/${base}:`);
    t.match(f.fix, `allow tcp/${base + 2} from 10.0.0.11 to s3`);

    // A waiting peer's closed listener only warns: it may have been released to install meanwhile.
    const waiting = checkContext(t.testdir(), {
      request: { reachability: [target({ port: base }), target({ node: "s4", port: base + 2 })] },
    });
    waiting.host.ports = ctx.host.ports;
    const w = await peersPortsCheck.run(waiting);
    t.equal(w.status, "warn");
    t.match(w.message, `-> s4 127.0.0.1 tcp/${base + 2}`);
    t.match(w.message, /may have started installing/);

    // Closed, the UDP responder no longer echoes: silence is a failure, not "open or filtered".
    await r1.close();
    const udp = await udpEchoProbe("127.0.0.1", base + 1, 300);
    t.notOk(udp.ok);
  },
);

t.test(
  "peers-ports: an optional port failing is a warning; UDP without a responder is not probed",
  async (t) => {
    const calls: string[] = [];
    const ctx = checkContext(t.testdir(), {
      request: {
        reachability: [
          target({ port: 2381, optional: true }),
          target({ port: 8472, protocol: "udp", responder: false }),
        ],
      },
    });
    ctx.host.ports = {
      tcp: async (a, p) => {
        calls.push(`tcp ${a}:${p}`);
        return { ok: false, detail: "no answer" };
      },
      udp: async () => ({ ok: true, detail: "silence" }),
      udpEcho: async (a, p) => {
        calls.push(`udp ${a}:${p}`);
        return { ok: false, detail: "no echo" };
      },
    };
    const r = await peersPortsCheck.run(ctx);
    t.equal(r.status, "warn");
    t.match(r.message, /etcd-expose-metrics/);
    t.same(
      [...new Set(calls)],
      ["tcp 127.0.0.1:2381"],
      "retried, but never the UDP target without a responder",
    );
  },
);

t.test("peers-ports: every target reachable passes", async (t) => {
  const ctx = checkContext(t.testdir(), {
    request: { reachability: [target({ port: 9345 }), target({ port: 8472, protocol: "udp" })] },
  });
  ctx.host.ports = {
    tcp: async () => ({ ok: true, detail: "connected" }),
    udp: async () => ({ ok: true, detail: "silence" }),
    udpEcho: async () => ({ ok: true, detail: "echoed" }),
  };
  const r = await peersPortsCheck.run(ctx);
  t.equal(r.status, "pass");
  t.match(r.message, /2 port\(s\) on 1 peer\(s\) reachable/);
});

t.test("responders: a port already taken is skipped, not fatal", async (t) => {
  const base = 40000 + (process.pid % 20000);
  const a = await openResponders({ role: "agent", host: "127.0.0.1", tcp: [base], udp: [] });
  t.teardown(() => a.close());
  const b = await openResponders({ role: "agent", host: "127.0.0.1", tcp: [base], udp: [] });
  t.teardown(() => b.close());
  t.same(a.tcp, [base]);
  t.same(b.tcp, []);
});

t.test("peers-ports: a joined peer's port that opens within the deadline passes (retried)", async (t) => {
  let tries = 0;
  const ctx = checkContext(t.testdir(), {
    request: {
      reachability: [target({ port: 6443, responder: false }), target({ port: 9345, responder: false })],
    },
  });
  ctx.host.ports = {
    tcp: async (_a, p) =>
      p === 6443 && ++tries < 3 ? { ok: false, detail: "refused" } : { ok: true, detail: "connected" },
    udp: async () => ({ ok: true, detail: "silence" }),
    udpEcho: async () => ({ ok: true, detail: "echoed" }),
  };
  const r = await peersPortsCheck.run(ctx);
  t.equal(r.status, "pass", r.message);
  t.equal(tries, 3, "only the failing pair is probed again, until it answers");
});
