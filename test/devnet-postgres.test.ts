/**
 * The devnet indexers' scratch databases on the test run's PostgreSQL (devnet/src/postgres.ts): the teardown drops
 * those a dead process left, and never one a live process still uses. Needs PODNET_TEST_DATABASE_URL (npm test starts
 * the server); skipped without it.
 */
import { spawnSync } from "node:child_process";
import { createScratchDatabase, DEVNET_DATABASE_PREFIX, dropOrphanDevnetDatabases } from "@podnet/devnet/postgres";
import { describe, expect, it } from "vitest";

const server = process.env.PODNET_TEST_DATABASE_URL;

describe.skipIf(!server)("devnet scratch databases", () => {
  it("drops those of processes that are gone, and keeps those of live ones", async () => {
    const base = server as string;
    // A pid that was just in use and now is not: a child that has exited.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid as number;
    const stamp = Date.now().toString(36);
    const orphanName = `${DEVNET_DATABASE_PREFIX}${dead}_${stamp}_1`;
    const liveName = `${DEVNET_DATABASE_PREFIX}${process.pid}_${stamp}_1`;
    const orphan = await createScratchDatabase(base, orphanName);
    const live = await createScratchDatabase(base, liveName);
    try {
      const dropped = await dropOrphanDevnetDatabases(base);
      expect(dropped).toContain(orphanName);
      expect(dropped).not.toContain(liveName);
      // Gone, so it can be made again; the live one is still there, so it cannot.
      await (await createScratchDatabase(base, orphanName)).drop();
      await expect(createScratchDatabase(base, liveName)).rejects.toThrow(/already exists/);
    } finally {
      await live.drop();
      await orphan.drop();
    }
  });
});
