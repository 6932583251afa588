/**
 * The harness's free ports (devnet/src/net.ts): test files start daemons four at a time, each on ports picked at
 * random from 20000-29999 and bound a few seconds later (a provider's API and ingress are picked before it registers).
 * A port another caller picked meanwhile must not be handed out again: a CI run lost test/app-dns.test.ts to a worker
 * that found its API port taken (EADDRINUSE).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, repoRoot } from "@podnet/devnet";
import { describe, expect, it } from "vitest";

describe("freePort", () => {
  it("never hands out a port twice while it is claimed, however many callers pick at once", async () => {
    // One after the other, as a file's setup picks them: each port is free again when the next pick comes. 400 picks
    // of 10,000 ports: without claims, two would draw the same port in all but about 1 run in 3,000.
    const ports: number[] = [];
    for (let i = 0; i < 400; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });

  it("does not hand out the ports another process picked", async () => {
    const script = join(mkdtempSync(join(tmpdir(), "podnet-free-port-")), "pick.mts");
    const module = join(repoRoot, "devnet", "src", "net.ts");
    writeFileSync(
      script,
      `import { freePort } from ${JSON.stringify(module)};\nconst ports = [];\n` +
        "for (let i = 0; i < 300; i++) ports.push(await freePort());\nconsole.log(JSON.stringify(ports));\n",
    );
    const child = spawnSync(join(repoRoot, "node_modules", ".bin", "tsx"), [script], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    expect(child.status, child.stderr).toBe(0);
    const theirs = new Set(JSON.parse(child.stdout) as number[]);
    const ours: number[] = [];
    for (let i = 0; i < 300; i++) ours.push(await freePort());
    expect(ours.filter((port) => theirs.has(port))).toEqual([]);
  });
});
