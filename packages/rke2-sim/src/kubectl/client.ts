// kubectl's connection: the kubeconfig (--kubeconfig, else $KUBECONFIG's first existing file, else
// ~/.kube/config; with none, kubectl talks to localhost:8080), its current context's server and CA,
// and the user's client certificate or bearer token. Failures read as kubectl's: "The connection to
// the server HOST:PORT was refused - did you specify the right host or port?", "Unable to connect to
// the server: ...", "error: You must be logged in to the server (Unauthorized)", and for API errors
// "Error from server (Reason): message".
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { homedir } from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";

export class KubectlError extends Error {}

export interface Connection {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecure: boolean;
}

interface KubeconfigDoc {
  "current-context"?: string;
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  contexts?: { name: string; context: { cluster?: string; user?: string } }[];
  users?: { name: string; user: Record<string, unknown> }[];
}

function kubeconfigPath(flag: string | undefined): string | null {
  if (flag) {
    if (!existsSync(flag)) throw new KubectlError(`error: stat ${flag}: no such file or directory`);
    return flag;
  }
  const env = process.env["KUBECONFIG"];
  if (env) return env.split(":").find((f) => f && existsSync(f)) ?? null;
  const home = path.join(homedir(), ".kube", "config");
  return existsSync(home) ? home : null;
}

const data = (v: unknown) => (typeof v === "string" ? Buffer.from(v, "base64") : undefined);
const file = (v: unknown) => (typeof v === "string" ? readFileSync(v) : undefined);

export function loadConnection(kubeconfigFlag: string | undefined): Connection {
  const p = kubeconfigPath(kubeconfigFlag);
  if (!p) return { server: "http://localhost:8080", insecure: false };
  let doc: KubeconfigDoc;
  try {
    doc = (parseYaml(readFileSync(p, "utf8")) ?? {}) as KubeconfigDoc;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "EACCES" ? `open ${p}: permission denied` : e.message;
    throw new KubectlError(`error: error loading config file "${p}": ${why}`);
  }
  const ctx = doc.contexts?.find((c) => c.name === doc["current-context"])?.context;
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx?.user)?.user ?? {};
  if (!cluster || typeof cluster["server"] !== "string")
    return { server: "http://localhost:8080", insecure: false };
  const conn: Connection = {
    server: cluster["server"],
    insecure: cluster["insecure-skip-tls-verify"] === true,
  };
  const ca = data(cluster["certificate-authority-data"]) ?? file(cluster["certificate-authority"]);
  const cert = data(user["client-certificate-data"]) ?? file(user["client-certificate"]);
  const key = data(user["client-key-data"]) ?? file(user["client-key"]);
  if (ca) conn.ca = ca;
  if (cert) conn.cert = cert;
  if (key) conn.key = key;
  if (typeof user["token"] === "string") conn.token = user["token"];
  return conn;
}

export interface ApiStatus {
  kind: "Status";
  reason?: string;
  message?: string;
  code?: number;
}

export class ApiFailure extends Error {
  readonly status: ApiStatus;
  constructor(status: ApiStatus) {
    super(status.message ?? "unknown error");
    this.status = status;
  }
}

export class Client {
  readonly conn: Connection;
  constructor(conn: Connection) {
    this.conn = conn;
  }

  get hostPort(): string {
    const u = new URL(this.conn.server);
    return `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
  }

  request<T>(method: string, urlPath: string, body?: unknown, contentType = "application/json"): Promise<T> {
    const url = new URL(urlPath, this.conn.server);
    const lib = url.protocol === "https:" ? https : http;
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.conn.token) headers["authorization"] = `Bearer ${this.conn.token}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) headers["content-type"] = contentType;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        url,
        {
          method,
          headers,
          ca: this.conn.ca,
          cert: this.conn.cert,
          key: this.conn.key,
          rejectUnauthorized: !this.conn.insecure,
          timeout: 30_000,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => {
            text += d;
          });
          res.on("end", () => {
            const code = res.statusCode ?? 0;
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {}
            if (code >= 200 && code < 300) return resolve(parsed as T);
            if (code === 401)
              return reject(new KubectlError("error: You must be logged in to the server (Unauthorized)"));
            const st = (
              parsed && typeof parsed === "object" ? parsed : { kind: "Status", message: text }
            ) as ApiStatus;
            reject(new ApiFailure({ ...st, code }));
          });
        },
      );
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
      req.on("error", (err: NodeJS.ErrnoException) => reject(this.#connectionError(err)));
      req.end(payload);
    });
  }

  #connectionError(err: NodeJS.ErrnoException): KubectlError {
    if (err.code === "ECONNREFUSED") {
      return new KubectlError(
        `The connection to the server ${this.hostPort} was refused - did you specify the right host or port?`,
      );
    }
    if (err.code === "ETIMEDOUT" || err.code === "EHOSTUNREACH" || err.code === "ENETUNREACH") {
      return new KubectlError(`Unable to connect to the server: dial tcp ${this.hostPort}: i/o timeout`);
    }
    if (/certificate|self.signed|SSL|TLS/i.test(`${err.code} ${err.message}`)) {
      return new KubectlError(
        "Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority",
      );
    }
    return new KubectlError(`Unable to connect to the server: ${err.message}`);
  }
}

export function fromServer(err: unknown): string {
  if (err instanceof ApiFailure)
    return `Error from server (${err.status.reason ?? "InternalError"}): ${err.status.message ?? ""}`;
  return (err as Error).message;
}
