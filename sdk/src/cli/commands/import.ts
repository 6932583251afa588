import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { Document, isScalar } from "yaml";
import { InvalidParameterError } from "../../errors.js";
import { importCompose } from "../../import/compose.js";
import { AKASH_BLOCK_SECONDS, importSdl, type SdlImportResult, type SdlPriceRate } from "../../import/sdl.js";
import { ImportError, type ImportIssue, type ImportOptions, placeholderKeys } from "../../import/shared.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { CommandModule } from "../command-module.js";
import type { Context } from "../config.js";
import { CliError } from "../errors.js";

const sdlOptions: OptionSpec = {
  rate: {
    type: "string",
    value: "base units",
    description: "token base units one unit of the SDL's price denom is worth: converts its price cap",
  },
  "block-time": {
    type: "string",
    value: "seconds",
    description: `with --rate: seconds per Akash block (default ${AKASH_BLOCK_SECONDS})`,
  },
};

const options: OptionSpec = {
  out: {
    type: "string",
    value: "dir",
    description: "where to write pod.yaml (and app.yaml); default: the file's folder",
  },
  force: { type: "boolean", description: "overwrite an existing pod.yaml or app.yaml" },
};

const common = `Writes pod.yaml, and app.yaml when the source asks for more than one instance, into --out (default: the
source's folder). Never overwrites either file without --force. Every key that cannot be carried over is a
warning (dropped, with the reason) or an error (refused), printed as file:line:column; with an error nothing is
written and the exit code is 2. Images not pinned by digest and secrets get placeholders (commented in pod.yaml):
fill them with podnet image add ... --set and podnet secret add. The mapping is in docs/import.md.`;

const issueLine = (i: ImportIssue) => `${i.file}:${i.line}:${i.column} ${i.path}: ${i.message}`;

/** pod.yaml's text: a header naming the source, and a comment on each placeholder saying how to fill it. */
function podYamlText(result: SdlImportResult, source: string): string {
  const doc = new Document(result.podYaml);
  doc.commentBefore = ` Imported from ${source} by podnet import. Reference: docs/pod-spec.md`;
  for (const p of result.placeholders) {
    const node = doc.getIn(placeholderKeys(p.path), true);
    const comment = ` placeholder for ${p.source} (${source}:${p.line}): ${p.fix}`;
    if (isScalar(node)) node.comment = comment;
  }
  return doc.toString({ lineWidth: 0 });
}

function command(kind: "compose" | "sdl"): CommandModule {
  return {
    options: kind === "sdl" ? { ...options, ...sdlOptions } : options,
    help: `${common}

examples:
  ${kind === "compose" ? "podnet import compose docker-compose.yml --out deploy" : "podnet import sdl deploy.yaml --out podnet"}`,
    async run(ctx: Context, args: ParsedArgs): Promise<void> {
      if (args.positionals.length !== 1)
        throw new UsageError(`import ${kind}: takes one file, got ${args.positionals.length}`);
      const shown = args.positionals[0] as string;
      const path = ctx.path(shown);
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new CliError(`${shown}: cannot read it (${code === "ENOENT" ? "no such file" : (code ?? "unreadable")})`);
      }
      const importOptions: ImportOptions = { file: shown, readFile: (p) => readFileSync(ctx.path(p), "utf8") };
      const rate = kind === "sdl" ? priceRate(args) : undefined;
      let result: SdlImportResult;
      try {
        result =
          kind === "compose"
            ? importCompose(text, importOptions)
            : importSdl(text, { ...importOptions, ...(rate ? { priceRate: rate } : {}) });
      } catch (error) {
        if (error instanceof InvalidParameterError) {
          const flag = error.parameter === "blockSeconds" ? "--block-time" : "--rate";
          throw new UsageError(`${flag}: ${error.message.slice(error.parameter.length + 2)}`);
        }
        if (!(error instanceof ImportError)) throw error;
        for (const w of error.warnings) ctx.out.progress(`warning: ${issueLine(w)}`);
        throw new CliError(`${shown}: cannot be imported:\n${error.message}`, 2);
      }
      for (const w of result.warnings) ctx.out.progress(`warning: ${issueLine(w)}`);
      const { maxPricePerSecond } = result;
      if (rate && !result.priceCap)
        throw new UsageError("--rate: the SDL has no price to convert (no placement pricing)");

      const dir = args.options.out === undefined ? dirname(path) : ctx.path(args.options.out as string);
      const podFile = join(dir, "pod.yaml");
      const appFile = join(dir, "app.yaml");
      const files = [podFile, ...(result.appYaml ? [appFile] : [])];
      const force = args.options.force === true;
      // Both checked before either is written: a refusal writes nothing.
      for (const f of files) {
        if (!force && existsSync(f))
          throw new CliError(`${relative(ctx.cwd, f) || f}: already exists; not overwriting it (--force does)`);
      }
      // The SDK names the file pod.yaml; the commands must name it where it is written.
      const podShown = relative(ctx.cwd, podFile) || podFile;
      for (const p of result.placeholders) p.fix = p.fix.replace("--set pod.yaml", `--set ${podShown}`);
      mkdirSync(dir, { recursive: true });
      const flag = force ? "w" : "wx";
      writeFileSync(podFile, podYamlText(result, shown), { flag });
      if (result.appYaml) {
        const app = new Document(result.appYaml);
        app.commentBefore = ` Imported from ${shown} by podnet import: price, funding and health are defaults. Reference: docs/app-config.md`;
        writeFileSync(appFile, app.toString({ lineWidth: 0 }), { flag });
      }
      const written = files.map((f) => relative(ctx.cwd, f) || f);
      ctx.out.result(
        {
          files: written,
          warnings: result.warnings,
          placeholders: result.placeholders,
          priceCap: result.priceCap,
          ...(maxPricePerSecond !== undefined ? { maxPricePerSecond } : {}),
        },
        () =>
          [
            ...written.map((f) => `wrote ${f}`),
            ...(result.placeholders.length > 0 ? ["", "before deploying, fill the placeholders:"] : []),
            ...result.placeholders.map((p) => `  ${p.path}: ${p.fix}`),
            ...(result.priceCap
              ? [
                  "",
                  maxPricePerSecond === undefined
                    ? `price cap in the source: ${result.priceCap.amountPerBlock} ${result.priceCap.denom} per block (not converted: give --rate)`
                    : `price cap: ${maxPricePerSecond} base units/s (${result.priceCap.amountPerBlock} ${result.priceCap.denom} per block)${result.appYaml ? ", in app.yaml price.maxPerInstance" : "; podnet deploy --max-price takes it"}`,
                ]
              : []),
          ].join("\n"),
      );
    },
  };
}

export const compose = command("compose");
export const sdl = command("sdl");

/** --rate and --block-time as the SDL importer's price rate; undefined without --rate. */
function priceRate(args: ParsedArgs): SdlPriceRate | undefined {
  const rate = args.options.rate as string | undefined;
  const blockTime = args.options["block-time"] as string | undefined;
  if (rate === undefined) {
    if (blockTime !== undefined) throw new UsageError("--block-time: only with --rate");
    return undefined;
  }
  return { baseUnitsPerDenom: rate, ...(blockTime !== undefined ? { blockSeconds: blockTime } : {}) };
}
