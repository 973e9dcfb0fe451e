import net from "node:net";
import tls from "node:tls";
import { MAX_FRAME_BYTES, spkiPinFromPeer } from "@muster/shared";
import WebSocket from "ws";

// The coordinator serves TLS from a CA it generated itself, which the agent does not have. Trust is
// the SPKI pin from agent.yaml instead: it is checked on the TLS socket at secureConnect, before the
// WebSocket opens and long before the agent sends a secret; a mismatch destroys the socket.
export interface PinState {
  verified: boolean;
  /** The pin the server presented, when it was not the expected one. */
  mismatch?: string;
}

export class PinMismatchError extends Error {
  constructor(got: string) {
    super(`coordinator certificate does not match the pin in agent.yaml (server presented ${got})`);
    this.name = "PinMismatchError";
  }
}

export function agentChannelUrl(coordinatorUrl: string): string {
  const u = new URL(coordinatorUrl);
  u.protocol = "wss:";
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/v1/agent`;
  return u.toString();
}

export function presentedPin(socket: tls.TLSSocket): string {
  // The SPKI comes from the certificate DER: node's `pubkey` is the bare point for EC keys.
  const cert = socket.getPeerCertificate();
  return cert?.raw ? spkiPinFromPeer(cert) : "(no certificate)";
}

export function openPinnedSocket(url: string, pin: string): { ws: WebSocket; pin: PinState } {
  const state: PinState = { verified: false };
  const createConnection = (options: tls.ConnectionOptions & { host?: string; path?: string }) => {
    const opts = { ...options, path: undefined, rejectUnauthorized: false };
    if (!opts.servername && opts.servername !== "")
      opts.servername = net.isIP(opts.host ?? "") ? "" : opts.host;
    const socket = tls.connect(opts);
    socket.once("secureConnect", () => {
      const got = presentedPin(socket);
      if (got === pin) {
        state.verified = true;
      } else {
        state.mismatch = got;
        socket.destroy(new PinMismatchError(got));
      }
    });
    return socket;
  };
  const ws = new WebSocket(url, {
    maxPayload: MAX_FRAME_BYTES,
    handshakeTimeout: 15_000,
    // CA validation cannot work with the coordinator's private CA; the pin above replaces it.
    rejectUnauthorized: false,
    createConnection: createConnection as unknown as typeof net.createConnection,
    perMessageDeflate: false,
  });
  return { ws, pin: state };
}
