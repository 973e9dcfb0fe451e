import dgram from "node:dgram";
import net from "node:net";
import { UDP_ECHO_PREFIX } from "../adapters/ports.ts";

// Muster's temporary listeners. Before RKE2 is installed nothing listens on its ports, so a peer's
// reachability probe would be refused whatever the firewall says. A node that passed its checks
// opens these on the ports its peers will need (TCP: accept and close; UDP: echo muster's probe
// datagrams only) until its plan arrives (RKE2 then takes the ports) or a deadline passes.
// A port already taken is skipped: whatever holds it answers for it.
export const SERVER_RESPONDER_TCP = [9345, 6443, 2379, 2380, 2381, 10250];
export const AGENT_RESPONDER_TCP = [10250];
export const RESPONDER_UDP = [8472];
/** Long enough for a slow fleet to enrol behind this node; the plan normally closes them sooner. */
export const RESPONDER_TTL_MS = 60 * 60 * 1000;

export interface Responders {
  /** The ports actually held. */
  tcp: number[];
  udp: number[];
  close(): Promise<void>;
}

function listenTcp(host: string, port: number): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => socket.destroy());
    server.once("error", () => resolve(null));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

function bindUdp(host: string, port: number): Promise<dgram.Socket | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", () => {
      socket.close();
      resolve(null);
    });
    socket.bind(port, host, () => {
      socket.removeAllListeners("error");
      socket.on("error", () => {});
      socket.on("message", (msg, rinfo) => {
        if (msg.length <= 128 && msg.subarray(0, UDP_ECHO_PREFIX.length).toString() === UDP_ECHO_PREFIX)
          socket.send(msg, rinfo.port, rinfo.address);
      });
      resolve(socket);
    });
  });
}

export async function openResponders(opts: {
  role: "server" | "agent";
  host?: string;
  ttlMs?: number;
  tcp?: readonly number[];
  udp?: readonly number[];
}): Promise<Responders> {
  const host = opts.host ?? "0.0.0.0";
  const tcpPorts = opts.tcp ?? (opts.role === "server" ? SERVER_RESPONDER_TCP : AGENT_RESPONDER_TCP);
  const udpPorts = opts.udp ?? RESPONDER_UDP;
  const servers = await Promise.all(tcpPorts.map((p) => listenTcp(host, p)));
  const sockets = await Promise.all(udpPorts.map((p) => bindUdp(host, p)));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    await Promise.all([
      ...servers.map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : undefined)),
      ...sockets.map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : undefined)),
    ]);
  };
  const timer = setTimeout(() => void close(), opts.ttlMs ?? RESPONDER_TTL_MS);
  timer.unref();
  return {
    tcp: tcpPorts.filter((_, i) => servers[i] !== null),
    udp: udpPorts.filter((_, i) => sockets[i] !== null),
    close,
  };
}
