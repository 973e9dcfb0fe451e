import { writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import t from "tap";
import { runCli, startServe } from "../helpers/spawn.ts";

// The front door of a real `serve` child process: its limits come from --limits FILE.

t.test("--limits FILE is validated and applied", async (t) => {
  const dir = t.testdir();
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "headersTimeoutMs: 5\n");
  const refused = await runCli(["serve", "--state-dir", join(dir, "s1"), "--limits", bad]);
  t.not(refused.code, 0, "a limit below the minimum is refused at start");
  t.match(refused.stderr, /headersTimeoutMs/, "and the field is named");

  const good = join(dir, "limits.yaml");
  writeFileSync(good, "rateLimit:\n  anonymous: { max: 2, windowMs: 60000 }\n");
  const served = await startServe([
    "--state-dir",
    join(dir, "s2"),
    "--listen",
    "127.0.0.1:0",
    "--limits",
    good,
  ]);
  t.teardown(() => served.child.kill("SIGKILL"));
  const statuses: number[] = [];
  // Loopback, our own child: the certificate is not what this checks.
  for (let i = 0; i < 4; i++)
    statuses.push(
      await new Promise<number>((resolve, reject) => {
        const req = request(`${served.url}/v1/nodes`, { rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      }),
    );
  t.same(statuses, [401, 401, 429, 429], "the file's anonymous budget (2) is in force");
});
