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

/** Inputs of {@link planRootfs}. */
export interface RootfsInputs {
  /** The bundled entry point (`/app/main.js`). */
  bundle: Uint8Array;
  /** The host's node binary to copy; default `process.execPath`. */
  nodeBinary?: string;
  /** What node needs at run time; default: asked of the host's `ldd`. */
  sharedObjects?: SharedObjects;
  /** Host CA bundle to copy as /etc/ssl/certs/ca-certificates.crt; default {@link HOST_CA_BUNDLE} when it exists. */
  caBundle?: string | null;
}

const passwd = `root:x:0:0:root:/root:/nonexistent\napp:x:${APP_UID}:${APP_UID}:app:/tmp:/nonexistent\n`;
const group = `root:x:0:\napp:x:${APP_UID}:\n`;

/**
 * Plans the root file system: the node binary, exactly the shared objects ldd names (at the paths it names, the
 * loader included), the CA bundle, /etc/passwd and /etc/group with the app user, a sticky /tmp, and the bundle at
 * /app/main.js beside a package.json that makes it an ES module. Parent directories are added; nothing else is.
 */
export function planRootfs(inputs: RootfsInputs): RootfsEntry[] {
  const nodeBinary = inputs.nodeBinary ?? process.execPath;
  const objects = inputs.sharedObjects ?? sharedObjectsOf(nodeBinary);
  const caBundle =
    inputs.caBundle === undefined ? (existsSync(HOST_CA_BUNDLE) ? HOST_CA_BUNDLE : null) : inputs.caBundle;

  const files: RootfsEntry[] = [
    { path: IMAGE_NODE_PATH, type: "file", mode: 0o755, hostFile: nodeBinary },
    { path: IMAGE_BUNDLE_PATH, type: "file", mode: 0o644, content: inputs.bundle },
    { path: "/app/package.json", type: "file", mode: 0o644, content: Buffer.from('{"type":"module"}\n') },
    { path: "/etc/passwd", type: "file", mode: 0o644, content: Buffer.from(passwd) },
    { path: "/etc/group", type: "file", mode: 0o644, content: Buffer.from(group) },
  ];
  for (const library of objects.libraries) files.push({ path: library, type: "file", mode: 0o755, hostFile: library });
  if (objects.loader !== undefined)
    files.push({ path: objects.loader, type: "file", mode: 0o755, hostFile: objects.loader });
  if (caBundle !== null) files.push({ path: HOST_CA_BUNDLE, type: "file", mode: 0o644, hostFile: caBundle });

  const entries = new Map<string, RootfsEntry>();
  entries.set("/tmp", { path: "/tmp", type: "directory", mode: 0o1777 });
  for (const file of files) {
    if (entries.has(file.path)) throw new Error(`rootfs: ${file.path} planned twice`);
    entries.set(file.path, file);
    for (let dir = parentOf(file.path); dir !== "/"; dir = parentOf(dir)) {
      const existing = entries.get(dir);
      if (existing?.type === "file") throw new Error(`rootfs: ${dir} is both a file and a directory`);
      if (!existing) entries.set(dir, { path: dir, type: "directory", mode: 0o755 });
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
