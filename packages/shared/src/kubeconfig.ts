import { parseDocument } from "yaml";
import * as z from "zod";

// The admin kubeconfig handed to the operator (GET /v1/kubeconfig, `muster kubeconfig`): RKE2's
// /etc/rancher/rke2/rke2.yaml read on a server by its agent, with every cluster's server rewritten
// from the node's loopback to the registration address, so it works from outside the node.

export const KubeconfigViewSchema = z.strictObject({
  /** The kubeconfig YAML (a secret: it holds the system:admin client key). */
  kubeconfig: z.string(),
});
export type KubeconfigView = z.output<typeof KubeconfigViewSchema>;

/** `https://<address>:6443`, with brackets for an IPv6 literal. */
export function apiServerUrl(address: string): string {
  return `https://${address.includes(":") ? `[${address}]` : address}:6443`;
}

/**
 * Rewrites `clusters[].cluster.server` to `server`, keeping everything else (comments included).
 * Throws when the text is not a kubeconfig with at least one cluster.
 */
export function rewriteKubeconfigServer(text: string, server: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`not valid YAML: ${doc.errors[0]?.message.split("\n")[0]}`);
  const clusters = doc.get("clusters", true) as { items?: unknown[] } | undefined;
  const items = clusters && Array.isArray(clusters.items) ? clusters.items : [];
  let rewritten = 0;
  items.forEach((_, i) => {
    if (doc.hasIn(["clusters", i, "cluster"])) {
      doc.setIn(["clusters", i, "cluster", "server"], server);
      rewritten++;
    }
  });
  if (rewritten === 0) throw new Error("not a kubeconfig: it names no cluster");
  return doc.toString();
}
