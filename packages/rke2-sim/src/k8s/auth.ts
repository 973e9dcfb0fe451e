// Who may use the simulated API. The apiserver's x509 authenticator: a client certificate signed by
// the cluster CA names the user (CN) and groups (O); system:masters may do anything (RBAC's
// cluster-admin). Without a certificate the request is anonymous; the simulator still lets anonymous
// clients *read Nodes* (the test world's probes rely on it, a documented deviation: RKE2 runs the
// apiserver with --anonymous-auth=false), everything else answers 401 as the real one does.

import type http from "node:http";
import type { TLSSocket } from "node:tls";

export interface User {
  name: string;
  groups: string[];
}

export function userOf(req: http.IncomingMessage): User | null {
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) return null;
  const cert = socket.getPeerCertificate?.();
  if (!cert?.subject) return null;
  const field = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const name = field(cert.subject.CN)[0];
  return name ? { name, groups: field(cert.subject.O) } : null;
}

export function authorize(
  user: User | null,
  verb: string,
  resource: string,
  namespace: string | undefined,
): { code: number; reason: string; message: string } | null {
  if (user?.groups.includes("system:masters")) return null;
  if (!user && resource === "nodes" && (verb === "get" || verb === "list")) return null;
  if (!user) return { code: 401, reason: "Unauthorized", message: "Unauthorized" };
  const scope = namespace ? ` in the namespace "${namespace}"` : " at the cluster scope";
  return {
    code: 403,
    reason: "Forbidden",
    message: `${resource} is forbidden: User "${user.name}" cannot ${verb} resource "${resource}" in API group ""${scope}`,
  };
}
