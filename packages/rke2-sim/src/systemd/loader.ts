// Loaded unit definitions with daemon-reload semantics: systemd loads a unit on first use and keeps
// that definition until `daemon-reload`, warning when the file on disk has changed meanwhile.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { paths, stateDir } from "./state.ts";
import { parseUnit, readUnitSource, type Unit } from "./unit.ts";

export interface Loaded {
  unit: Unit;
  /** The on-disk files differ from the loaded definition (daemon-reload needed). */
  changedOnDisk: boolean;
}

export function loadUnit(name: string): Loaded | null {
  const disk = readUnitSource(name);
  const snapshotFile = paths.loaded(name);
  if (existsSync(snapshotFile)) {
    try {
      const snap = JSON.parse(readFileSync(snapshotFile, "utf8")) as { fragmentPath: string; source: string };
      return {
        unit: parseUnit(name, snap.fragmentPath, snap.source),
        changedOnDisk: !disk || disk.source !== snap.source,
      };
    } catch {
      rmSync(snapshotFile, { force: true });
    }
  }
  if (!disk) return null;
  writeFileSync(snapshotFile, JSON.stringify(disk));
  return { unit: parseUnit(name, disk.fragmentPath, disk.source), changedOnDisk: false };
}

export function daemonReload(): void {
  rmSync(path.join(stateDir(), "loaded"), { recursive: true, force: true });
  mkdirSync(path.join(stateDir(), "loaded"), { recursive: true });
}

export function changedWarning(name: string): string {
  return `Warning: The unit file, source configuration file or drop-ins of ${name} changed on disk. Run 'systemctl daemon-reload' to reload units.`;
}
