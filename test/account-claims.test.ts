/**
 * Provider account claims (devnet/src/account-claims.ts): test files run in parallel, and two processes running
 * workers of one provider account would remove each other's pods as leftovers. A second process is refused with the
 * holder named; a holder killed with -9 (no exit handler runs) leaves a stale claim that the next process takes over.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { claimProviderAccount, releaseProviderAccount, repoRoot } from "@podnet/devnet";
import { afterAll, describe, expect, it } from "vitest";

/** An account no test file starts a worker for. */
const INDEX = 120;
const claimFile = join(tmpdir(), "podnet-provider-claims", String(INDEX));

let holder: ChildProcess | undefined;
afterAll(() => {
  holder?.kill("SIGKILL");
  releaseProviderAccount(INDEX);
});

/** Another process that claims account INDEX and then idles: resolves once it holds the claim. */
async function otherProcessClaims(): Promise<ChildProcess> {
  const script = join(mkdtempSync(join(tmpdir(), "podnet-claims-")), "hold.ts");
  const module = join(repoRoot, "devnet", "src", "account-claims.ts");
  writeFileSync(
    script,
    `import { claimProviderAccount } from ${JSON.stringify(module)};\n` +
      `claimProviderAccount(${INDEX});\nconsole.log("claimed");\nsetInterval(() => {}, 1000);\n`,
  );
  // One process (node with tsx's loader, not the tsx CLI, which runs the script in a child): its pid is the holder.
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("claimed")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the holder exited ${code} before claiming`)));
  });
  return child;
}

describe("provider account claims", () => {
  it("refuse an account another live process holds, naming it; take over the claim of one killed with -9", async () => {
    holder = await otherProcessClaims();
    const pid = holder.pid as number;
    expect(() => claimProviderAccount(INDEX)).toThrow(
      new RegExp(`provider account ${INDEX} is in use by process ${pid} \\(.*hold\\.ts\\)`),
    );

    holder.kill("SIGKILL");
    await new Promise((resolve) => holder?.once("exit", resolve));
    // The killed holder's claim is still there: nothing ran at its exit.
    expect(existsSync(claimFile)).toBe(true);
    claimProviderAccount(INDEX);
    claimProviderAccount(INDEX); // again in the same process: a no-op, not a conflict with itself
    releaseProviderAccount(INDEX);
    expect(existsSync(claimFile)).toBe(false);
  });

  it("take over a stale claim whose pid now belongs to another process", async () => {
    // pids are reused: a claim left by a killed process, naming a pid a live stranger has since been given.
    const stranger = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      mkdirSync(dirname(claimFile), { recursive: true });
      writeFileSync(claimFile, `${stranger.pid}\n1\nsome killed run`);
      claimProviderAccount(INDEX);
      expect(readFileSync(claimFile, "utf8").split("\n")[0]).toBe(String(process.pid));
    } finally {
      stranger.kill("SIGKILL");
      releaseProviderAccount(INDEX);
    }
  });
});
