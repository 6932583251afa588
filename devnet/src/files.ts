import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Every file under `dir` with its bytes, read while a daemon may still write there: a worker renames its state's
 * temporary file over state.json at any moment, so a file listed can be gone when it is read (a CI run failed on
 * that ENOENT). A pass that loses a file is made again, so what the file held is read under its new name.
 */
export function filesUnder(dir: string, passes = 5): Map<string, Buffer> {
  for (let pass = 0; pass < passes; pass++) {
    const files = readAll(dir);
    if (files) return files;
  }
  throw new Error(`files under ${dir} kept moving during ${passes} passes`);
}

/** One pass; undefined when a listed file was gone before it was read. */
function readAll(dir: string): Map<string, Buffer> | undefined {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    try {
      files.set(file, readFileSync(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }
  return files;
}
