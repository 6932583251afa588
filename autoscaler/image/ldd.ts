/**
 * Reads `ldd`'s answer for a binary: the shared libraries and the dynamic loader it needs, which the image must hold
 * at exactly these paths (the binary names its loader by absolute path, and the loader finds the libraries in its
 * default directories). The text comes from another program, so every path is checked before it decides what is
 * copied into an image: a `..` part or a relative name would put an unplanned host file into it.
 */
import { execFileSync } from "node:child_process";

/** What a dynamically linked binary needs at run time. */
export interface SharedObjects {
  /** The dynamic loader (`/lib64/ld-linux-x86-64.so.2`), or undefined for a static binary. */
  loader: string | undefined;
  /** Absolute paths of the shared libraries, loader excluded, sorted, each once. */
  libraries: string[];
}

/** Objects the kernel maps into every process; no file to copy. */
const VIRTUAL_OBJECTS = /^linux-(vdso|gate)\.so(\.\d+)*$/;

/** A path we accept from ldd: absolute, no `.`/`..`/empty parts, no control characters or spaces. */
function isCleanAbsolutePath(path: string): boolean {
  if (!path.startsWith("/") || /\s/.test(path) || [...path].some((c) => c.charCodeAt(0) < 0x20 || c === "\x7f")) {
    return false;
  }
  return path
    .slice(1)
    .split("/")
    .every((part) => part !== "" && part !== "." && part !== "..");
}

function checkedPath(path: string, binary: string, line: string): string {
  if (!isCleanAbsolutePath(path)) {
    throw new Error(
      `ldd ${binary}: refusing library path ${JSON.stringify(path)} (line ${JSON.stringify(line)}): not a clean absolute path`,
    );
  }
  return path;
}

/**
 * Parses the output of `ldd <binary>` (glibc's format). Lines look like
 * `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`, `/lib64/ld-linux-x86-64.so.2 (0x...)` or
 * `linux-vdso.so.1 (0x...)`. A library ldd could not find (`=> not found`) is an error naming it: an image without
 * it would only fail when the container starts.
 */
export function parseLddOutput(output: string, binary: string): SharedObjects {
  const trimmed = output.trim();
  if (/^(not a dynamic executable|statically linked)$/.test(trimmed)) return { loader: undefined, libraries: [] };
  let loader: string | undefined;
  const libraries = new Set<string>();
  const missing: string[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const mapped = /^(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (mapped) {
      const [, name, target] = mapped as unknown as [string, string, string];
      if (target === "not found") {
        missing.push(name);
        continue;
      }
      // `name => (0x...)`: a virtual object the kernel provides.
      if (target === "" || /^\(0x[0-9a-f]+\)$/.test(target)) {
        if (VIRTUAL_OBJECTS.test(name)) continue;
        throw new Error(`ldd ${binary}: ${name} has no file (line ${JSON.stringify(line)})`);
      }
      libraries.add(checkedPath(target, binary, line));
      continue;
    }
    const bare = /^(\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (bare) {
      const name = bare[1] as string;
      if (VIRTUAL_OBJECTS.test(name)) continue;
      // The only bare absolute path glibc's ldd prints is the loader the binary names in its PT_INTERP.
      if (loader !== undefined) throw new Error(`ldd ${binary}: two dynamic loaders (${loader}, ${name})`);
      loader = checkedPath(name, binary, line);
      continue;
    }
    throw new Error(`ldd ${binary}: cannot read line ${JSON.stringify(line)}`);
  }
  if (missing.length > 0) {
    throw new Error(`ldd ${binary}: shared libraries not found on this host: ${missing.join(", ")}`);
  }
  if (loader === undefined && libraries.size > 0) {
    throw new Error(`ldd ${binary}: libraries listed but no dynamic loader`);
  }
  if (loader !== undefined) libraries.delete(loader);
  return { loader, libraries: [...libraries].sort() };
}

/** Runs the host's `ldd` on `binary` (our own node binary: ldd may execute what it inspects) and parses it. */
export function sharedObjectsOf(binary: string): SharedObjects {
  let output: string;
  try {
    output = execFileSync("ldd", [binary], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    const text = `${failed.stdout ?? ""}${failed.stderr ?? ""}`.trim();
    // ldd exits 1 for a static binary, after saying so.
    if (/not a dynamic executable|statically linked/.test(text)) return { loader: undefined, libraries: [] };
    throw new Error(`ldd ${binary}: ${text || failed.message}`);
  }
  return parseLddOutput(output, binary);
}
