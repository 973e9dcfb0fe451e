// `lab ls`: every lab on this machine, also half-built ones (which `down` removes).
import fs from "node:fs";
import { STATE_ROOT } from "../world/layout.ts";
import { knownWorlds, PERSISTENT_OWNER } from "../world/registry.ts";
import { labIds, readRecord } from "./state.ts";

interface Row {
  id: string;
  state: string;
  servers: number;
  agents: number;
  registration: string;
  coordinator: string;
  createdAt: string;
}

function rows(): Row[] {
  // A persistent world without a lab directory is the wreck of an `up` killed in its first moments.
  const persistent = knownWorlds().filter((id) => {
    try {
      return fs.readFileSync(`${STATE_ROOT}/${id}/owner`, "utf8").trim() === PERSISTENT_OWNER;
    } catch {
      return false;
    }
  });
  const ids = [...new Set([...labIds(), ...persistent])].sort();
  return ids.map((id) => {
    try {
      const r = readRecord(id);
      return {
        id,
        state: r.state,
        servers: r.machines.filter((m) => m.role === "server").length,
        agents: r.machines.filter((m) => m.role === "agent").length,
        registration: `${r.registration.mode} ${r.registration.address}`,
        coordinator: r.coordinator.url,
        createdAt: r.createdAt,
      };
    } catch {
      return {
        id,
        state: "incomplete",
        servers: 0,
        agents: 0,
        registration: "-",
        coordinator: "-",
        createdAt: "-",
      };
    }
  });
}

export function lsLines(json: boolean): string {
  const list = rows();
  if (json) return JSON.stringify({ labs: list });
  if (list.length === 0) return "no labs (make one with `npm run lab -- up`)";
  const table = [
    ["ID", "STATE", "SERVERS", "AGENTS", "REGISTRATION", "COORDINATOR", "CREATED"],
    ...list.map((r) => [
      r.id,
      r.state,
      String(r.servers),
      String(r.agents),
      r.registration,
      r.coordinator,
      r.createdAt,
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
