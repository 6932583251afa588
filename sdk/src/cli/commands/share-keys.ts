/**
 * `podnet app share-keys`: hands the app's content keys (its images and secret files, as pod.yaml names them) to an
 * autoscaler's blob cache, sealed to the autoscaler's own key. See docs/autoscaler.md, "Content keys".
 */
import { join } from "node:path";
import { selfEncryptionKey } from "../../actions/internal/wallet.js";
import { InvalidParameterError } from "../../errors.js";
import { manifestBlobs } from "../../protocol/index.js";
import { shareBlobKeys } from "../../share-blob-keys.js";
import { UsageError } from "../args.js";
import type { CommandModule } from "../command-module.js";
import { CliError } from "../errors.js";
import { fields } from "../output.js";
import { readPodFile } from "../pod-file.js";
import { stringOption } from "./shared.js";

export const appShareKeys: CommandModule = {
  options: {
    recipient: {
      type: "string",
      value: "x25519-key",
      description: "the autoscaler's blob cache key (0x + 64 hex digits), as `podnet-autoscaler key` prints it",
    },
    out: { type: "string", value: "folder", description: "the autoscaler's blob cache: <its data dir>/blobs" },
    dir: { type: "string", value: "folder", description: "the folder with pod.yaml (default: .)" },
  },
  help: `Gives an autoscaler what it needs to deploy the app to new providers: every blob pod.yaml names (images
and secret files) is copied from your blob cache into --out, and its content key is sealed to --recipient only.
The recipient key is the autoscaler controller's own cache key, derived from a signature of the controller key,
so an address does not give it: run \`podnet-autoscaler key\` with the controller key and pass what it prints.
Keys are opened in memory and never written in the clear; anyone holding the controller key can open them.

example:
  podnet-autoscaler key --controller-key-file controller.key       # prints 0x…
  podnet app share-keys --dir my-app --recipient 0x… --out ./autoscaler-data/blobs`,
  async run(ctx, args) {
    if (args.positionals.length > 0) throw new UsageError("app share-keys: takes no positional argument");
    const recipient = stringOption(args, "recipient");
    if (recipient === undefined) {
      throw new UsageError("app share-keys: give --recipient (the key `podnet-autoscaler key` prints)");
    }
    const out = stringOption(args, "out");
    if (out === undefined) throw new UsageError("app share-keys: give --out (the autoscaler's <data dir>/blobs)");
    const dirShown = stringOption(args, "dir") ?? ".";
    const pod = readPodFile(join(ctx.path(dirShown), "pod.yaml"), join(dirShown, "pod.yaml"));
    const cids = manifestBlobs(pod.manifest);
    if (cids.length === 0)
      throw new CliError(`${join(dirShown, "pod.yaml")}: names no blob (no blob: image, no secret)`);
    const client = await ctx.blobClient();
    const self = await selfEncryptionKey(client, "app share-keys");
    let shared: Awaited<ReturnType<typeof shareBlobKeys>>;
    try {
      shared = await shareBlobKeys({ from: client.blobCache, self, to: ctx.path(out), recipient, cids });
    } catch (error) {
      // The SDK names the parameter; the user typed an option.
      if (error instanceof InvalidParameterError && error.parameter !== "cids") {
        throw new UsageError(
          `--${error.parameter === "to" ? "out" : error.parameter}: ${error.message.replace(/^\w+: /, "")}`,
        );
      }
      throw error;
    }
    ctx.out.result({ recipient, out, blobs: shared }, () =>
      [
        ...shared.map((b) => `${b.cid}  ${b.kind}  ${b.size} bytes`),
        "",
        fields([
          ["shared", `${shared.length} blob(s)`],
          ["sealed to", recipient],
          ["into", out],
        ]),
      ].join("\n"),
    );
  },
};
