import dgram from "node:dgram";
import net from "node:net";

// Reachability probes towards peers. TCP: a full connect, closed at once. UDP has no handshake: a
// datagram on a connected socket either draws an ICMP port-unreachable (the kernel reports it as
// ECONNREFUSED on the socket: closed) or nothing (open, or dropped by a firewall: UDP cannot tell).
export interface PortProbe {
  ok: boolean;
  detail: string;
  /** TCP answered with a reset: the path to the host works, nothing listens on the port. */
  refused?: boolean;
}

export interface PortProber {
  tcp(address: string, port: number, timeoutMs: number): Promise<PortProbe>;
  udp(address: string, port: number, timeoutMs: number): Promise<PortProbe>;
  /** UDP that must be echoed by muster's responder (absent in older fakes: plain udp is used). */
  udpEcho?(address: string, port: number, timeoutMs: number): Promise<PortProbe>;
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

const WHY: Record<string, string> = {
  ECONNREFUSED: "connection refused (nothing listens, or a firewall rejects)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
};

export function tcpProbe(address: string, port: number, timeoutMs: number): Promise<PortProbe> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (r: PortProbe) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ ok: false, detail: `no answer within ${timeoutMs} ms (dropped by a firewall?)` }),
      timeoutMs,
    );
    socket.once("connect", () =>
      done({ ok: true, detail: `connected in ${Math.round(performance.now() - started)} ms` }),
    );
    socket.once("error", (err) => {
      const code = errno(err);
      done({ ok: false, detail: WHY[code] ?? code, ...(code === "ECONNREFUSED" ? { refused: true } : {}) });
    });
  });
}

export function udpProbe(address: string, port: number, timeoutMs: number): Promise<PortProbe> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(address) ? "udp6" : "udp4");
    let settled = false;
    const done = (r: PortProbe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(r);
    };
    const timer = setTimeout(
      () =>
        done({
          ok: true,
          detail: `no ICMP port-unreachable within ${timeoutMs} ms: open or filtered (UDP cannot tell which)`,
        }),
      timeoutMs,
    );
    socket.on("error", (err) => {
      const code = errno(err);
      done(
        code === "ECONNREFUSED"
          ? { ok: false, detail: "ICMP port unreachable: closed" }
          : { ok: false, detail: WHY[code] ?? code },
      );
    });
    // On failure connect's callback gets the error (or, without one, an 'error' event fires).
    socket.connect(port, address, ((err?: Error) => {
      if (err) return socket.emit("error", err);
      socket.send(Buffer.from("muster-probe\n"), (err) => {
        if (err) socket.emit("error", err);
      });
    }) as () => void);
  });
}

/**
 * A UDP probe that needs an answer: muster's temporary responder (checks/responders.ts) echoes the
 * datagram back, so an echo proves the path both ways and silence is a failure (dropped, or no
 * responder). Only meaningful towards a peer that holds the responder.
 */
export function udpEchoProbe(address: string, port: number, timeoutMs: number): Promise<PortProbe> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(address) ? "udp6" : "udp4");
    const token = Buffer.from(`${UDP_ECHO_PREFIX}${Math.random().toString(36).slice(2)}\n`);
    let settled = false;
    const done = (r: PortProbe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ ok: false, detail: `no echo within ${timeoutMs} ms (dropped by a firewall?)` }),
      timeoutMs,
    );
    socket.on("message", (msg) => {
      if (msg.equals(token)) done({ ok: true, detail: "echoed" });
    });
    socket.on("error", (err) => {
      const code = errno(err);
      done(
        code === "ECONNREFUSED"
          ? { ok: false, detail: "ICMP port unreachable: nothing listens" }
          : { ok: false, detail: WHY[code] ?? code },
      );
    });
    socket.connect(port, address, ((err?: Error) => {
      if (err) return socket.emit("error", err);
      socket.send(token, (err) => {
        if (err) socket.emit("error", err);
      });
    }) as () => void);
  });
}

/** What a UDP probe datagram starts with; the responder echoes only these. */
export const UDP_ECHO_PREFIX = "muster-probe ";

export function createPortProber(): PortProber {
  return { tcp: tcpProbe, udp: udpProbe, udpEcho: udpEchoProbe };
}
