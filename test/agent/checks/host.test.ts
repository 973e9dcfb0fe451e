import { hostnameCheck, osArchCheck, rootCheck } from "@muster/agent/checks/host";
import { runChecks } from "@muster/agent/checks/runner";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";

t.test("root: pass as uid 0, fail otherwise, warn when ignored", async (t) => {
  const dir = t.testdir();
  t.equal((await rootCheck.run(checkContext(dir))).status, "pass");
  const failed = await rootCheck.run(checkContext(dir, { host: { uid: 1000 } }));
  t.equal(failed.status, "fail");
  t.match(failed.message, /uid 1000/);
  t.match(failed.fix, /root/);
  const [ignored] = await runChecks(
    checkContext(dir, { host: { uid: 1000 }, request: { ignore: ["root"] } }),
    [rootCheck],
  );
  t.equal(ignored!.status, "warn");
  t.match(ignored!.message, /ignored by spec/);
});

t.test("os-arch: linux + amd64/arm64/s390x pass; other arch or OS fail", async (t) => {
  const dir = t.testdir();
  const os = (platform: string, arch: string) => ({ platform, arch, distro: "d", release: "1", kernel: "k" });
  for (const arch of ["amd64", "arm64", "s390x"])
    t.equal(
      (await osArchCheck.run(checkContext(dir, { facts: { os: os("linux", arch) } }))).status,
      "pass",
      arch,
    );
  const riscv = await osArchCheck.run(checkContext(dir, { facts: { os: os("linux", "riscv64") } }));
  t.equal(riscv.status, "fail");
  t.match(riscv.message, /riscv64 is not supported/);
  const darwin = await osArchCheck.run(checkContext(dir, { facts: { os: os("darwin", "arm64") } }));
  t.equal(darwin.status, "fail");
  t.match(darwin.message, /Linux only/);
  const [ignored] = await runChecks(
    checkContext(dir, { facts: { os: os("linux", "riscv64") }, request: { ignore: ["os-arch"] } }),
    [osArchCheck],
  );
  t.equal(ignored!.status, "warn");
});

t.test("hostname: valid passes, upper case warns, invalid fails", async (t) => {
  const dir = t.testdir();
  t.equal(
    (await hostnameCheck.run(checkContext(dir, { facts: { hostname: "web-01.example" } }))).status,
    "pass",
  );
  const upper = await hostnameCheck.run(checkContext(dir, { facts: { hostname: "Web01" } }));
  t.equal(upper.status, "warn");
  t.match(upper.fix, /hostnamectl set-hostname web01/);
  const bad = await hostnameCheck.run(checkContext(dir, { facts: { hostname: "web_01" } }));
  t.equal(bad.status, "fail");
  t.match(bad.message, /RFC 1123/);
});
