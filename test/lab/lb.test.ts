// `lab up --registration lb`: a real haproxy machine in front of 9345/6443; joiners register through it.
import t from "tap";
import { FAST, type LabJson, lab, muster, nodes, skip } from "./helpers.ts";

t.test("up --registration lb: joiners register through haproxy", { skip }, async (t) => {
  const up = await lab(["up", "--servers", "2", "--agents", "1", "--registration", "lb", ...FAST, "--json"]);
  const info = JSON.parse(up.stdout.trim().split("\n").at(-1) ?? "{}") as LabJson;
  t.teardown(() => lab(["down", info.id]));
  t.equal(up.exitCode, 0, "up exits 0", { stderr: up.stderr });
  const lb = info.nodes.find((n) => n.name === "lb");
  t.match(lb, { role: "lb" });
  t.equal(info.registrationAddress, lb?.address, "the registration address is the lb's IP");
  const init = (await nodes(info.env)).filter((n) => n.init).map((n) => n.name);
  t.same(init, ["server-1"], "server-1 is the init server");
  for (const name of ["server-2", "agent-1"]) {
    const cfg = await lab(["exec", info.id, name, "--", "cat", "/etc/rancher/rke2/config.yaml"]);
    t.match(
      cfg.stdout,
      new RegExp(`^server: https://${lb?.address.replaceAll(".", "\\.")}:9345$`, "m"),
      `${name} joins via the lb`,
    );
  }
  const status = await muster(info.env, ["status"]);
  t.match(status.stdout, new RegExp(`registration: +${lb?.address}`));
  t.equal((await lab(["down", info.id])).exitCode, 0);
});
