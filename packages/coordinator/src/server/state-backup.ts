import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import * as tar from "tar";
import { z } from "zod";
import { unseal, VAULT_KEY_FILE } from "../domain/secrets/vault.ts";
import { DB_FILE } from "../store/db.ts";
import { ADMIN_TOKEN_FILE } from "./admin-token.ts";

// The coordinator's own backup (docs/operations.md#coordinator-backup): one gzipped tar, 0600, with
// the database, the vault key, the generated TLS files and the admin token. Together they are every
// node's identity: node credentials are hashed in the database, the token is sealed with the vault
// key, and agents trust the coordinator by the serving key's pin. The database is copied with
// `VACUUM INTO` from a read-only connection, which SQLite runs inside one read transaction: a
// consistent snapshot while `serve` keeps writing (WAL), never a torn file copy.

export const BACKUP_FORMAT = "muster-coordinator-backup";
const MANIFEST = "manifest.json";
/** Files besides the database, relative to the state dir; TLS files only exist when generated. */
const REQUIRED = [VAULT_KEY_FILE, ADMIN_TOKEN_FILE] as const;
const TLS_FILES = ["tls/ca.crt", "tls/ca.key", "tls/server.crt", "tls/server.key"] as const;

const ManifestSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  version: z.literal(1),
  createdAt: z.iso.datetime(),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
});
export type BackupManifest = z.infer<typeof ManifestSchema>;

/** Every file a backup may hold; extraction takes nothing else. */
const ALLOWED = new Set<string>([MANIFEST, DB_FILE, ...REQUIRED, ...TLS_FILES]);

export class StateBackupError extends Error {}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

export interface BackupResult {
  file: string;
  manifest: BackupManifest;
}

export async function backupState(opts: { stateDir: string; to: string; now?: Date }): Promise<BackupResult> {
  const dbPath = join(opts.stateDir, DB_FILE);
  if (!existsSync(dbPath))
    throw new StateBackupError(`${opts.stateDir} holds no coordinator database (${DB_FILE})`);
  for (const f of REQUIRED)
    if (!existsSync(join(opts.stateDir, f)))
      throw new StateBackupError(`${join(opts.stateDir, f)} is missing: is this a coordinator's state dir?`);
  const work = await mkdtemp(join(dirname(opts.to), `.${basename(opts.to)}.work-`));
  try {
    await chmod(work, 0o700);
    await mkdir(join(work, "tls"), { mode: 0o700 });
    const src = new DatabaseSync(dbPath, { readOnly: true });
    try {
      src.exec("PRAGMA busy_timeout = 5000");
      src.prepare("VACUUM INTO ?").run(join(work, DB_FILE));
    } finally {
      src.close();
    }
    const files = [DB_FILE, ...REQUIRED, ...TLS_FILES.filter((f) => existsSync(join(opts.stateDir, f)))];
    const hashes: Record<string, string> = {};
    for (const f of files) {
      if (f !== DB_FILE) await copySecret(join(opts.stateDir, f), join(work, f));
      await chmod(join(work, f), 0o600);
      hashes[f] = sha256(await readFile(join(work, f)));
    }
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      version: 1,
      createdAt: (opts.now ?? new Date()).toISOString(),
      files: hashes,
    };
    await writeFile(join(work, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    // Written beside the target 0600 from its first byte, then renamed: never a readable half-file.
    const tmp = `${opts.to}.tmp-${process.pid}`;
    await writeFile(tmp, "", { mode: 0o600 });
    await chmod(tmp, 0o600);
    await tar.create({ gzip: true, file: tmp, cwd: work, portable: true }, [MANIFEST, ...files]);
    await chmod(tmp, 0o600);
    await rename(tmp, opts.to);
    return { file: opts.to, manifest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface RestoreResult {
  stateDir: string;
  manifest: BackupManifest;
  /** Whether the database held a cluster token that the restored vault key opened. */
  tokenVerified: boolean;
}

/**
 * Restores a backup into a state dir that holds no database yet (a new host, or a wiped dir).
 * Everything is checked (manifest, hashes, database integrity, vault key against the sealed token)
 * in a scratch dir first; only then are the files moved into place, so a bad file changes nothing.
 */
export async function restoreState(opts: { from: string; stateDir: string }): Promise<RestoreResult> {
  if (existsSync(join(opts.stateDir, DB_FILE)))
    throw new StateBackupError(
      `${opts.stateDir} already holds a coordinator database: restore into an empty or new state dir`,
    );
  if (!existsSync(opts.from)) throw new StateBackupError(`${opts.from}: no such file`);
  await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });
  await chmod(opts.stateDir, 0o700);
  const work = await mkdtemp(join(opts.stateDir, ".restore-"));
  try {
    await chmod(work, 0o700);
    const entries: string[] = [];
    try {
      await tar.extract({
        file: opts.from,
        cwd: work,
        strict: true,
        // Only the known files; no links, devices or paths outside (tar also refuses `..`).
        filter: (path, entry) => {
          const name = path.replace(/^\.\//, "");
          const ok = "type" in entry && (entry.type === "File" || entry.type === "Directory");
          if (ok && entry.type === "File" && ALLOWED.has(name)) entries.push(name);
          return ok && (ALLOWED.has(name) || name === "tls" || name === "tls/");
        },
      });
    } catch (err) {
      throw new StateBackupError(`${opts.from} is not a coordinator backup: ${(err as Error).message}`);
    }
    const manifest = await readManifest(work, opts.from);
    for (const [f, hash] of Object.entries(manifest.files)) {
      if (!ALLOWED.has(f) || !entries.includes(f))
        throw new StateBackupError(`${opts.from}: ${f} is listed but missing`);
      if (sha256(await readFile(join(work, f))) !== hash)
        throw new StateBackupError(`${opts.from}: ${f} does not match its checksum (damaged file?)`);
    }
    for (const f of [DB_FILE, ...REQUIRED])
      if (!(f in manifest.files)) throw new StateBackupError(`${opts.from}: ${f} is missing`);
    const tokenVerified = verifyDatabase(work);
    for (const f of Object.keys(manifest.files)) {
      const target = join(opts.stateDir, f);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await chmod(join(work, f), 0o600);
      await rename(join(work, f), target);
    }
    if (existsSync(join(opts.stateDir, "tls"))) await chmod(join(opts.stateDir, "tls"), 0o700);
    return { stateDir: opts.stateDir, manifest, tokenVerified };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function readManifest(work: string, from: string): Promise<BackupManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(work, MANIFEST), "utf8"));
  } catch {
    throw new StateBackupError(`${from} is not a coordinator backup (no readable ${MANIFEST})`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success)
    throw new StateBackupError(`${from}: unsupported backup manifest (${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

/** The database must be sound, and the vault key must open the token sealed in it. */
function verifyDatabase(work: string): boolean {
  const db = new DatabaseSync(join(work, DB_FILE), { readOnly: true });
  try {
    const check = db.prepare("PRAGMA integrity_check").get() as { integrity_check: string };
    if (check.integrity_check !== "ok")
      throw new StateBackupError(`the backed-up database is damaged: ${check.integrity_check}`);
    const row = db.prepare("SELECT value FROM meta WHERE key = 'rke2-token'").get() as
      | { value: string }
      | undefined;
    if (!row) return false;
    return unsealWith(work, row.value);
  } finally {
    db.close();
  }
}

function unsealWith(work: string, sealed: string): boolean {
  const key = readFileSync(join(work, VAULT_KEY_FILE));
  if (key.length !== 32) throw new StateBackupError(`${VAULT_KEY_FILE} in the backup is not 32 bytes`);
  try {
    unseal(key, sealed);
    return true;
  } catch {
    throw new StateBackupError("the backup's vault key does not open the cluster token in its database");
  }
}

async function copySecret(from: string, to: string): Promise<void> {
  const info = await stat(from);
  if (!info.isFile()) throw new StateBackupError(`${from} is not a file`);
  await writeFile(to, await readFile(from), { mode: 0o600 });
}

/** For tests and the CLI summary: the names inside a backup, without extracting it. */
export async function listBackup(file: string): Promise<string[]> {
  const names: string[] = [];
  await tar.list({ file, onReadEntry: (e) => names.push(e.path) });
  return names.sort();
}
