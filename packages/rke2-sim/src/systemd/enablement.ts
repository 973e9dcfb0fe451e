// enable/disable as symlinks in <first unit dir>/<target>.wants/, exactly where systemd puts them.
import { existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync, unlinkSync } from "node:fs";
import path from "node:path";
import type { Unit } from "./unit.ts";
import { unitSearchPath } from "./unit.ts";

function linkRoot(): string {
  return unitSearchPath()[0] ?? "/etc/systemd/system";
}

function wantsLinks(unit: Unit): string[] {
  const root = linkRoot();
  const links = unit.wantedBy.map((t) => path.join(root, `${t}.wants`, unit.name));
  if (existsSync(root)) {
    for (const d of readdirSync(root)) {
      if (!d.endsWith(".wants")) continue;
      const link = path.join(root, d, unit.name);
      if (!links.includes(link)) links.push(link);
    }
  }
  return links;
}

function exists(link: string): boolean {
  try {
    lstatSync(link);
    return true;
  } catch {
    return false;
  }
}

export type UnitFileState = "enabled" | "disabled" | "static";

export function unitFileState(unit: Unit): UnitFileState {
  if (!unit.hasInstall || unit.wantedBy.length === 0) return "static";
  return wantsLinks(unit).some(exists) ? "enabled" : "disabled";
}

/** Returns the messages systemctl prints (on stderr) for what it changed. */
export function enable(unit: Unit): string[] {
  if (unitFileState(unit) === "static") {
    return [
      `The unit files have no installation config (WantedBy=, RequiredBy=, Also=,\nAlias= settings in the [Install] section, and DefaultInstance= for template\nunits). This means they are not meant to be enabled or disabled using systemctl.`,
    ];
  }
  const out: string[] = [];
  for (const target of unit.wantedBy) {
    const link = path.join(linkRoot(), `${target}.wants`, unit.name);
    if (exists(link)) continue;
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(unit.fragmentPath, link);
    out.push(`Created symlink ${link} → ${unit.fragmentPath}.`);
  }
  return out;
}

export function disable(unit: Unit): string[] {
  const out: string[] = [];
  for (const link of wantsLinks(unit)) {
    if (!exists(link)) continue;
    unlinkSync(link);
    out.push(`Removed "${link}".`);
  }
  return out;
}
