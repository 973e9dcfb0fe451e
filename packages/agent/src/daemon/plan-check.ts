import { type NodePlan, planChecksum } from "@muster/shared";

// A plan that passed the frame schema must still be self-consistent before anything is installed:
// its checksum covers its content, it is for this node, and role, unit and installer type agree.
export function planProblem(plan: NodePlan, node: string | undefined): string | null {
  if (planChecksum(plan) !== plan.checksum) return "its checksum does not match its content";
  if (node !== undefined && plan.node !== node) return `it is for node ${plan.node}, this node is ${node}`;
  const unit = plan.role === "server" ? "rke2-server" : "rke2-agent";
  if (plan.service !== unit) return `role ${plan.role} needs service ${unit}, not ${plan.service}`;
  if (plan.install.type !== plan.role)
    return `install type ${plan.install.type} does not match role ${plan.role}`;
  if (plan.init && plan.role !== "server") return "only a server can initialise the cluster";
  if (plan.captureToken && !plan.init) return "only the init server captures the token";
  if (!plan.init && !plan.readiness.registrationAddress) return "a joining node needs a registration address";
  return null;
}
