// An S3-protocol server in its own lab machine (s3-server-main.ts), for RKE2's etcd-s3 snapshots
// (docs/rke2-behaviour.md#snapshots-and-restore). Plain HTTP: the spec's backup.s3.insecure, RKE2's
// etcd-s3-insecure. The objects live in the machine's /var/lib/muster-s3, readable from the host so
// tests can check an upload really landed in the store.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../world/mounts.ts";
import type { WorldNode } from "../world/node.ts";
import { firstLine } from "../world/testing.ts";

export const S3_NAME = "s3";
export const S3_PORT = 9000;
const SETTINGS = "/etc/muster/s3.json";
const STORE = "/var/lib/muster-s3";

export interface LabS3 {
  endpoint: string;
  bucket: string;
  folder: string;
  accessKey: string;
  secretKey: string;
  /** Snapshot names stored under the folder, read from the server's own storage. */
  objects(): string[];
  stop(): void;
}

export interface LabS3Options {
  bucket?: string;
  folder?: string;
}

/** Writes the server's settings (0600) into `node`: a fresh access key pair and one bucket. */
function prepare(node: WorldNode, opts: LabS3Options): Omit<LabS3, "stop"> {
  const bucket = opts.bucket ?? "muster-snapshots";
  const folder = opts.folder ?? "etcd";
  const accessKey = `lab${randomBytes(6).toString("hex")}`;
  const secretKey = randomBytes(24).toString("base64url");
  fs.mkdirSync(node.path("/etc/muster"), { recursive: true });
  fs.mkdirSync(node.path(STORE), { recursive: true, mode: 0o700 });
  const settings = { address: node.ip, port: S3_PORT, directory: STORE, bucket, accessKey, secretKey };
  fs.writeFileSync(node.path(SETTINGS), JSON.stringify(settings), { mode: 0o600 });
  const dir = () => node.path(path.posix.join(STORE, bucket, folder));
  return {
    endpoint: `${node.ip}:${S3_PORT}`,
    bucket,
    folder,
    accessKey,
    secretKey,
    objects: () => {
      try {
        return fs
          .readdirSync(dir())
          .filter((f) => f.endsWith(OBJECT_SUFFIX))
          .map((f) => f.slice(0, -OBJECT_SUFFIX.length))
          .sort();
      } catch {
        return [];
      }
    },
  };
}

/** s3rver keeps an object's body in <key>._S3rver_object. */
const OBJECT_SUFFIX = "._S3rver_object";

/** The command line of the server (the settings file holds everything else). */
export function s3ServerArgv(): string[] {
  return [process.execPath, "packages/lab/src/cluster/s3-server-main.ts", SETTINGS];
}

/** Starts the S3 server in `node` as a child of this process (tests); resolves once it serves. */
export async function startS3Server(node: WorldNode, opts: LabS3Options = {}): Promise<LabS3> {
  const s3 = prepare(node, opts);
  const [cmd, ...args] = s3ServerArgv() as [string, ...string[]];
  const child = node.spawn(cmd, args, { cwd: REPO_ROOT, buffer: false, stderr: "inherit" });
  const line = await firstLine(child);
  if (!line.startsWith("listening ")) throw new Error(`lab: the S3 server did not start: ${line}`);
  return { ...s3, stop: () => void child.kill("SIGTERM") };
}

/**
 * Starts it as a unit of the machine's systemctl (a lab that outlives `lab up`), given the lab's
 * startUnit; resolves once the port answers.
 */
export async function startS3Unit(
  node: WorldNode,
  startUnit: (node: WorldNode, name: string, text: string) => Promise<void>,
  opts: LabS3Options = {},
): Promise<LabS3> {
  const s3 = prepare(node, opts);
  await startUnit(
    node,
    S3_UNIT,
    `[Unit]\nDescription=lab S3-protocol server\n\n[Service]\nType=simple\nWorkingDirectory=${REPO_ROOT}\n` +
      `ExecStart=${s3ServerArgv().join(" ")}\nRestart=always\nRestartSec=1\n\n[Install]\nWantedBy=multi-user.target\n`,
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await node.exec("curl", ["-s", "-o", "/dev/null", `http://${s3.endpoint}/`], { reject: false });
    if (r.exitCode === 0) break;
    if (Date.now() > deadline) throw new Error(`lab: the S3 server in ${node.name} did not answer in 30 s`);
    await new Promise((res) => setTimeout(res, 250));
  }
  return { ...s3, stop: () => void node.sh(`systemctl stop ${S3_UNIT}`, { reject: false }) };
}

export const S3_UNIT = "muster-lab-s3";

/** spec.backup for the lab's S3 server (the secret goes to the coordinator's vault). */
export function s3BackupSpec(s3: LabS3, extra: { schedule?: string; retention?: number } = {}) {
  return {
    schedule: extra.schedule ?? "0 */12 * * *",
    retention: extra.retention ?? 5,
    s3: {
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      folder: s3.folder,
      region: "us-east-1",
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      insecure: true,
    },
  };
}
