/**
 * The repository's command lines (the worker, the CLI, the autoscaler) pre-compiled for a test run. A bin in the
 * repository runs its TypeScript sources through tsx, whose loader hook resolves and transforms each of a few hundred
 * modules as the process starts: about 1.5 CPU seconds before the first line of work, paid by every worker, every
 * `register` and every CLI call of the tests (hundreds in a run of `npm test`). The same sources compiled into one
 * module per bin by esbuild (the compiler tsx itself uses) start in about a third of that.
 *
 * Only the compilation changes: each source keeps its own `import.meta.url` and `import.meta.dirname` (files found
 * beside a source, e.g. the console's pages and the deployments folder, are found where they are), and every npm
 * package is imported from node_modules exactly as the source would import it (the file Node would pick, resolved
 * from the source's own folder, so a workspace's own copy of a package stays its own).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { BUNDLED_BINS, repoRoot } from "./paths.js";

export { BUNDLED_BINS_ENV } from "./paths.js";

/** npm packages stay outside the bundle, imported by the absolute path Node resolves from the importing source. */
const packagesFromNodeModules: Plugin = {
  name: "packages-from-node-modules",
  setup(plugin) {
    plugin.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith("node:")) return { path: args.path, external: true };
      // The resolve call below, asking esbuild's own resolver: no opinion.
      if (args.pluginData === "resolving") return undefined;
      // The workspaces' own packages are sources like the rest: compiled in.
      if (args.path.startsWith("@podnet/")) return undefined;
      const resolved = await plugin.resolve(args.path, {
        resolveDir: args.resolveDir,
        kind: args.kind,
        pluginData: "resolving",
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      return { path: resolved.path, external: true };
    });
  },
};

/** Each TypeScript source keeps its own location: `import.meta.url` / `.dirname` become its own, as string literals. */
const sourcesKeepTheirLocation: Plugin = {
  name: "sources-keep-their-location",
  setup(plugin) {
    plugin.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = readFileSync(args.path, "utf8")
        .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path)))
        .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href));
      return { contents: source, loader: "ts", resolveDir: dirname(args.path) };
    });
  },
};

/** Compiles every bin of {@link BUNDLED_BINS} into `dir` (about half a second for all). */
export async function buildBundledBins(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await Promise.all(
    Object.entries(BUNDLED_BINS).map(([name, source]) =>
      build({
        entryPoints: [join(repoRoot, source)],
        outfile: join(dir, name),
        bundle: true,
        platform: "node",
        target: "node20",
        format: "esm",
        logLevel: "silent",
        plugins: [packagesFromNodeModules, sourcesKeepTheirLocation],
      }),
    ),
  );
}
