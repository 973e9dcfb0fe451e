// `lab add`: one more machine in a running lab, enrolled with the real curl-bash line.
import { writeSimDefaults } from "../cluster/setup.ts";
import { assignIps, checkNodeName } from "../world/layout.ts";
import { ensureStateRoot } from "../world/registry.ts";
import { enrol, settleTimeoutMs, waitSettled } from "./enrol.ts";
import { LB_NAME, startHaproxy } from "./haproxy.ts";
import { addMachine, coordinatorOf, nodeOf } from "./machines.ts";
import { apiClient } from "./services.ts";
import { LabInputError, type LabMachine, type LabRecord, writeRecord } from "./state.ts";

export interface AddResult {
  machine: LabMachine;
  state: string;
  ok: boolean;
}

/** The next free `<role>-<n>` name. */
export function nextName(r: LabRecord, role: "server" | "agent"): string {
  const taken = r.machines.map((m) => new RegExp(`^${role}-(\\d+)$`).exec(m.name)?.[1]).map(Number);
  return `${role}-${Math.max(0, ...taken.filter(Number.isFinite)) + 1}`;
}

export async function addNode(
  r: LabRecord,
  role: "server" | "agent",
  wanted: string | undefined,
  say: (line: string) => void,
): Promise<AddResult> {
  const name = wanted ?? nextName(r, role);
  try {
    checkNodeName(name);
  } catch (err) {
    throw new LabInputError(`--name: ${(err as Error).message.replace(/^world: /, "")}`);
  }
  if (r.machines.some((m) => m.name === name))
    throw new LabInputError(`lab ${r.id} already has a node "${name}"`);
  const ips = assignIps(r.subnetIndex, [
    ...r.machines.map((m) => ({ name: m.name, ip: m.address })),
    { name, ip: undefined },
  ]);
  const machine: LabMachine = {
    name,
    role,
    address: ips.at(-1)!,
    port: Math.max(...r.machines.map((m) => m.port)) + 1,
  };
  ensureStateRoot();
  say(`lab ${r.id}: adding ${role} ${name} at ${machine.address} …`);
  const node = await addMachine(r, machine);
  await writeSimDefaults(node, r.durations);
  r.machines.push(machine);
  writeRecord(r);
  if (r.registration.mode === "lb" && role === "server") {
    const servers = r.machines.filter((m) => m.role === "server");
    await startHaproxy(nodeOf(r, LB_NAME), servers);
  }
  const api = apiClient(coordinatorOf(r));
  const failed = await enrol(r.id, api, [{ node, role }], say);
  const servers = r.machines.filter((m) => m.role === "server").length;
  const [view] = await waitSettled(api, [name], settleTimeoutMs(r.durations, servers), say);
  const state = view?.state ?? "unknown";
  return { machine, state, ok: failed.length === 0 && state === "joined" };
}
