// A lab's bookkeeping on the host, under LAB_ROOT/<id>/ (docs/reference.md#lab):
//   lab.json       what `up` built (validated when read: it is input like any other)
//   manifest.jsonl every namespace, namespace file, directory and host process, appended BEFORE it is
//                  created, so `down` also cleans up after an `up` that crashed halfway
//   admin-token, ca.crt (0600 / 0644), forward.log, bootstrap-<node>.log, systemctl wrapper
// The lab id is its world's id (4 hex); its netns are `mw<id>-<node>`.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { isWorldId } from "../world/layout.ts";

export const LAB_ROOT = process.env["MUSTER_LAB_ROOT"] ?? "/run/muster-lab";

/** A mistake in what the user asked for (unknown lab or node, bad flag, cannot run here): exit 2. */
export class LabInputError extends Error {
  override name = "LabInputError";
}

export const labDir = (id: string): string => path.join(LAB_ROOT, id);
export const labFile = (id: string, name: string): string => path.join(labDir(id), name);

export const REGISTRATION_MODES = ["vip", "lb", "node"] as const;
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];
export const ROLES = ["server", "agent", "lb", "s3"] as const;

const Machine = z.strictObject({
  name: z.string(),
  role: z.enum(ROLES),
  address: z.string(),
  /** Hub-side veth index (`v<port>` in the hub netns); the coordinator is 0. */
  port: z.number().int().min(1),
});
export type LabMachine = z.infer<typeof Machine>;

export const LabRecordSchema = z.strictObject({
  id: z.string().refine(isWorldId),
  subnetIndex: z.number().int(),
  createdAt: z.string(),
  state: z.enum(["building", "ready", "failed"]),
  registration: z.strictObject({ mode: z.enum(REGISTRATION_MODES), address: z.string() }),
  coordinator: z.strictObject({
    url: z.string(),
    ip: z.string(),
    pin: z.string(),
    adminTokenFile: z.string(),
    caFile: z.string(),
  }),
  machines: z.array(Machine),
  durations: z.strictObject({
    initSeconds: z.number(),
    joinSeconds: z.number(),
    agentSeconds: z.number(),
    promoteIntervalSeconds: z.number(),
  }),
  systemctl: z.string(),
});
export type LabRecord = z.infer<typeof LabRecordSchema>;

export function writeRecord(r: LabRecord): void {
  const file = labFile(r.id, "lab.json");
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(r, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

/** The lab's record; LabInputError naming the id when there is no such lab. */
export function readRecord(id: string): LabRecord {
  if (!isWorldId(id)) throw new LabInputError(`no lab "${id}": a lab id is 4 hex digits (see \`lab ls\`)`);
  let text: string;
  try {
    text = fs.readFileSync(labFile(id, "lab.json"), "utf8");
  } catch {
    const hint = fs.existsSync(labDir(id))
      ? `its \`up\` did not finish: remove it with \`lab down ${id}\``
      : "see `lab ls`";
    throw new LabInputError(`no lab ${id} (${hint})`);
  }
  const parsed = LabRecordSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new LabInputError(`lab ${id}: ${labFile(id, "lab.json")} is damaged`);
  return parsed.data;
}

export function machineOf(r: LabRecord, name: string): LabMachine {
  const m = r.machines.find((x) => x.name === name);
  if (!m) {
    const names = r.machines.map((x) => x.name).join(", ");
    throw new LabInputError(`lab ${r.id} has no node "${name}" (nodes: ${names})`);
  }
  return m;
}

/** Ids of every lab with a directory under LAB_ROOT (finished or not). */
export function labIds(): string[] {
  try {
    return fs
      .readdirSync(LAB_ROOT)
      .filter((e) => isWorldId(e))
      .sort();
  } catch {
    return [];
  }
}

export type ManifestEntry =
  | { kind: "netns"; name: string }
  | { kind: "nsfile"; path: string }
  | { kind: "dir"; path: string }
  | { kind: "file"; path: string }
  /** A host-side process (not in any of the lab's namespaces); pid/start once it runs. */
  | { kind: "process"; name: string; pid?: number; start?: string };

/** Appends to the manifest, creating the lab's directory on first use. Synced: it must survive a crash. */
export function record(id: string, entry: ManifestEntry): void {
  fs.mkdirSync(labDir(id), { recursive: true, mode: 0o700 });
  const fd = fs.openSync(labFile(id, "manifest.jsonl"), "a", 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(entry)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function readManifest(id: string): ManifestEntry[] {
  let text = "";
  try {
    text = fs.readFileSync(labFile(id, "manifest.jsonl"), "utf8");
  } catch {
    return [];
  }
  const out: ManifestEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as ManifestEntry);
    } catch {
      // A line cut short by a crash mid-write: the discovery in destroyWorld still finds the thing.
    }
  }
  return out;
}
