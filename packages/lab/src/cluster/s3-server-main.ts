// The lab's S3-protocol server (docs/reference.md#lab): @20minutes/s3rver, a maintained Node S3
// server that checks SigV4 signatures, run as its own process in its own machine. Only the lab's
// access key is accepted (s3rver's built-in demo key is revoked), so an unsigned or wrongly signed
// upload fails as it would on a real store. Its settings, the secret key among them, come from a
// 0600 JSON file, never argv. Prints one line `listening <url>` once it serves.
//   node s3-server-main.ts /etc/muster/s3.json
import { readFileSync } from "node:fs";
import S3rver from "@20minutes/s3rver";
import AWSAccount from "@20minutes/s3rver/lib/models/account.js";
import * as z from "zod";

const Settings = z.strictObject({
  address: z.string(),
  port: z.number().int().min(1).max(65535),
  directory: z.string().startsWith("/"),
  bucket: z.string().min(3),
  accessKey: z.string().min(1),
  secretKey: z.string().min(1),
  /** PEM files for HTTPS; both absent: plain HTTP (RKE2's etcd-s3-insecure). */
  keyFile: z.string().optional(),
  certFile: z.string().optional(),
});

const file = process.argv[2];
if (!file) {
  process.stderr.write("usage: s3-server-main.ts SETTINGS.json\n");
  process.exit(2);
}
const s = Settings.parse(JSON.parse(readFileSync(file, "utf8")));
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey("S3RVER");
AWSAccount.DUMMY_ACCOUNT.createKeyPair(s.accessKey, s.secretKey);
const tls = s.keyFile && s.certFile ? { key: readFileSync(s.keyFile), cert: readFileSync(s.certFile) } : {};
const server = new S3rver({
  address: s.address,
  port: s.port,
  directory: s.directory,
  silent: true,
  vhostBuckets: false,
  configureBuckets: [{ name: s.bucket, configs: [] }],
  ...tls,
});
await server.run();
process.stdout.write(`listening ${tls.key ? "https" : "http"}://${s.address}:${s.port}\n`);
const stop = () => void server.close().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
