import { BASE_CHECKS, checksFor, runChecks, SERVER_CHECKS } from "@muster/agent/checks/runner";
import type { Check, CheckRequest } from "@muster/agent/checks/types";
import { AGENT_CHECK_NAMES, CheckReportSchema, type CheckVerdict, reportOf } from "@muster/shared";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";

t.test("all base checks run and report together, in a stable order", async (t) => {
  const results = await runChecks(checkContext(t.testdir(), { host: { uid: 1000 } }));
  t.same(
    results.map((r) => r.name),
    [...BASE_CHECKS, ...SERVER_CHECKS].map((c) => c.name),
    "a server also gets the server-only checks, after the base ones",
  );
  t.equal(results.find((r) => r.name === "root")!.status, "fail", "a failure does not stop the others");
  t.ok(results.filter((r) => r.status === "pass").length >= 5);
  t.ok(CheckReportSchema.safeParse(reportOf(results)).success);
  for (const r of results) t.match(r.name, /^[a-z0-9-]+$/, "kebab-case names");
});

t.test("a crashing check becomes a failure of its own", async (t) => {
  const boom: Check<string> = {
    name: "boom",
    run: () => {
      throw new Error("kaput");
    },
  };
  const fine: Check<string> = { name: "fine", run: () => ({ status: "pass", message: "ok" }) };
  const results = await runChecks(checkContext(t.testdir()), [boom, fine]);
  t.same(results[0], {
    name: "boom",
    status: "fail",
    message: "check crashed: kaput",
    fix: "report this as a muster bug",
  });
  t.equal(results[1]!.status, "pass");
});

t.test("long messages are cut to fit the frame schema", async (t) => {
  const long: Check<string> = {
    name: "long",
    run: () => ({ status: "fail", message: "x".repeat(5000), fix: "y" }),
  };
  const [r] = await runChecks(checkContext(t.testdir(), { request: { ignore: ["long"] } }), [long]);
  t.ok(r!.message.length <= 2000);
  t.ok(CheckReportSchema.safeParse(reportOf([r!])).success);
});

t.test("a result carries its check's name and only what the check decided", async (t) => {
  // A check that tries to report under another check's name (or adds fields) cannot.
  const impostor: Check<string> = {
    name: "impostor",
    run: () => ({ name: "root", status: "fail", message: "not me", fix: "f", extra: 1 }) as CheckVerdict,
  };
  const [r] = await runChecks(checkContext(t.testdir()), [impostor]);
  t.same(r, { name: "impostor", status: "fail", message: "not me", fix: "f" });
});

t.test("the built-in checks are exactly the shared list of agent check names", async (t) => {
  const dir = t.testdir();
  // A server with a VIP runs all but `interface` (the VIP's own interface check covers it); with
  // --interface and no VIP it runs `interface` instead of the VIP checks.
  const names = (request: Partial<CheckRequest>) =>
    checksFor(checkContext(dir, { request: { role: "server", ...request } })).map((c) => c.name as string);
  const withVip = names({ vip: { address: "10.0.0.100", interface: "eth0" } });
  const withInterface = names({ interface: "eth0" });
  const inListOrder = (xs: string[]) => AGENT_CHECK_NAMES.filter((n) => xs.includes(n));
  t.same(withVip, inListOrder(withVip), "in the list's order");
  t.same(withInterface, inListOrder(withInterface), "in the list's order");
  t.same(
    [...new Set([...withVip, ...withInterface])].sort(),
    [...AGENT_CHECK_NAMES].sort(),
    "every check named from the list, none missing",
  );
});

t.test(
  "which checks run: etcd-disk for servers only; interface only with --interface and no VIP",
  async (t) => {
    const dir = t.testdir();
    const names = (request: Partial<CheckRequest>) =>
      checksFor(checkContext(dir, { request })).map((c) => c.name);
    t.ok(names({ role: "server" }).includes("etcd-disk"));
    t.notOk(names({ role: "agent" }).includes("etcd-disk"), "agents run no etcd");
    t.notOk(names({}).includes("interface"));
    t.ok(names({ interface: "eth0" }).includes("interface"));
    const withVip = names({ interface: "eth0", vip: { address: "10.0.0.100", interface: "eth0" } });
    t.notOk(withVip.includes("interface"), "with a VIP, vip-interface checks the interface");
    t.ok(withVip.includes("vip-interface"));
  },
);
