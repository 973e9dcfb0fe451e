import { Writable } from "node:stream";
import { createLogger } from "@muster/shared";
import t from "tap";

t.test("token-bearing fields are redacted at every usual depth", async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ name: "test", destination: sink });
  const secret = "K10deadbeef::server:topsecretpassword";
  log.info({ token: secret }, "top");
  log.info({ frame: { token: secret, joinToken: secret } }, "nested");
  log.info({ a: { b: { credential: secret } } }, "deep");
  log.info({ plan: { config: { token: secret } } }, "plan");
  log.info({ req: { headers: { authorization: `Bearer ${secret}` } } }, "headers");
  await new Promise((r) => setImmediate(r));
  t.equal(lines.length, 5);
  for (const line of lines) t.notMatch(line, /topsecretpassword/);
  t.match(lines[0], /\[redacted\]/);
});
