/**
 * Bundles a Node entry file and everything it imports into one ES module with esbuild, so the image needs no
 * node_modules. Native addons (`.node` files) cannot live in a bundle; they are refused by name.
 */
import { dirname, resolve } from "node:path";
import { build, type Plugin } from "esbuild";

/** Node builtins that bundled CommonJS code reaches through `require`: an ES module has no `require` of its own. */
const REQUIRE_SHIM = [
  'import { createRequire as __podnetCreateRequire } from "node:module";',
  "const require = __podnetCreateRequire(import.meta.url);",
].join("\n");

/** Refuses native addons: a `.node` file is a shared library for one Node ABI and platform, not JavaScript. */
const refuseNativeAddons: Plugin = {
  name: "refuse-native-addons",
  setup(plugin) {
    plugin.onResolve({ filter: /\.node$/ }, (args) => ({
      errors: [
        {
          text: `native addon ${JSON.stringify(args.path)} (imported by ${args.importer}) cannot be bundled: use a pure-JavaScript package or build the image another way`,
        },
      ],
    }));
  },
};

/** The bundle and what went into it. */
export interface Bundle {
  /** The bundled ES module. */
  code: Uint8Array;
  /** The source files bundled, relative to the entry's folder, sorted. */
  inputs: string[];
}

/**
 * Bundles `entry` for Node 20 (ES module, every dependency inlined, not minified so stack traces stay readable).
 * esbuild's output depends only on the inputs and the working directory (its comments name each source by a path
 * relative to it), so the working directory is the entry's folder: the same sources give the same bytes wherever the
 * checkout is and whichever folder the build was started from.
 */
export async function bundleEntry(entry: string): Promise<Bundle> {
  const absoluteEntry = resolve(entry);
  const result = await build({
    absWorkingDir: dirname(absoluteEntry),
    entryPoints: [absoluteEntry],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    write: false,
    metafile: true,
    banner: { js: REQUIRE_SHIM },
    legalComments: "none",
    logLevel: "silent",
    plugins: [refuseNativeAddons],
  }).catch(
    (error: { errors?: { text: string; location?: { file: string; line: number } | null }[]; message: string }) => {
      const details = error.errors?.map((e) =>
        e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text,
      );
      throw new Error(`bundling ${entry} failed: ${details?.join("; ") ?? error.message}`);
    },
  );
  const [output] = result.outputFiles;
  if (!output) throw new Error(`bundling ${entry} produced no output`);
  return { code: output.contents, inputs: Object.keys(result.metafile.inputs).sort() };
}
