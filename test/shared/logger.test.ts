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

t.test(
  "under journald each line carries its syslog priority, so journalctl -p err finds errors",
  async (t) => {
    const { Writable } = await import("node:stream");
    const { createLogger, syslogPriority } = await import("@muster/shared");
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split("\n").filter(Boolean));
        done();
      },
    });
    const log = createLogger({ name: "j", level: "debug", destination, journald: true });
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error({ err: "boom" }, "e");
    t.same(
      lines.map((l) => l.slice(0, 3)),
      ["<7>", "<6>", "<4>", "<3>"],
    );
    t.equal(JSON.parse(lines[3]!.slice(3)).msg, "e", "the rest of the line is the JSON as before");
    t.equal(syslogPriority(60), 2);

    const plain: string[] = [];
    const off = createLogger({
      name: "p",
      journald: false,
      destination: new Writable({
        write(chunk, _enc, done) {
          plain.push(String(chunk));
          done();
        },
      }),
    });
    off.error("x");
    t.match(plain[0], /^\{/, "no prefix off journald: plain JSON lines");
  },
);
