// RKE2 join tokens (docs/rke2-behaviour.md "Token"): K10<sha256 of the CA PEM bytes>::<user>:<password>, or a bare
// password (no CA pinning).
import { createHash, randomBytes } from "node:crypto";

export interface ParsedToken {
  /** 64 hex chars, or null for a bare password. */
  caHash: string | null;
  username: string;
  password: string;
}

export function caHash(caPem: string | Buffer): string {
  return createHash("sha256").update(caPem).digest("hex");
}

export function parseToken(token: string, defaultUser = "server"): ParsedToken {
  if (token === "") throw new Error("token must not be empty");
  if (!token.startsWith("K10")) return { caHash: null, username: defaultUser, password: token };
  const rest = token.slice(3);
  const sep = rest.indexOf("::");
  if (sep < 0) throw new Error("invalid token format");
  const hash = rest.slice(0, sep);
  if (hash !== "" && !/^[0-9a-f]{64}$/.test(hash)) throw new Error("invalid token CA hash length");
  const creds = rest.slice(sep + 2);
  const colon = creds.indexOf(":");
  if (colon <= 0 || colon === creds.length - 1) throw new Error("invalid token format");
  return { caHash: hash || null, username: creds.slice(0, colon), password: creds.slice(colon + 1) };
}

export function formatToken(caPem: string | Buffer, username: string, password: string): string {
  return `K10${caHash(caPem)}::${username}:${password}`;
}

export function generatePassword(): string {
  return randomBytes(16).toString("hex");
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
