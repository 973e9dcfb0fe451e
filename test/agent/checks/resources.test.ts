import { cpuCheck, diskCheck, memoryCheck, swapCheck } from "@muster/agent/checks/resources";
import { runChecks } from "@muster/agent/checks/runner";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";

const GiB = 1024 ** 3;

t.test("cpu/memory/disk: pass at the role minimum, fail below, warn when ignored", async (t) => {
  const dir = t.testdir();
  const min = { cpus: 4, memoryGiB: 8, diskGiB: 250 };
  const enough = { cpus: 4, memoryBytes: 8 * GiB, diskFreeBytes: 250 * GiB };
  const short = { cpus: 2, memoryBytes: 2 * GiB, diskFreeBytes: 20 * GiB };
  for (const check of [cpuCheck, memoryCheck, diskCheck]) {
    const good = await check.run(
      checkContext(dir, { facts: enough, request: { role: "agent", minimums: min } }),
    );
    t.equal(good.status, "pass", `${check.name} pass`);
    const bad = await check.run(
      checkContext(dir, { facts: short, request: { role: "agent", minimums: min } }),
    );
    t.equal(bad.status, "fail", `${check.name} fail`);
    t.match(bad.message, /agent needs/, `${check.name} names the role`);
    t.match(bad.fix, /checks\.agent\./, `${check.name} fix names the spec key`);
    const [ignored] = await runChecks(
      checkContext(dir, { facts: short, request: { role: "agent", minimums: min, ignore: [check.name] } }),
      [check],
    );
    t.equal(ignored!.status, "warn", `${check.name} ignored -> warn`);
  }
});

t.test("memory allows 5% below nominal (firmware reserves some)", async (t) => {
  const dir = t.testdir();
  const r = await memoryCheck.run(checkContext(dir, { facts: { memoryBytes: 3.9 * GiB } }));
  t.equal(r.status, "pass");
  const r2 = await memoryCheck.run(checkContext(dir, { facts: { memoryBytes: 3.7 * GiB } }));
  t.equal(r2.status, "fail");
});

t.test("swap: off passes, on warns (never fails: the kubelet copes)", async (t) => {
  const dir = t.testdir();
  t.equal((await swapCheck.run(checkContext(dir))).status, "pass");
  const on = await swapCheck.run(checkContext(dir, { facts: { swapBytes: 2 * GiB } }));
  t.equal(on.status, "warn");
  t.match(on.fix, /swapoff -a/);
});
