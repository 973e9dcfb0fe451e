// Runs inside a machine's netns: forwards a unix socket (reachable from the host through the shared
// filesystem) to HOST:PORT on the world network, so host-side tests reach a service in a namespace
// without giving the host namespace any address. Bytes are relayed untouched (TLS stays end to end).
import fs from "node:fs";
import net from "node:net";

const [socketPath, target] = process.argv.slice(2);
const m = /^(.+):(\d+)$/.exec(target ?? "");
if (!socketPath || !m) {
  process.stderr.write("usage: forward-main.ts SOCKET HOST:PORT\n");
  process.exit(2);
}
fs.rmSync(socketPath, { force: true });
const server = net.createServer((client) => {
  const upstream = net.connect(Number(m[2]), m[1]);
  client.pipe(upstream).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", end);
  upstream.on("error", end);
});
server.listen(socketPath, () => process.stdout.write(`forward: ${socketPath} -> ${target}\n`));
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
