import net from "node:net";
import tls from "node:tls";
import { spkiPinFromPeer } from "@muster/shared";

// Trust by public-key pin (curl's --pinnedpubkey), for the coordinator's self-made CA that clients do
// not have. The pin is checked at secureConnect, before a byte of HTTP or WebSocket is written (and so
// before any token is sent); a mismatch destroys the socket with the caller's error.

/** The pin of the certificate the peer presented, or "(no certificate)". */
export function presentedPin(socket: tls.TLSSocket): string {
  // From the certificate DER: node's `pubkey` is the bare point for EC keys, not the SPKI curl hashes.
  const cert = socket.getPeerCertificate();
  return cert?.raw ? spkiPinFromPeer(cert) : "(no certificate)";
}

export interface PinnedConnectOptions {
  /** The error the socket is destroyed with on a mismatch (default: a plain Error naming both pins). */
  mismatch?: (got: string) => Error;
  /** Told once per handshake whether the pin matched. */
  onVerdict?: (ok: boolean, got: string) => void;
}

/** tls.connect that trusts exactly one public key; suitable as http(s)/ws `createConnection`. */
export function pinnedConnect(
  options: tls.ConnectionOptions,
  pin: string,
  opts: PinnedConnectOptions = {},
): tls.TLSSocket {
  // The chain is not checked on purpose: the pin below is the whole trust decision.
  const o: tls.ConnectionOptions = { ...options, rejectUnauthorized: false };
  // Callers handing a request's options through carry `path` (the URL path, not a unix socket).
  delete (o as { path?: unknown }).path;
  if (o.servername === undefined) o.servername = net.isIP(o.host ?? "") ? "" : o.host;
  const socket = tls.connect(o);
  socket.once("secureConnect", () => {
    const got = presentedPin(socket);
    const ok = got === pin;
    opts.onVerdict?.(ok, got);
    if (!ok)
      socket.destroy(opts.mismatch?.(got) ?? new Error(`server key ${got} does not match the pin ${pin}`));
  });
  return socket;
}
