/**
 * patches/dockerode+5.0.1.patch and docker-modem+5.0.7.patch: dockerode's BuildKit session (gRPC, protobufjs) and
 * docker-modem's ssh transport (ssh2) are required when first used, not when the worker loads dockerode. Each check
 * runs in a Node process of its own, so that what it finds loaded is what loading dockerode loaded.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, repoRoot } from "@podnet/devnet";
import { describe, expect, it } from "vitest";

/** dockerode as the worker resolves it. */
const dockerode = createRequire(join(repoRoot, "worker", "package.json")).resolve("dockerode");
const RARE = /[/\\]node_modules[/\\](@grpc|protobufjs|ssh2)[/\\]/;

async function inNode(script: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], { encoding: "utf8" });
  return stdout.trim();
}

describe("dockerode as patched", () => {
  it("is applied where the worker loads it from (npm install runs patch-package)", () => {
    const modem = createRequire(dockerode).resolve("docker-modem");
    for (const file of [join(dockerode, "..", "docker.js"), join(modem, "..", "modem.js")]) {
      expect(readFileSync(file, "utf8"), `${file} is not patched: run npm install`).toContain("podnet patch");
    }
  });

  it("loads no gRPC, protobufjs or ssh2 module when the worker loads it", async () => {
    const loaded = await inNode(`
      require(${JSON.stringify(dockerode)});
      const rare = Object.keys(require.cache).filter((f) => ${RARE}.test(f));
      console.log(JSON.stringify({ rare: rare.length, all: Object.keys(require.cache).length }));
    `);
    const { rare, all } = JSON.parse(loaded);
    expect(rare).toBe(0);
    expect(all).toBeGreaterThan(10); // dockerode itself was loaded
  });

  it("still loads ssh2 and connects when an engine is reached over ssh", async () => {
    // An ssh engine on a port where nothing listens: the connection is refused by ssh2's client, loaded on demand.
    const port = await freePort();
    const outcome = await inNode(`
      const Docker = require(${JSON.stringify(dockerode)});
      const docker = new Docker({ protocol: "ssh", host: "127.0.0.1", port: ${port}, username: "nobody" });
      docker.ping().then(
        () => console.log(JSON.stringify({ error: null })),
        (error) => console.log(JSON.stringify({
          error: String(error && (error.code || error.message)),
          ssh2: Object.keys(require.cache).some((f) => /[/\\\\]node_modules[/\\\\]ssh2[/\\\\]/.test(f)),
        })),
      );
    `);
    expect(JSON.parse(outcome)).toEqual({ error: "ECONNREFUSED", ssh2: true });
  });
});
