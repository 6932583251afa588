/**
 * A run killed before its cleanup leaves its Docker objects behind, and a Docker Engine restart even starts its
 * containers again (restart policy). The harness starts every provider by removing what an earlier run of the same
 * account left: here a container with the pod's labels and restart policy, a network and a volume.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildTestImage,
  Devnet,
  devAccount,
  localDocker,
  plantProviderLeftovers,
  providerObjects,
} from "@podnet/devnet";
import { afterAll, describe, expect, it } from "vitest";

const docker = localDocker();
/** This file's provider account (no other test file uses it). */
const INDEX = 43;
const address = devAccount(INDEX).account.address;

let devnet: Devnet | undefined;
afterAll(() => devnet?.stop());

describe("leftovers of a killed run", () => {
  it("are removed when the harness starts the same provider again, before its worker starts", async () => {
    await buildTestImage(docker, "podnet-test/web:leftover", { page: "left over" });
    const planted = await plantProviderLeftovers(docker, address, "podnet-test/web:leftover");
    expect((await providerObjects(docker, address)).containers.map((c) => c.Id)).toContain(planted.container);

    devnet = await Devnet.start({ dir: mkdtempSync(join(tmpdir(), "podnet-leftovers-")) });
    const provider = await devnet.startProvider({ index: INDEX });
    expect(provider.leftoversRemoved).toBe("1 container, 1 network, 1 volume");
    const gone = (inspect: Promise<unknown>) =>
      inspect.then(
        () => false,
        (error: { statusCode?: number }) => error.statusCode === 404,
      );
    expect(await gone(docker.getContainer(planted.container).inspect())).toBe(true);
    expect(await gone(docker.getNetwork(planted.network).inspect())).toBe(true);
    expect(await gone(docker.getVolume(planted.volume).inspect())).toBe(true);
    expect((await fetch(`${provider.worker.apiUrl}/health`)).status).toBe(200);
  }, 180_000);
});
