import { parse } from "yaml";
import type { z } from "zod";
import { InvalidYaml } from "./errors.ts";
import { parseOrThrow } from "./validate.ts";

/** Parses YAML text against a schema; syntax and schema errors both become VALIDATION_FAILED. */
export function parseYamlAs<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S> {
  let doc: unknown;
  try {
    // Bounded alias expansion defends against billion-laughs style documents.
    doc = parse(text, { maxAliasCount: 100, prettyErrors: true });
  } catch (err) {
    const reason = err instanceof Error ? (err.message.split("\n")[0] ?? "") : String(err);
    throw new InvalidYaml(what, reason);
  }
  return parseOrThrow(schema, doc ?? {}, what);
}
