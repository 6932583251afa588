/**
 * The main job, as a newcomer runs it: `npm run demo` (here with --once: it checks its own pod with curl, then stops)
 * must end with a URL serving the demo page and leave no container, network or volume behind, even when an earlier
 * demo was killed and left its own.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import {
  buildTestImage,
  DEVNET_POSTGRES_ENV,
  devAccount,
  localDocker,
  plantProviderLeftovers,
  providerObjects,
  repoRoot,
} from "@podnet/devnet";
import type { Address } from "viem";
import { describe, expect, it } from "vitest";

const docker = localDocker();
/** The demo's providers are anvil dev accounts 1 and 2 (no other test file runs pods as them). */
const demoProviders = [1, 2].map((i) => devAccount(i).account.address);

/** How many containers, networks and volumes the demo's providers have. */
async function demoObjects() {
  let count = 0;
  for (const address of demoProviders) {
    const { containers, networks, volumes } = await providerObjects(docker, address);
    count += containers.length + networks.length + volumes.length;
  }
  return count;
}

describe("npm run demo", () => {
  it("deploys a pod through the reverse market, prints a URL that serves the page, and cleans up", async () => {
    // What a demo killed before its cleanup leaves (a Docker Engine restart even starts the container again): the
    // demo removes it first instead of failing on it.
    await buildTestImage(docker, "podnet-test/web:leftover", { page: "left over" });
    const planted = await plantProviderLeftovers(docker, demoProviders[0] as Address, "podnet-test/web:leftover");
    // The demo as a user runs it: its indexer on embedded PGlite, not on the test run's PostgreSQL.
    const { [DEVNET_POSTGRES_ENV]: _postgres, ...userEnv } = process.env;
    const { stdout, stderr } = await promisify(execFile)("bash", ["script/dev/demo.sh", "--once"], {
      cwd: repoRoot,
      env: userEnv,
      encoding: "utf8",
      timeout: 240_000,
    });
    expect(stderr).toContain("provider A: removed 1 container, 1 network, 1 volume left by an earlier demo");
    await expect(docker.getContainer(planted.container).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect(stdout).toMatch(/pod URL +http:\/\/l\d+\.pods\.localhost:\d+\//);
    expect(stdout).toContain("/graphql");
    expect(await demoObjects()).toBe(0);
  }, 300_000);
});
