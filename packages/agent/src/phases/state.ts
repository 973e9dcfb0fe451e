import { PHASES, type PhaseName } from "@muster/shared";
import * as z from "zod";
import type { Files } from "../adapters/types.ts";

// Small JSON state files in the agent's state dir (0700 dir, 0600 files). They hold checksums and
// phase names only: never the token or anything else from plan.config.
const ProgressSchema = z.object({
  checksum: z.string(),
  done: z.array(z.enum(PHASES)),
  updatedAt: z.string(),
});
const AppliedSchema = z.object({ checksum: z.string(), node: z.string(), appliedAt: z.string() });
export type Progress = z.output<typeof ProgressSchema>;
export type Applied = z.output<typeof AppliedSchema>;

export const progressPath = (stateDir: string) => `${stateDir}/progress.json`;
export const appliedPath = (stateDir: string) => `${stateDir}/applied.json`;

async function readJson<T>(files: Files, path: string, schema: z.ZodType<T>): Promise<T | null> {
  const text = await files.readTextIfExists(path);
  if (text === null) return null;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    // A corrupt state file is treated as absent: every phase is idempotent, so re-running is safe.
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function ensureStateDir(files: Files, stateDir: string): Promise<void> {
  await files.mkdir(stateDir, 0o700);
  await files.chmod(stateDir, 0o700);
}

export const readProgress = (files: Files, stateDir: string) =>
  readJson(files, progressPath(stateDir), ProgressSchema);

export async function writeProgress(files: Files, stateDir: string, checksum: string, done: PhaseName[]) {
  const body: Progress = { checksum, done, updatedAt: new Date().toISOString() };
  await files.writeAtomic(progressPath(stateDir), `${JSON.stringify(body)}\n`, 0o600);
}

export const clearProgress = (files: Files, stateDir: string) => files.remove(progressPath(stateDir));

export const readApplied = (files: Files, stateDir: string) =>
  readJson(files, appliedPath(stateDir), AppliedSchema);

export async function writeApplied(files: Files, stateDir: string, checksum: string, node: string) {
  const body: Applied = { checksum, node, appliedAt: new Date().toISOString() };
  await files.writeAtomic(appliedPath(stateDir), `${JSON.stringify(body)}\n`, 0o600);
}
