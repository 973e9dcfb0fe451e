// A minimal ustar writer and reader, so the build is the same on any machine (no dependence on GNU vs
// BSD tar flags) and its output is reproducible: sorted entries, fixed mtime, uid/gid 0, no user
// names. Only what the bundles need: regular files and directories, names under 100 bytes.

export interface TarEntry {
  /** Relative path; directories end without a slash (one is added). */
  name: string;
  type: "file" | "dir";
  mode: number;
  data?: Buffer;
}

const BLOCK = 512;

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  // length-1 zero-padded octal digits and a NUL terminator, as ustar expects.
  buf.write(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length, "ascii");
}

function header(entry: TarEntry, mtime: number): Buffer {
  const name = entry.type === "dir" ? `${entry.name}/` : entry.name;
  if (Buffer.byteLength(name) >= 100) throw new Error(`tar: name too long for ustar: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  writeOctal(h, 100, 8, entry.mode);
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, entry.type === "file" ? (entry.data?.length ?? 0) : 0);
  writeOctal(h, 136, 12, mtime);
  h.write("        ", 148, 8, "ascii"); // checksum field counts as spaces while summing
  h.write(entry.type === "dir" ? "5" : "0", 156, 1, "ascii");
  h.write("ustar\0", 257, 6, "ascii");
  h.write("00", 263, 2, "ascii");
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return h;
}

/** Builds an uncompressed tar archive; entries are written sorted by name, whatever order they come in. */
export function createTar(entries: readonly TarEntry[], mtime: number): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const parts: Buffer[] = [];
  for (const entry of sorted) {
    parts.push(header(entry, mtime));
    if (entry.type === "file" && entry.data && entry.data.length > 0) {
      parts.push(entry.data);
      const pad = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2)); // end-of-archive marker
  return Buffer.concat(parts);
}

function readString(buf: Buffer, offset: number, length: number): string {
  const raw = buf.subarray(offset, offset + length);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul === -1 ? length : nul).toString("utf8");
}

export interface ReadEntry {
  name: string;
  type: string;
  mode: number;
  data: Buffer;
}

/**
 * Reads the entries of an uncompressed tar (ustar, with pax `x` and GNU `L` long-name records, as
 * npm and GNU tar write them). Metadata records are applied, not returned.
 */
export function readTar(buf: Buffer): ReadEntry[] {
  const out: ReadEntry[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= buf.length) {
    const h = buf.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = Number.parseInt(readString(h, 124, 12).trim() || "0", 8);
    const type = readString(h, 156, 1) || "0";
    const prefix = readString(h, 345, 155);
    const baseName = readString(h, 0, 100);
    const data = buf.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x") {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
      if (m) longName = m[1];
      continue;
    }
    if (type === "L") {
      longName = readString(data, 0, data.length);
      continue;
    }
    if (type === "g") continue;
    const name = longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
    longName = undefined;
    out.push({ name, type, mode: Number.parseInt(readString(h, 100, 8).trim() || "0", 8), data });
  }
  return out;
}
