import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { appYamlTemplate } from "../../app-yaml.js";
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
  app: {
    type: "boolean",
    description: "also write app.yaml, the autoscaler's selection config (keeps an existing pod.yaml)",
  },
};

export const help = `Writes <dir>/pod.yaml (default: the current folder) from the commented template: one web
container serving HTTP on port 8080. Never overwrites an existing file.

With --app, also writes <dir>/app.yaml, the commented selection config of an autoscaled app (instances,
price cap, placement, funding, health check; docs/app-config.md), and keeps a pod.yaml that is already there.

examples:
  podnet init my-app
  podnet init my-app --app`;

/** Writes `text` to `file` unless it exists; false when it did (and `keep` allows that). */
function writeNew(file: string, text: string, keep = false): boolean {
  try {
    writeFileSync(file, text, { flag: "wx" });
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && keep) return false;
    if (code === "EEXIST") throw new CliError(`${file}: already exists; not overwriting it`);
    throw new CliError(`${file}: cannot write it (${code ?? (error as Error).message})`);
  }
}

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  if (args.positionals.length > 1) throw new UsageError(`init: takes one folder, got ${args.positionals.length}`);
  const dir = ctx.path(args.positionals[0] ?? ".");
  const file = join(dir, "pod.yaml");
  const schema = args.options.schema as string | undefined;
  const withApp = args.options.app === true;
  mkdirSync(dir, { recursive: true });
  const appFile = join(dir, "app.yaml");
  // app.yaml first: when it exists nothing is written, not even a pod.yaml.
  if (withApp) writeNew(appFile, appYamlTemplate());
  const wrotePod = writeNew(file, podSpecTemplate(schema ? { schemaUrl: schema } : {}), withApp);
  const shown = relative(ctx.cwd, file) || file;
  const appShown = relative(ctx.cwd, appFile) || appFile;
  const written = [...(wrotePod ? [file] : []), ...(withApp ? [appFile] : [])];
  ctx.out.result({ file: wrotePod ? file : undefined, files: written }, () =>
    [
      ...written.map((f) => `wrote ${relative(ctx.cwd, f) || f}`),
      ...(wrotePod ? [] : [`kept ${shown}`]),
      "",
      "next:",
      `  1. put your image in it:  podnet image add <image or docker-save.tar> --set ${shown} --container web`,
      "     (or a registry image pinned by digest: name@sha256:...)",
      `  2. see who can run it:    podnet providers --spec ${shown}`,
      ...(withApp
        ? [
            `  3. set price and funding in ${appShown}, then create the app:  podnet app create --dir ${relative(ctx.cwd, dir) || "."}`,
            "  4. fund it:               podnet app fund <vault> <amount>",
          ]
        : [
            `  3. check the price:       podnet quote ${shown}`,
            `  4. deploy it:             podnet deploy ${shown} --duration 1h`,
          ]),
    ].join("\n"),
  );
}
