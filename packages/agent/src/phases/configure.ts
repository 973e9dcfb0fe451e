import { parse, stringify } from "yaml";
import type { Files } from "../adapters/types.ts";
import { RKE2_CONFIG_DIR, RKE2_CONFIG_FILE, RKE2_DROPIN_DIR, RKE2_MANIFESTS_DIR } from "../rke2-paths.ts";
import { placeImages } from "./images.ts";
import { type Phase, PhaseError } from "./types.ts";

// configure: /etc/rancher/rke2/config.yaml from plan.config, written atomically with mode 0600 (it
// holds the token). RKE2 merges config.yaml.d/*.yaml after it, last value wins: operator drop-ins
// are kept, but one that sets a key muster owns would silently override the plan, so it fails here.
export const OWNED_KEYS = ["server", "token", "node-name", "node-ip", "agent-token"];
const HEADER = "# Written by muster from the node plan. Put local additions in config.yaml.d/*.yaml.\n";

export function renderConfigYaml(config: Record<string, unknown>): string {
  return HEADER + stringify(config, { lineWidth: 0 });
}

/** [file, key] pairs where an operator drop-in sets a key muster owns (including `key+` appends). */
export async function ownedKeyConflicts(files: Files): Promise<Array<{ file: string; key: string }>> {
  const conflicts: Array<{ file: string; key: string }> = [];
  for (const name of await files.readdir(RKE2_DROPIN_DIR)) {
    if (!/\.ya?ml$/.test(name)) continue;
    const path = `${RKE2_DROPIN_DIR}/${name}`;
    let doc: unknown;
    try {
      doc = parse((await files.readTextIfExists(path)) ?? "", { maxAliasCount: 100 });
    } catch (err) {
      const reason = err instanceof Error ? err.message.split("\n")[0] : String(err);
      throw new PhaseError(`${path} is not valid YAML (RKE2 would refuse to start): ${reason}`);
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) continue;
    for (const key of Object.keys(doc)) {
      if (OWNED_KEYS.includes(key.replace(/\+$/, ""))) conflicts.push({ file: path, key });
    }
  }
  return conflicts;
}

/** Writes `content` atomically (0600) unless the file already holds exactly it. Returns whether it wrote. */
async function writeIfChanged(files: Files, path: string, content: string): Promise<boolean> {
  const current = await files.readTextIfExists(path);
  const mode = (await files.stat(path))?.mode;
  if (current === content && mode === 0o600) return false;
  await files.writeAtomic(path, content, 0o600);
  return true;
}

export const configurePhase: Phase = {
  name: "configure",
  async run(ctx) {
    const { files } = ctx.host;
    const conflicts = await ownedKeyConflicts(files);
    if (conflicts.length > 0) {
      const list = conflicts.map((c) => `${c.file} sets "${c.key}"`).join("; ");
      throw new PhaseError(
        `${list}: muster sets ${OWNED_KEYS.join(", ")} from the plan and a drop-in would override it; remove the key from the drop-in`,
      );
    }
    await files.mkdir(RKE2_CONFIG_DIR, 0o755);
    const configChanged = await writeIfChanged(files, RKE2_CONFIG_FILE, renderConfigYaml(ctx.plan.config));
    ctx.scratch.configChanged = configChanged;

    let manifests = 0;
    if (ctx.plan.role === "server" && ctx.plan.manifests.length > 0) {
      await files.mkdir(RKE2_MANIFESTS_DIR, 0o700);
      for (const m of ctx.plan.manifests) {
        if (await writeIfChanged(files, `${RKE2_MANIFESTS_DIR}/${m.name}`, m.content)) manifests++;
      }
    }
    const images = ctx.plan.role === "server" ? await placeImages(ctx) : "";
    const dropins = (await files.readdir(RKE2_DROPIN_DIR)).filter((n) => /\.ya?ml$/.test(n));
    const parts = [`${RKE2_CONFIG_FILE} ${configChanged ? "written" : "unchanged"}`];
    if (dropins.length > 0) parts.push(`kept drop-ins: ${dropins.join(", ")}`);
    if (ctx.plan.role === "server" && ctx.plan.manifests.length > 0)
      parts.push(`${ctx.plan.manifests.length} manifest(s), ${manifests} updated`);
    if (images) parts.push(images);
    return parts.join("; ");
  },
};
