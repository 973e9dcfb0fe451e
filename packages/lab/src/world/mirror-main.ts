// CLI for the mirror, to run inside a world machine:
//   coordinator.spawn(process.execPath, ["test/world/mirror-main.ts", "/tmp/mirror", "--listen", `${ip}:8080`])
// Prints "mirror: listening on <url>" once ready, then one line per request ("GET /path 200 1234").
// Exits 0 on SIGTERM/SIGINT after closing; exit 2 on bad arguments.
import { parseArgs } from "node:util";
import { startMirror } from "./mirror.ts";

const USAGE = "usage: mirror-main.ts DIR [--listen HOST:PORT] [--index FILE]";

function parse(): { dir: string; host: string; port: number; index?: string } {
  try {
    const { values, positionals } = parseArgs({
      allowPositionals: true,
      options: { listen: { type: "string", default: "127.0.0.1:0" }, index: { type: "string" } },
    });
    const m = /^(.*):(\d{1,5})$/.exec(values.listen);
    if (positionals.length !== 1 || !m) throw new Error(USAGE);
    const host = m[1]!.replace(/^\[(.*)\]$/, "$1");
    return {
      dir: positionals[0]!,
      host,
      port: Number(m[2]),
      ...(values.index ? { index: values.index } : {}),
    };
  } catch (e) {
    process.stderr.write(`mirror: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}

const opts = parse();
const mirror = await startMirror({
  ...opts,
  onRequest: (e) => process.stdout.write(`${e.method} ${e.path} ${e.status} ${e.bytes}\n`),
});
process.stdout.write(`mirror: listening on ${mirror.url}\n`);
const stop = (): void => {
  void mirror.close().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
