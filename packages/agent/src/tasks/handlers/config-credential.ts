import { parse } from "yaml";
import { ownedKeyConflicts, renderConfigYaml } from "../../phases/configure.ts";
import { RKE2_CONFIG_FILE } from "../../rke2-paths.ts";
import { TaskFailed, type TaskHandler } from "../types.ts";

// The agent-token migration (docs/operations.md#agent-token-migration) changes one credential in a
// joined node's config.yaml: a server gains `agent-token`, an agent's `token` becomes the agent
// credential. Every other key stays as the plan wrote it. Written atomically with mode 0600 (it holds
// secrets); the value is never echoed in a message. A re-run with the same value changes nothing.
export const rke2ConfigCredential: TaskHandler<"rke2.config-credential"> = async (task, ctx) => {
  const { files } = ctx.host;
  const text = await files.readTextIfExists(RKE2_CONFIG_FILE);
  if (text === null)
    throw new TaskFailed(`${RKE2_CONFIG_FILE} does not exist: this node was not set up by a plan`);
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch {
    throw new TaskFailed(`${RKE2_CONFIG_FILE} is not valid YAML: fix it before changing ${task.key}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw new TaskFailed(`${RKE2_CONFIG_FILE} is not a YAML mapping`);
  // A drop-in setting the key would override config.yaml: RKE2 would not see the new value.
  const conflicts = (await ownedKeyConflicts(files)).filter((c) => c.key.replace(/\+$/, "") === task.key);
  if (conflicts.length > 0)
    throw new TaskFailed(
      `${conflicts.map((c) => c.file).join(", ")} sets ${task.key}: remove it from the drop-in`,
    );
  const config = doc as Record<string, unknown>;
  const mode = (await files.stat(RKE2_CONFIG_FILE))?.mode;
  if (config[task.key] === task.value && mode === 0o600) return { changed: false };
  config[task.key] = task.value;
  await files.writeAtomic(RKE2_CONFIG_FILE, renderConfigYaml(config), 0o600);
  ctx.progress(`${RKE2_CONFIG_FILE}: ${task.key} set`);
  return { changed: true };
};
