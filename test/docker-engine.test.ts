/**
 * The Docker Engine that script/toolchain/docker.sh starts runs in its own session: a Ctrl-C in the terminal goes to
 * the whole foreground process group (the demo, its workers, anvil, ...), and a dockerd in that group would shut down
 * (it handles SIGINT itself) while the demo is still removing its containers. Restarts the engine: only where this
 * script started it (its pid file), under the Docker lock like every Docker test.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { localDocker, repoRoot, waitFor } from "@podnet/devnet";
import { describe, expect, it } from "vitest";

const PIDFILE = "/tmp/podnet-dockerd.pid";
const docker = localDocker();

/** Session and process group of `pid`, from /proc/<pid>/stat (fields 5 and 6; the name may hold spaces). */
function sessionOf(pid: number): { pgid: number; sid: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const [, , pgid, sid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { pgid: Number(pgid), sid: Number(sid) };
}

describe.skipIf(!existsSync(PIDFILE))("script/toolchain/docker.sh", () => {
  it("starts dockerd in its own session, so a Ctrl-C to the caller's process group does not stop it", async () => {
    // A caller like `npm run demo` in a terminal: its own process group, which runs the script and stays in the
    // foreground afterwards.
    const caller = spawn("bash", ["-c", "bash script/toolchain/docker.sh restart && echo started && exec sleep 60"], {
      cwd: repoRoot,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    caller.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    caller.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const callerGroup = caller.pid as number;
    try {
      await waitFor("docker.sh restart", async () => (output.includes("started") ? true : undefined), {
        timeoutMs: 120_000,
        intervalMs: 200,
      });
      const dockerd = Number(readFileSync(PIDFILE, "utf8"));
      const { pgid, sid } = sessionOf(dockerd);
      expect(sid, "dockerd leads its own session").toBe(dockerd);
      expect(pgid).not.toBe(callerGroup);

      // The terminal's Ctrl-C: SIGINT to the caller's whole process group.
      process.kill(-callerGroup, "SIGINT");
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(existsSync(`/proc/${dockerd}`), `dockerd exited on the caller's SIGINT:\n${output}`).toBe(true);
      await expect(docker.ping()).resolves.toBeDefined();
    } finally {
      try {
        process.kill(-callerGroup, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }, 180_000);
});
