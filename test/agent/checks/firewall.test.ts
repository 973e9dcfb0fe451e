import { firewallCheck } from "@muster/agent/checks/firewall";
import { runChecks } from "@muster/agent/checks/runner";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";
import { failed, fakeExec, fakeSystemd, ok } from "../helpers/fakes.ts";

t.test("firewall: none active passes", async (t) => {
  const r = await firewallCheck.run(
    checkContext(t.testdir(), { host: { exec: fakeExec(() => failed(127)).exec } }),
  );
  t.equal(r.status, "pass");
});

t.test("firewall: ufw installed but inactive passes", async (t) => {
  const exec = fakeExec(() => ok("Status: inactive\n")).exec;
  t.equal((await firewallCheck.run(checkContext(t.testdir(), { host: { exec } }))).status, "pass");
});

t.test("firewall: active firewalld warns naming the server ports", async (t) => {
  const { systemd } = fakeSystemd({ firewalld: { active: true } });
  const r = await firewallCheck.run(checkContext(t.testdir(), { host: { systemd } }));
  t.equal(r.status, "warn");
  for (const p of ["6443/tcp", "9345/tcp", "2379/tcp", "2380/tcp", "10250/tcp", "8472/udp"])
    t.match(r.message, p);
  t.match(r.fix, /firewall-cmd --permanent --add-port=9345\/tcp/);
});

t.test("firewall: active ufw warns with ufw commands (agent: 10250 only)", async (t) => {
  const exec = fakeExec((cmd, args) =>
    cmd === "ufw" && args[0] === "status" ? ok("Status: active\n") : failed(1),
  ).exec;
  const r = await firewallCheck.run(
    checkContext(t.testdir(), { request: { role: "agent" }, host: { exec } }),
  );
  t.equal(r.status, "warn");
  t.match(r.message, /ufw is active; open 10250\/tcp, 8472\/udp/);
  t.notMatch(r.message, /6443/);
  t.match(r.fix, /ufw allow 10250\/tcp/);
});

t.test("a firewall warning is never a failure, even when listed in ignore", async (t) => {
  const { systemd } = fakeSystemd({ firewalld: { active: true } });
  const [r] = await runChecks(
    checkContext(t.testdir(), { host: { systemd }, request: { ignore: ["firewall"] } }),
    [firewallCheck],
  );
  t.equal(r!.status, "warn");
  t.notMatch(r!.message, /ignored/);
});
