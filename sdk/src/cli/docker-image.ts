/**
 * The local Docker, through its CLI, for the commands that take an image by name (`podnet image add my-web:1`,
 * `podnet up`): the image streamed out of `docker save`, pulled first when it is not there.
 */
import { spawn } from "node:child_process";
import { CliError } from "./errors.js";

/** `docker save <image>` as a stream; fails (and so fails the encryption) when docker does. */
export async function* dockerSave(image: string): AsyncGenerator<Uint8Array> {
  const child = spawn("docker", ["save", image], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    if (stderr.length < 4096) stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  exited.catch(() => undefined);
  let drained = false;
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    drained = true;
  } finally {
    // The reader stopped early (encryption failed): do not leave docker running.
    if (!drained && child.exitCode === null) child.kill();
  }
  let code: number | null;
  try {
    code = await exited;
  } catch (error) {
    const notFound = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new CliError(
      notFound
        ? `${image}: not a file, and the docker CLI is not installed to save it (docker save ${image} -o image.tar)`
        : `docker save ${image}: ${(error as Error).message}`,
    );
  }
  if (code !== 0) {
    throw new CliError(`${image}: not a file, and docker save failed: ${stderr.trim() || `exit code ${code}`}`);
  }
}

/** Runs the docker CLI to the end: its exit code, stdout and the start of its stderr (ENOENT: docker not installed). */
function docker(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (stdout.length < 4096) stdout += chunk;
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout: stdout.trim(), stderr: stderr.trim() }));
  });
}

/** `docker image inspect`: the image's id (`sha256:...`), or undefined when the local Docker lacks it. */
async function localImageId(image: string): Promise<string | undefined> {
  let inspected: { code: number | null; stdout: string };
  try {
    inspected = await docker(["image", "inspect", "--format", "{{.Id}}", image]);
  } catch (error) {
    throw new CliError(
      (error as NodeJS.ErrnoException).code === "ENOENT"
        ? `${image}: the docker CLI is not installed, so the image cannot be read from the local Docker`
        : `docker image inspect ${image}: ${(error as Error).message}`,
    );
  }
  return inspected.code === 0 && /^sha256:[0-9a-f]{64}$/.test(inspected.stdout) ? inspected.stdout : undefined;
}

/**
 * Makes sure the local Docker has `image`, pulling it when it has not (as `docker compose up` does); `progress` hears
 * of the pull. Returns the image's id. Fails with the reason when docker is missing or the pull fails (offline, no such
 * image).
 */
export async function ensureLocalImage(image: string, progress: (line: string) => void): Promise<string> {
  const id = await localImageId(image);
  if (id) return id;
  progress(`${image}: not in the local Docker, docker pull ${image} ...`);
  const pulled = await docker(["pull", image]);
  if (pulled.code !== 0) {
    throw new CliError(
      `${image}: not in the local Docker, and docker pull failed: ${pulled.stderr || `exit code ${pulled.code}`}`,
    );
  }
  const after = await localImageId(image);
  if (!after) throw new CliError(`${image}: docker pull succeeded but the image is not in the local Docker`);
  return after;
}
