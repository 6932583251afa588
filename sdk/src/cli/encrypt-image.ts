import { createReadStream, existsSync, statSync } from "node:fs";
import { type PrepareImageReturnType, prepareImage } from "../actions/prepare-image.js";
import { countedChunks } from "../counted-chunks.js";
import type { Context } from "./config.js";
import { dockerSave } from "./docker-image.js";
import { formatBytes } from "./progress.js";

/**
 * Encrypts an image into the blob cache with a progress bar (`podnet image add`, `podnet up`): `source` is a
 * `docker save` tarball, or an image name the local Docker saves (always a name with `fromDocker`, so a file that
 * happens to be called `redis:7` is not read instead).
 */
export async function encryptImage(
  ctx: Context,
  source: string,
  opts: { fromDocker?: boolean } = {},
): Promise<PrepareImageReturnType> {
  const path = ctx.path(source);
  const isFile = !opts.fromDocker && existsSync(path) && statSync(path).isFile();
  const client = await ctx.blobClient();
  const meter = ctx.out.meter(
    isFile ? `encrypting ${source}` : `docker save ${source} | encrypting`,
    isFile ? statSync(path).size : undefined,
  );
  let result: PrepareImageReturnType;
  try {
    const chunks = isFile ? createReadStream(path) : dockerSave(source);
    result = await prepareImage(client, { tarball: countedChunks(chunks, (bytes) => meter.update(bytes)) });
  } finally {
    meter.done();
  }
  ctx.out.progress(`image ${result.image} (${formatBytes(result.size)} encrypted, in ${ctx.settings.blobCache.value})`);
  return result;
}
