// Relays bytes between two places that cannot see each other, untouched (TLS stays end to end):
//   forward-main.ts LISTEN TARGET     each a unix socket path (has a "/") or HOST:PORT
// Inside a machine's netns, `/tmp/api.sock 10.250.k.2:9443` lets the host reach a service in a
// namespace through the shared filesystem without giving the host namespace any address; on the host,
// `127.0.0.1:0 /path/api.sock` then offers that socket on loopback (port 0: any free port).
// Prints "forward: <listen> -> <target>" once listening (with the real port).
import fs from "node:fs";
import net from "node:net";

type Place = { path: string } | { host: string; port: number };

function place(s: string | undefined): Place | undefined {
  if (!s) return undefined;
  if (s.includes("/")) return { path: s };
  const m = /^(.+):(\d{1,5})$/.exec(s);
  return m ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

const [listenArg, targetArg] = process.argv.slice(2);
const listen = place(listenArg);
const target = place(targetArg);
if (!listen || !target) {
  process.stderr.write("usage: forward-main.ts LISTEN TARGET (each a socket path or HOST:PORT)\n");
  process.exit(2);
}
if ("path" in listen) fs.rmSync(listen.path, { force: true });
const server = net.createServer((client) => {
  const upstream = "path" in target ? net.connect(target.path) : net.connect(target.port, target.host);
  client.pipe(upstream).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", end);
  upstream.on("error", end);
});
const ready = () => {
  const a = server.address();
  const where = typeof a === "string" || a === null ? listenArg : `${a.address}:${a.port}`;
  process.stdout.write(`forward: ${where} -> ${targetArg}\n`);
};
if ("path" in listen) server.listen(listen.path, ready);
else server.listen(listen.port, listen.host, ready);
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
