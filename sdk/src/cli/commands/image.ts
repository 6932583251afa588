import { readFileSync } from "node:fs";
import { parsePodSpec } from "../../pod-spec.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { encryptImage } from "../encrypt-image.js";
import { CliError, describeError } from "../errors.js";
import { setContainerImage, writeFileAtomic } from "../pod-file.js";

export const options: OptionSpec = {
  set: { type: "string", value: "pod.yaml", description: "write the blob: ref into this pod.yaml's container image" },
  container: { type: "string", value: "name", description: "the container of --set (default: the only one)" },
};

export const help = `Encrypts a container image once, with a fresh random key, into the blob cache and prints its
reference (blob:<content id>). The argument is a \`docker save\` tarball, or an image name that the local Docker
saves for you (the docker CLI must be installed). Deploying uploads the ciphertext to the provider and gives it the
key wrapped to its registered encryption key; nobody else can read the image.

examples:
  podnet image add web.tar
  podnet image add my-web:1.2 --set pod.yaml --container web`;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  const [source, ...extra] = args.positionals;
  if (!source) throw new UsageError("image add: give a docker-save tarball or an image name");
  if (extra.length > 0) throw new UsageError(`image add: takes one image, got ${args.positionals.length}`);
  const setFile = args.options.set as string | undefined;
  const container = args.options.container as string | undefined;
  if (container !== undefined && setFile === undefined) throw new UsageError("--container: only with --set pod.yaml");
  // Check the pod.yaml before the (possibly long) encryption.
  let podText: string | undefined;
  if (setFile !== undefined) {
    try {
      podText = readFileSync(ctx.path(setFile), "utf8");
    } catch (error) {
      throw new CliError(`--set: cannot read ${setFile} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
    }
    setContainerImage(podText, setFile, container, "blob:check");
  }

  const { cid, image, size } = await encryptImage(ctx, source);

  let set: { file: string; container: string } | undefined;
  if (setFile !== undefined && podText !== undefined) {
    const updated = setContainerImage(podText, setFile, container, image);
    writeFileAtomic(ctx.path(setFile), updated.text);
    set = { file: setFile, container: updated.container };
    ctx.out.progress(`${setFile}: image of container ${updated.container} set`);
    try {
      parsePodSpec(updated.text, setFile);
    } catch (error) {
      ctx.out.progress(`warning: ${setFile} does not validate yet:\n${describeError(error)}`);
    }
  }
  ctx.out.result({ image, cid, size, source, ...(set ? { set } : {}) }, () => image);
}
