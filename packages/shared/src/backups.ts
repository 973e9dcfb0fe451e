import * as z from "zod";
import { SnapshotNameSchema, SnapshotPrefixSchema } from "./tasks.ts";

// REST bodies and answers of the cluster's etcd snapshots (POST/GET /v1/backups), taken by RKE2 on
// the servers through their agents (docs/reference.md#backups).

export const CreateBackupBodySchema = z.strictObject({
  /** Prefix of the snapshot's name (RKE2: <name>-<node>-<unix time>); default on-demand. */
  name: SnapshotPrefixSchema.optional(),
});
export type CreateBackupBody = z.output<typeof CreateBackupBodySchema>;

export const BackupViewSchema = z.strictObject({
  name: z.string(),
  /** The server that listed it (for S3: the first that did). */
  node: z.string(),
  size: z.number().int().min(0),
  createdAt: z.string(),
  location: z.enum(["local", "s3"]),
});
export type BackupView = z.output<typeof BackupViewSchema>;

export const BackupListSchema = z.strictObject({
  backups: z.array(BackupViewSchema),
  /** Servers that could not be asked (not connected, or no answer in time), with the reason. */
  warnings: z.array(z.string()).optional(),
});
export type BackupList = z.output<typeof BackupListSchema>;

/** POST /v1/restores: the snapshot to restore etcd from (a name `GET /v1/backups` lists). */
export const CreateRestoreBodySchema = z.strictObject({ snapshot: SnapshotNameSchema });
export type CreateRestoreBody = z.output<typeof CreateRestoreBodySchema>;
