import type { z } from "zod";
import { type ErrorDetail, InvalidInput } from "./errors.ts";

/** Turns zod issues into details that name each bad field by its dotted path. */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[], prefix = ""): ErrorDetail[] {
  const join = (parts: readonly PropertyKey[]) => {
    const path = [prefix, ...parts.map(String)].filter((p) => p !== "").join(".");
    return path === "" ? "(root)" : path;
  };
  return issues.flatMap((issue) =>
    // An unknown key is a bad field of its own: name it, not its parent.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({ path: join([...issue.path, key]), message: "unknown field" }))
      : [{ path: join(issue.path), message: issue.message }],
  );
}

/** Parses `input` or throws VALIDATION_FAILED naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  prefix = "",
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new InvalidInput(what, issuesToDetails(result.error.issues, prefix));
}
