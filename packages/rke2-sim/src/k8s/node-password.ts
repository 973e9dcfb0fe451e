// The node password secret, as k3s pkg/nodepassword keeps it: kube-system/<node>.node-password.rke2,
// immutable, data.hash = an scrypt hash of the password the node registered with
// (/etc/rancher/node/password). The first registration of a name creates it; a later registration
// with another password (another machine, or a reinstalled one) is refused until someone deletes the
// secret (`kubectl delete secret -n kube-system <node>.node-password.rke2`), or the Node is deleted
// (k3s pkg/node's controller removes the secret with the Node).
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import type { KubeObject } from "./store.ts";
import { ApiError, type Store } from "./store.ts";

export interface Secret extends KubeObject {
  type?: string;
  immutable?: boolean;
  data?: Record<string, string>;
}

export const nodePasswordSecretName = (node: string) => `${node.toLowerCase()}.node-password.rke2`;

// k3s's scrypt parameters (pkg/authenticator/hash): N=2^15, r=8, p=1, stored as $1:salt:15:8:1:hash.
const N_LOG2 = 15;
const scrypt = (password: string, salt: Buffer) =>
  scryptSync(password, salt, 32, { N: 2 ** N_LOG2, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });

function createHash(password: string): string {
  const salt = randomBytes(8);
  return `$1:${salt.toString("hex")}:${N_LOG2}:8:1:${scrypt(password, salt).toString("hex")}`;
}

function verifyHash(stored: string, password: string): boolean {
  const [, salt, , , , hash] = stored.split(":");
  if (!salt || !hash) return false;
  const got = scrypt(password, Buffer.from(salt, "hex"));
  const want = Buffer.from(hash, "hex");
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Like nodepassword.Ensure: verify against the secret, or create it. True when the password is accepted. */
export async function ensureNodePasswordSecret(
  store: Store,
  node: string,
  password: string,
): Promise<boolean> {
  const name = nodePasswordSecretName(node);
  for (let attempt = 0; attempt < 3; attempt++) {
    const secret = await store.get<Secret>("secrets", "kube-system", name);
    if (secret) {
      const hash = Buffer.from(secret.data?.["hash"] ?? "", "base64").toString();
      return verifyHash(hash, password);
    }
    try {
      await store.create<Secret>("secrets", {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name, namespace: "kube-system", uid: "", creationTimestamp: "" },
        type: "Opaque",
        immutable: true,
        data: { hash: Buffer.from(createHash(password)).toString("base64") },
      });
      return true;
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === "AlreadyExists")) throw err;
    }
  }
  return false;
}

export async function deleteNodePassword(store: Store, node: string): Promise<void> {
  try {
    await store.delete("secrets", "kube-system", nodePasswordSecretName(node));
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
}
