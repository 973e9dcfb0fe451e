import type { ClusterSpec, CoordinatorFrame, Logger } from "@muster/shared";
import type { Store } from "../store/store.ts";
import type { Vault } from "./secrets/vault.ts";
import type { AgentLink } from "./service.ts";

// What the coordinator's domain modules share: the store, the vault, the current spec (held without
// its token: the vault is the one place the token lives), the live agent links, and a way to ask the
// sequencer for a planning pass.
export interface Ctx {
  store: Store;
  vault: Vault;
  logger: Logger;
  now: () => number;
  spec(): ClusterSpec;
  links: Map<string, AgentLink>;
  /** Coalesced: many calls before the next turn of the event loop cause one planning pass. */
  schedule(): void;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Sends a frame if the node is connected; a broken link is logged and left to the hub to close. */
export function sendTo(ctx: Ctx, node: string, frame: CoordinatorFrame): boolean {
  const link = ctx.links.get(node);
  if (!link) return false;
  try {
    link.send(frame);
    return true;
  } catch (err) {
    ctx.logger.warn({ node, frame: frame.type, err: (err as Error).message }, "sending to agent failed");
    return false;
  }
}

/**
 * Removes the cluster token (and its password part) from text that came from an agent, before it
 * is stored in an event or a node message: an installer's error output must not leak it (docs/architecture.md, invariant 5).
 */
export function scrub(ctx: Ctx, text: string): string {
  const token = ctx.vault.token();
  if (!token) return text;
  const password = token.includes(":") ? token.slice(token.lastIndexOf(":") + 1) : token;
  let out = text.split(token).join("[redacted]");
  if (password.length >= 8) out = out.split(password).join("[redacted]");
  return out;
}
