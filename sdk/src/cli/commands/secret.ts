import { readFileSync } from "node:fs";
import { prepareSecret } from "../../actions/prepare-secret.js";
import { MAX_SECRET_FILE_BYTES } from "../../protocol/index.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { CliError } from "../errors.js";
import { readAllStdin, readHidden } from "../keys.js";

export const options: OptionSpec = {
  "value-file": { type: "string", value: "file", description: "read the secret from this file (default: stdin)" },
};

export const help = `Encrypts a secret (a password, a TLS key, a config file) into the blob cache and prints its
content id, for a secret volume's files[].blob. <name> is the file's path inside the volume. The value comes from
--value-file, or stdin: piped bytes as they are (a trailing newline included), or typed without echo on a terminal.
Providers decrypt secrets into memory only and mount them read-only; the value is never printed.

examples:
  podnet secret add db-password --value-file ./db-password.txt
  printf %s "$TOKEN" | podnet secret add api-token`;

const SECRET_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  const [name, ...extra] = args.positionals;
  if (!name) throw new UsageError("secret add: give the secret's file name, e.g. db-password");
  if (extra.length > 0) throw new UsageError(`secret add: takes one name, got ${args.positionals.length}`);
  if (name.length > 128 || !SECRET_PATH.test(name) || name.split("/").some((p) => p === "." || p === "..")) {
    throw new UsageError(
      `<name>: "${name}" is not a secret file path (letters, digits, '.', '_', '-' and '/', up to 128, no . or .. parts)`,
    );
  }
  const file = args.options["value-file"] as string | undefined;
  let value: Uint8Array;
  if (file !== undefined) {
    try {
      value = readFileSync(ctx.path(file));
    } catch (error) {
      throw new CliError(
        `--value-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`,
      );
    }
  } else if (ctx.io.stdin.isTTY) {
    value = new TextEncoder().encode(await readHidden(`Value of ${name} (not shown): `, ctx.io));
  } else {
    value = await readAllStdin(ctx.io.stdin);
  }
  const from = file !== undefined ? "--value-file" : "stdin";
  if (value.length === 0) throw new CliError(`${from}: the secret is empty`);
  if (value.length > MAX_SECRET_FILE_BYTES) {
    throw new CliError(
      `${from}: the secret is ${value.length} bytes; a secret file holds at most ${MAX_SECRET_FILE_BYTES}`,
    );
  }
  const client = await ctx.blobClient();
  const { cid, size } = await prepareSecret(client, { value });
  value.fill(0);
  const volume =
    name
      .replace(/[^a-z0-9-]/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 32) || "secrets";
  ctx.out.result({ name, cid, blob: cid, size }, () =>
    [
      cid,
      "",
      "use it in pod.yaml:",
      "volumes:",
      "  - type: secret",
      `    name: ${volume}`,
      "    files:",
      `      - path: ${name}`,
      `        blob: ${cid}`,
      `and mount it in a container: mounts: [{volume: ${volume}, path: /run/secrets}]`,
    ].join("\n"),
  );
}
