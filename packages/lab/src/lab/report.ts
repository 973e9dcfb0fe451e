// What `lab up` prints: the contract's JSON (docs/reference.md#lab) or a friendly summary.
import { COORDINATOR } from "../world/layout.ts";
import type { LabRecord } from "./state.ts";

export interface LabJson {
  id: string;
  coordinator: { url: string; pin: string; adminTokenFile: string; caFile: string };
  registrationAddress: string;
  registration: { mode: string; address: string };
  nodes: { name: string; role: string; address: string }[];
  env: Record<string, string>;
}

export interface LabSummary {
  lab: LabRecord;
  ok: boolean;
  json: LabJson;
}

/** The environment that points `muster` at the lab (pin mode: the host reaches it on loopback). */
export function labEnv(r: LabRecord): Record<string, string> {
  return {
    MUSTER_SERVER: r.coordinator.url,
    MUSTER_PIN: r.coordinator.pin,
    MUSTER_TOKEN_FILE: r.coordinator.adminTokenFile,
  };
}

export function contractJson(r: LabRecord): LabJson {
  const { url, pin, adminTokenFile, caFile } = r.coordinator;
  return {
    id: r.id,
    coordinator: { url, pin, adminTokenFile, caFile },
    registrationAddress: r.registration.address,
    registration: r.registration,
    nodes: r.machines.map((m) => ({ name: m.name, role: m.role, address: m.address })),
    env: labEnv(r),
  };
}

const q = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

export function exportLines(r: LabRecord): string[] {
  return Object.entries(labEnv(r)).map(([k, v]) => `export ${k}=${q(v)}`);
}

export function friendlySummary(s: LabSummary): string {
  const r = s.lab;
  const rows = r.machines.map((m) => `    ${m.name.padEnd(12)} ${m.role.padEnd(7)} ${m.address}`);
  return [
    "",
    `lab ${r.id} is ${s.ok ? "up" : "up, but not every node joined (see `muster nodes`)"}.`,
    `  coordinator ${r.coordinator.ip} (${COORDINATOR}); registration ${r.registration.mode} ${r.registration.address}`,
    ...rows,
    "",
    "Point muster at it:",
    ...exportLines(r).map((l) => `  ${l}`),
    "  npx muster status",
    "",
    `Then: npm run lab -- exec ${r.id} server-1 -- cat /etc/rancher/rke2/config.yaml`,
    `      npm run lab -- kill ${r.id} <node> | partition ${r.id} <node> --seconds 30 | add ${r.id} --role agent`,
    `Remove it: npm run lab -- down ${r.id}`,
  ].join("\n");
}
