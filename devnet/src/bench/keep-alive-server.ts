/**
 * The keep-alive pod server of `npm run bench:api` (static-http.c): compiled with the host's C compiler, statically
 * linked so it runs in an image FROM scratch, and cached by its source's hash (a compile takes a second or two).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const SOURCE = new URL("./static-http.c", import.meta.url).pathname;

/** Where the server lives in the bench image, and the command that serves `page` on `port` with it. */
export const KEEP_ALIVE_SERVER_PATH = "/bin/static-http";
export const keepAliveServerCommand = (port: number, page: string) => [KEEP_ALIVE_SERVER_PATH, String(port), page];

/** The compiled server (a static x86-64/arm64 Linux executable for the host's architecture). */
export async function keepAliveServerBinary(): Promise<Buffer> {
  const source = readFileSync(SOURCE);
  const dir = join(tmpdir(), "podnet-static-http");
  const binary = join(dir, createHash("sha256").update(source).digest("hex").slice(0, 16));
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    const compiler = process.env.CC ?? "cc";
    const out = `${binary}.${process.pid}`;
    await exec(compiler, ["-O2", "-static", "-s", "-Wall", "-o", out, SOURCE]).catch((error: Error) => {
      throw new Error(
        `building the bench's keep-alive pod server with ${compiler} failed (install a C compiler and static libc: ` +
          `apt-get install gcc libc6-dev): ${error.message}`,
      );
    });
    await exec("mv", ["-f", out, binary]);
  }
  return readFileSync(binary);
}
