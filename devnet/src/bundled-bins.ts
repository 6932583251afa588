/**
 * The repository's command lines (the worker, the CLI, the autoscaler) pre-compiled for a test run. A bin in the
 * repository runs its TypeScript sources through tsx, whose loader hook resolves and transforms each of a few hundred
 * modules as the process starts: about 1.5 CPU seconds before the first line of work, paid by every worker, every
 * `register` and every CLI call of the tests (hundreds in a run of `npm test`). The same sources compiled into one
 * module per bin by esbuild (the compiler tsx itself uses) start in about a third of that.
 *
 * Only the compilation changes: each source keeps its own `import.meta.url` and `import.meta.dirname` (files found
 * beside a source, e.g. the console's pages and the deployments folder, are found where they are). The plain-JavaScript
 * ES module packages of {@link COMPILED_IN} are compiled in from the files Node would pick for the source; every other
 * npm package is imported from node_modules exactly as the source would import it (resolved from the source's own
 * folder, so a workspace's own copy of a package stays its own).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { BUNDLED_BINS, repoRoot } from "./paths.js";

export { BUNDLED_BINS_ENV } from "./paths.js";

/**
 * npm packages compiled into the bins: ES modules of plain JavaScript, with no native addon and no file they find
 * beside themselves at run time. Every other package (dockerode and its gRPC, pino and its worker threads, pg, ...)
 * stays outside.
 */
const COMPILED_IN = /^(viem|ox|abitype|zod|hono|@hono\/[^/]+|@noble\/[^/]+|@scure\/[^/]+|multiformats)(\/|$)/;

/** npm packages stay outside the bundle, imported by the absolute path Node resolves from the importing source. */
const packagesFromNodeModules: Plugin = {
  name: "packages-from-node-modules",
  setup(plugin) {
    plugin.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.path.startsWith("node:")) return { path: args.path, external: true };
      // The resolve call below, asking esbuild's own resolver: no opinion.
      if (args.pluginData === "resolving") return undefined;
      // The workspaces' own packages are sources like the rest: compiled in. So are the pure-JavaScript ES module
      // packages below: loaded from node_modules they are hundreds of files (viem alone 363, zod 95), each resolved,
      // read and compiled as the process starts.
      if (args.path.startsWith("@podnet/") || COMPILED_IN.test(args.path)) return undefined;
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

/**
 * The worker's shipped addons (worker/src/addons), compiled too: the worker starts the bidder beside every provider,
 * and through tsx (worker/bin/podnet-addon.mjs) each start cost half a CPU second.
 */
const SHIPPED_ADDONS = ["bidder", "alert-webhooks"];
/** The source that finds the addons and their launcher beside itself (`../addons/<name>`, `../../bin/...`). */
const ADDON_SUPERVISOR = join(repoRoot, "worker", "src", "admin", "addon-supervisor.ts");

/**
 * Each TypeScript source keeps its own location: `import.meta.url` / `.dirname` become its own, as string literals.
 * Except the addon supervisor, which is placed in `bins` as worker/src/admin/addon-supervisor.js: it then starts the
 * compiled addons (bins/worker/src/addons/<name>.js) with the plain launcher bins/worker/bin/podnet-addon.mjs, as the
 * published package lays them out.
 */
function sourcesKeepTheirLocation(bins: string): Plugin {
  return {
    name: "sources-keep-their-location",
    setup(plugin) {
      plugin.onLoad({ filter: /\.ts$/ }, (args) => {
        const location =
          args.path === ADDON_SUPERVISOR ? join(bins, "worker", "src", "admin", "addon-supervisor.js") : args.path;
        const source = readFileSync(args.path, "utf8")
          .replaceAll("import.meta.dirname", JSON.stringify(dirname(location)))
          .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(location).href));
        return { contents: source, loader: "ts", resolveDir: dirname(args.path) };
      });
    },
  };
}

/** Compiles every bin of {@link BUNDLED_BINS} and the shipped addons into `dir` (about a second for all). */
export async function buildBundledBins(dir: string): Promise<void> {
  mkdirSync(join(dir, "worker", "bin"), { recursive: true });
  writeFileSync(
    join(dir, "worker", "bin", "podnet-addon.mjs"),
    'import { pathToFileURL } from "node:url";\n\nawait import(pathToFileURL(process.argv[2]).href);\n',
  );
  const entries: [string, string][] = [
    ...Object.entries(BUNDLED_BINS).map(([name, source]): [string, string] => [name, source]),
    ...SHIPPED_ADDONS.map((name): [string, string] => [
      join("worker", "src", "addons", `${name}.js`),
      join("worker", "src", "addons", `${name}.ts`),
    ]),
  ];
  await Promise.all(
    entries.map(([name, source]) =>
      build({
        entryPoints: [join(repoRoot, source)],
        outfile: join(dir, name),
        bundle: true,
        platform: "node",
        target: "node20",
        format: "esm",
        logLevel: "silent",
        plugins: [packagesFromNodeModules, sourcesKeepTheirLocation(dir)],
      }),
    ),
  );
}
