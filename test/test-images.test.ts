/**
 * The harness's busybox test images (devnet/src/images.ts): a tag built again with other content must not leave the
 * image it replaced behind, untagged. Test files build the same tags with other pages run after run, and the untagged
 * images piled up on a developer's engine (89 of them after six local runs of `npm test`). One a container still uses
 * stays: Docker refuses to remove it, and the build goes on.
 */
import { buildTestImage, localDocker } from "@podnet/devnet";
import { afterAll, describe, expect, it } from "vitest";

const docker = localDocker();
const TAG = `podnet-test/rebuilt:${process.pid}`;
/** Whether the engine still has image `id`, tagged or not. */
const exists = async (id: string) => (await docker.listImages({ all: true })).some((image) => image.Id === id);
const containers: string[] = [];
/** Every image this file built: removed at the end, the one a container kept included. */
const images: string[] = [];

afterAll(async () => {
  for (const id of containers) await docker.getContainer(id).remove({ force: true });
  for (const id of images) {
    await docker
      .getImage(id)
      .remove({ force: true })
      .catch(() => undefined);
  }
});

describe("a test image's tag built again with other content", () => {
  it("removes the image it replaced", async () => {
    const first = await buildTestImage(docker, TAG, { page: "first" });
    const second = await buildTestImage(docker, TAG, { page: "second" });
    images.push(first, second);
    expect(second).not.toBe(first);
    expect(await exists(second)).toBe(true);
    expect(await exists(first)).toBe(false);
  });

  it("keeps the replaced image while a container uses it, and still builds the new one", async () => {
    const used = await buildTestImage(docker, TAG, { page: "in use" });
    images.push(used);
    const container = await docker.createContainer({ Image: used, Cmd: ["true"] });
    containers.push(container.id);
    const next = await buildTestImage(docker, TAG, { page: "next" });
    images.push(next);
    expect((await docker.getImage(TAG).inspect()).Id).toBe(next);
    expect(await exists(used)).toBe(true);
  });
});
