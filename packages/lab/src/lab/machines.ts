// Handles on a lab's machines from any process (the world was built by an earlier `lab up`).
import { addressing, COORDINATOR } from "../world/layout.ts";
import { createMachine, openMachine, type WorldNode } from "../world/node.ts";
import { type LabMachine, type LabRecord, machineOf, record } from "./state.ts";

function spec(r: LabRecord, name: string, port: number, ip: string) {
  return { id: r.id, k: r.subnetIndex, port, name, ip, systemctl: r.systemctl, isAlive: () => true };
}

export function coordinatorOf(r: LabRecord): WorldNode {
  return openMachine(spec(r, COORDINATOR, 0, addressing(r.subnetIndex).coordinator));
}

/** A node by name; LabInputError naming the lab's nodes when there is none. "coordinator" works too. */
export function nodeOf(r: LabRecord, name: string): WorldNode {
  if (name === COORDINATOR) return coordinatorOf(r);
  const m = machineOf(r, name);
  return openMachine(spec(r, m.name, m.port, m.address));
}

/** Builds one more machine in a running lab (its namespaces go into the manifest first). */
export async function addMachine(r: LabRecord, m: LabMachine): Promise<WorldNode> {
  return createMachine({ ...spec(r, m.name, m.port, m.address), record: (t) => record(r.id, t) });
}
