/**
 * The image's root file system, planned as a list of entries and written as one tar layer. Every entry has a fixed
 * owner (root), mode and mtime, and the entries are sorted, so the same inputs give the same bytes: the layer's
 * digest (Docker's diff id) is the image's content identity.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { pack } from "tar-stream";
import { type SharedObjects, sharedObjectsOf } from "./ldd.js";

/** The unprivileged user the entry point runs as. */
export const APP_UID = 10001;
/** Where the node binary sits in the image. */
export const IMAGE_NODE_PATH = "/usr/bin/node";
/** Where the bundle sits in the image. */
export const IMAGE_BUNDLE_PATH = "/app/main.js";
/** The CA bundle copied from the host when present (Debian's ca-certificates). */
export const HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** Every entry's mtime: the epoch, whatever the host's clocks and files say. */
const FIXED_MTIME = new Date(0);

/** One entry of the root file system: a directory, or a file with its content (or the host file it copies). */
export type RootfsEntry =
  | { path: string; type: "directory"; mode: number }
  | { path: string; type: "file"; mode: number; content: Uint8Array }
  | { path: string; type: "file"; mode: number; hostFile: string };

/** A host program or shared object copied into the image together with every library `ldd` names for it. */
export interface HostProgram {
  /** Where it sits in the image, e.g. `/usr/sbin/iptables`. */
  path: string;
  /** The host file to copy (followed through symlinks). */
  hostFile: string;
}

/** Inputs of {@link planRootfs}. */
export interface RootfsInputs {
  /** A bundled entry point, placed at `/app/main.js` beside a package.json that makes it an ES module. */
  bundle?: Uint8Array;
  /** More files and directories of the program (e.g. an installed package's tree under /app). */
  files?: RootfsEntry[];
  /** Host tools the program runs (iptables, btrfs) or loads (iptables' extensions), with their libraries. */
  hostPrograms?: HostProgram[];
  /** The host's node binary to copy; default `process.execPath`. */
  nodeBinary?: string;
  /** What node needs at run time; default: asked of the host's `ldd` (tests give its answer here). */
  sharedObjects?: SharedObjects;
  /** What a host program needs at run time; default: asked of the host's `ldd`. */
  sharedObjectsOf?: (hostFile: string) => SharedObjects;
  /** Host CA bundle to copy as /etc/ssl/certs/ca-certificates.crt; default {@link HOST_CA_BUNDLE} when it exists. */
  caBundle?: string | null;
}

const passwd = `root:x:0:0:root:/root:/nonexistent\napp:x:${APP_UID}:${APP_UID}:app:/tmp:/nonexistent\n`;
const group = `root:x:0:\napp:x:${APP_UID}:\n`;

/**
 * Plans the root file system: the node binary, the host programs, exactly the shared objects ldd names for each (at
 * the paths it names, the loader included), the CA bundle, /etc/passwd and /etc/group with the app user, a sticky
 * /tmp, the bundle at /app/main.js when given, and the given files. Parent directories are added; nothing else is.
 */
export function planRootfs(inputs: RootfsInputs): RootfsEntry[] {
  const nodeBinary = inputs.nodeBinary ?? process.execPath;
  const lookUp = inputs.sharedObjectsOf ?? sharedObjectsOf;
  const caBundle =
    inputs.caBundle === undefined ? (existsSync(HOST_CA_BUNDLE) ? HOST_CA_BUNDLE : null) : inputs.caBundle;
  const programs: HostProgram[] = [{ path: IMAGE_NODE_PATH, hostFile: nodeBinary }, ...(inputs.hostPrograms ?? [])];

  // The libraries of every program, each once; they must all agree on the one dynamic loader.
  let loader: string | undefined;
  const libraries = new Set<string>();
  for (const program of programs) {
    const objects =
      program.hostFile === nodeBinary && inputs.sharedObjects ? inputs.sharedObjects : lookUp(program.hostFile);
    for (const library of objects.libraries) libraries.add(library);
    if (objects.loader === undefined) continue;
    if (loader !== undefined && loader !== objects.loader) {
      throw new Error(`rootfs: ${program.hostFile} needs the loader ${objects.loader}, another program ${loader}`);
    }
    loader = objects.loader;
  }
  for (const program of programs) libraries.delete(program.hostFile);

  const files: RootfsEntry[] = [
    ...programs.map((program): RootfsEntry => ({ ...program, type: "file", mode: 0o755 })),
    { path: "/etc/passwd", type: "file", mode: 0o644, content: Buffer.from(passwd) },
    { path: "/etc/group", type: "file", mode: 0o644, content: Buffer.from(group) },
    ...(inputs.files ?? []),
  ];
  if (inputs.bundle !== undefined) {
    files.push(
      { path: IMAGE_BUNDLE_PATH, type: "file", mode: 0o644, content: inputs.bundle },
      { path: "/app/package.json", type: "file", mode: 0o644, content: Buffer.from('{"type":"module"}\n') },
    );
  }
  for (const library of [...libraries].sort())
    files.push({ path: library, type: "file", mode: 0o755, hostFile: library });
  if (loader !== undefined) files.push({ path: loader, type: "file", mode: 0o755, hostFile: loader });
  if (caBundle !== null) files.push({ path: HOST_CA_BUNDLE, type: "file", mode: 0o644, hostFile: caBundle });

  const entries = new Map<string, RootfsEntry>();
  entries.set("/tmp", { path: "/tmp", type: "directory", mode: 0o1777 });
  for (const file of files) {
    const existing = entries.get(file.path);
    if (existing?.type === "directory" && file.type === "directory") continue;
    if (existing) throw new Error(`rootfs: ${file.path} planned twice`);
    entries.set(file.path, file);
    for (let dir = parentOf(file.path); dir !== "/"; dir = parentOf(dir)) {
      const parent = entries.get(dir);
      if (parent?.type === "file") throw new Error(`rootfs: ${dir} is both a file and a directory`);
      if (!parent) entries.set(dir, { path: dir, type: "directory", mode: 0o755 });
    }
  }
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function parentOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut <= 0 ? "/" : path.slice(0, cut);
}

/** The bytes of a file entry: its content, or the host file (followed through symlinks; must be a regular file). */
function entryBytes(entry: Extract<RootfsEntry, { type: "file" }>): Uint8Array {
  if ("content" in entry) return entry.content;
  const info = statSync(entry.hostFile);
  if (!info.isFile()) throw new Error(`rootfs: ${entry.hostFile} (for ${entry.path}) is not a regular file`);
  return readFileSync(entry.hostFile);
}

/** The written layer: the tar bytes and their sha256 (Docker's diff id of the layer, `sha256:<hex>`). */
export interface RootfsTar {
  tar: Buffer;
  diffId: string;
}

/** Writes the planned entries as a tar (owner root, fixed mtime, the planned modes, in the planned order). */
export async function writeRootfsTar(entries: RootfsEntry[]): Promise<RootfsTar> {
  const archive = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of archive) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const header = {
      name: entry.path.slice(1),
      mode: entry.mode,
      mtime: FIXED_MTIME,
      uid: 0,
      gid: 0,
      uname: "",
      gname: "",
    };
    if (entry.type === "directory") {
      archive.entry({ ...header, type: "directory" });
    } else {
      archive.entry({ ...header, type: "file" }, Buffer.from(entryBytes(entry)));
    }
  }
  archive.finalize();
  await collected;
  const tar = Buffer.concat(chunks);
  return { tar, diffId: `sha256:${createHash("sha256").update(tar).digest("hex")}` };
}
