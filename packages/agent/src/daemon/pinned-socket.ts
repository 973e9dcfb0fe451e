import type net from "node:net";
import type tls from "node:tls";
import { pinnedConnect } from "@muster/net";
import { MAX_FRAME_BYTES } from "@muster/shared";
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

export function openPinnedSocket(url: string, pin: string): { ws: WebSocket; pin: PinState } {
  const state: PinState = { verified: false };
  const createConnection = (options: tls.ConnectionOptions) =>
    pinnedConnect(options, pin, {
      mismatch: (got) => new PinMismatchError(got),
      onVerdict: (ok, got) => {
        if (ok) state.verified = true;
        else state.mismatch = got;
      },
    });
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
