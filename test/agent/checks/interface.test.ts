import { interfaceCheck } from "@muster/agent/checks/interface";
import t from "tap";
import { checkContext } from "../helpers/check-context.ts";

t.test("interface: up with an IPv4 passes; missing, down or unaddressed fails with the fix", async (t) => {
  const dir = t.testdir();
  const run = (name: string, facts = {}) =>
    interfaceCheck.run(checkContext(dir, { request: { interface: name }, facts }));
  const good = await run("eth0");
  t.equal(good.status, "pass");
  t.match(good.message, "interface eth0 is up with 10.0.0.11/24");

  const missing = await run("nosuchif0");
  t.equal(missing.status, "fail");
  t.match(missing.message, "interface nosuchif0 does not exist on this node (it has: lo, eth0)");

  const down = await run("eth0", { interfaces: [{ name: "eth0", up: false, mac: "", ipv4: [] }] });
  t.equal(down.status, "fail");
  t.equal(down.fix, "ip link set eth0 up");

  const bare = await run("eth0", { interfaces: [{ name: "eth0", up: true, mac: "", ipv4: [] }] });
  t.equal(bare.status, "fail");
  t.match(bare.message, "has no IPv4 address");
});
