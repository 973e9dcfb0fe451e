// RKE2's S3 side of etcd snapshots (docs/rke2-behaviour.md#snapshots-and-restore), over the real S3
// protocol: RKE2 uses the minio-go client, the simulator its JavaScript sibling (SigV4, path-style
// requests to the endpoint). Settings come from config.yaml like RKE2's (never argv): etcd-s3,
// etcd-s3-endpoint, -bucket, -folder, -region, -access-key, -secret-key, -endpoint-ca,
// -skip-ssl-verify, -insecure. Objects are named <folder>/<snapshot name>, as RKE2 names them.
import { readFileSync } from "node:fs";
import https from "node:https";
import { Client } from "minio";
import type { Values } from "./config.ts";
import { FatalError } from "./log.ts";

export interface S3Settings {
  endpoint: string;
  bucket: string;
  folder: string;
  region: string;
  accessKey: string;
  secretKey: string;
  insecure: boolean;
  endpointCA: string | null;
  skipVerify: boolean;
}

export interface S3Snapshot {
  name: string;
  key: string;
  size: number;
  created: Date;
}

const str = (values: Values, key: string): string => {
  const v = values.get(key);
  return Array.isArray(v) ? v.join(",") : (v ?? "");
};

/** The S3 settings when etcd-s3 is on; null otherwise. Fatal (like RKE2) when a required one is missing. */
export function s3Settings(values: Values): S3Settings | null {
  if (str(values, "etcd-s3") !== "true") return null;
  const s: S3Settings = {
    endpoint: str(values, "etcd-s3-endpoint") || "s3.amazonaws.com",
    bucket: str(values, "etcd-s3-bucket"),
    folder: str(values, "etcd-s3-folder").replace(/^\/+|\/+$/g, ""),
    region: str(values, "etcd-s3-region") || "us-east-1",
    accessKey: str(values, "etcd-s3-access-key"),
    secretKey: str(values, "etcd-s3-secret-key"),
    insecure: str(values, "etcd-s3-insecure") === "true",
    endpointCA: str(values, "etcd-s3-endpoint-ca") || null,
    skipVerify: str(values, "etcd-s3-skip-ssl-verify") === "true",
  };
  if (s.bucket === "") throw new FatalError("s3 bucket name was not set");
  return s;
}

export function objectKey(s: S3Settings, name: string): string {
  return s.folder === "" ? name : `${s.folder}/${name}`;
}

/** `s3://bucket/folder/name`: the Location column of `rke2 etcd-snapshot ls`. */
export function s3Location(s: S3Settings, name: string): string {
  return `s3://${s.bucket}/${objectKey(s, name)}`;
}

export function s3Client(s: S3Settings): Client {
  const [host, port] = s.endpoint.split(":") as [string, string | undefined];
  const transportAgent = s.insecure
    ? undefined
    : new https.Agent({
        keepAlive: false,
        rejectUnauthorized: !s.skipVerify,
        ...(s.endpointCA ? { ca: readFileSync(s.endpointCA, "utf8") } : {}),
      });
  return new Client({
    endPoint: host,
    ...(port ? { port: Number(port) } : {}),
    useSSL: !s.insecure,
    region: s.region,
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    pathStyle: true,
    ...(transportAgent ? { transportAgent } : {}),
  });
}

function s3Error(what: string, err: unknown): FatalError {
  // A HEAD answered 403 has no body; minio-go (which RKE2 uses) then reports "Access Denied."
  // where the JS client says "Valid and authorized credentials required". Speak as RKE2 does.
  const e = err as Error & { code?: string };
  const message = e.code === "AccessDenied" ? "Access Denied." : e.message;
  return new FatalError(`${what}: ${message}`);
}

/** Checks the bucket exists (RKE2 refuses to use a missing bucket rather than creating it). */
async function ensureBucket(client: Client, s: S3Settings): Promise<void> {
  let found: boolean;
  try {
    found = await client.bucketExists(s.bucket);
  } catch (err) {
    throw s3Error(`failed to test for existence of bucket ${s.bucket}`, err);
  }
  if (!found) throw new FatalError(`bucket ${s.bucket} does not exist`);
}

export async function uploadSnapshot(s: S3Settings, name: string, file: string): Promise<void> {
  const client = s3Client(s);
  await ensureBucket(client, s);
  try {
    await client.fPutObject(s.bucket, objectKey(s, name), file, {
      "Content-Type": "application/octet-stream",
    });
  } catch (err) {
    throw s3Error(`error uploading snapshot ${name} to S3`, err);
  }
}

export async function listS3Snapshots(s: S3Settings): Promise<S3Snapshot[]> {
  const client = s3Client(s);
  await ensureBucket(client, s);
  const prefix = s.folder === "" ? "" : `${s.folder}/`;
  const out: S3Snapshot[] = [];
  try {
    const stream = client.listObjectsV2(s.bucket, prefix, false);
    for await (const item of stream as AsyncIterable<{ name?: string; size: number; lastModified: Date }>) {
      if (!item.name) continue; // a common prefix (sub-folder)
      const name = item.name.slice(prefix.length);
      if (name === "" || name.includes("/")) continue;
      out.push({ name, key: item.name, size: item.size, created: new Date(item.lastModified) });
    }
  } catch (err) {
    throw s3Error("failed to list snapshots in S3", err);
  }
  return out;
}

export async function downloadSnapshot(s: S3Settings, name: string, file: string): Promise<void> {
  const client = s3Client(s);
  await ensureBucket(client, s);
  try {
    await client.fGetObject(s.bucket, objectKey(s, name), file);
  } catch (err) {
    throw s3Error(`failed to download snapshot ${name} from S3`, err);
  }
}

export async function deleteS3Snapshots(s: S3Settings, names: string[]): Promise<void> {
  if (names.length === 0) return;
  const client = s3Client(s);
  try {
    for (const n of names) await client.removeObject(s.bucket, objectKey(s, n));
  } catch (err) {
    throw s3Error("failed to delete snapshots from S3", err);
  }
}
