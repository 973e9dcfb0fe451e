import { readFile } from "node:fs/promises";
import { type ClusterSpec, ClusterSpecSchema, ConfigFileUnreadable, parseYamlAs } from "@muster/shared";
import { type FrontDoorLimits, FrontDoorLimitsSchema } from "../transport/http/limits.ts";

// `serve --config cluster.yaml`: the cluster spec as YAML, validated by the same schema as
// PUT /v1/cluster, so a file and an API call can never disagree on what is valid.
export async function loadClusterConfig(path: string): Promise<ClusterSpec> {
  return parseYamlAs(ClusterSpecSchema, await readConfig(path), `cluster config ${path}`);
}

/** `serve --limits limits.yaml`: the front door's timeouts and rate limits; absent fields default. */
export async function loadLimitsFile(path: string): Promise<FrontDoorLimits> {
  return parseYamlAs(FrontDoorLimitsSchema, await readConfig(path), `limits file ${path}`);
}

async function readConfig(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (err as Error).message;
    throw new ConfigFileUnreadable(path, why);
  }
  return text;
}
