import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { podSpecTemplate } from "../../pod-spec.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context } from "../config.js";
import { CliError } from "../errors.js";

export const options: OptionSpec = {
  schema: {
    type: "string",
    value: "url|path",
    description: "add a yaml-language-server comment pointing editors at the pod.yaml JSON Schema",
  },
};

export const help = `Writes <dir>/pod.yaml (default: the current folder) from the commented template: one web
container serving HTTP on port 8080. Never overwrites an existing file.

example:
  podnet init my-app`;

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  if (args.positionals.length > 1) throw new UsageError(`init: takes one folder, got ${args.positionals.length}`);
  const dir = ctx.path(args.positionals[0] ?? ".");
  const file = join(dir, "pod.yaml");
  const schema = args.options.schema as string | undefined;
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(file, podSpecTemplate(schema ? { schemaUrl: schema } : {}), { flag: "wx" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new CliError(`${file}: already exists; not overwriting it`);
    throw new CliError(`${file}: cannot write it (${code ?? (error as Error).message})`);
  }
  const shown = relative(ctx.cwd, file) || file;
  ctx.out.result({ file }, () =>
    [
      `wrote ${shown}`,
      "",
      "next:",
      `  1. put your image in it:  podnet image add <image or docker-save.tar> --set ${shown} --container web`,
      "     (or a registry image pinned by digest: name@sha256:...)",
      `  2. see who can run it:    podnet providers --spec ${shown}`,
      `  3. check the price:       podnet quote ${shown}`,
      `  4. deploy it:             podnet deploy ${shown} --duration 1h`,
    ].join("\n"),
  );
}
