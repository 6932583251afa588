import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { getAddress, type Hex, isAddress, isHex } from "viem";
import { z } from "zod";
import { configNames, readConfigSources } from "./config-sources.js";

/**
 * Autoscaler configuration, like the worker's: defaults < environment (PODNET_AUTOSCALER_*) < command-line flags
 * (`--vault 0x…`). Every value is validated once here; an error names the field and where it came from. The
 * controller key comes from `PODNET_AUTOSCALER_CONTROLLER_KEY` or a file (`--controller-key-file`) and is never
 * printed: {@link describeConfig} replaces it. The probe settings are not here: they are app.yaml's `health`.
 */

const port = z.coerce.number().int().min(0).max(65535);
const privateKey = z.string().refine((v) => isHex(v) && v.length === 66, "must be a 0x-prefixed 32-byte private key");

const schema = z.strictObject({
  rpcUrl: z.url({ protocol: /^(https?|wss?)$/ }).default("http://127.0.0.1:8545"),
  /** deployments/<chainId>.json (written by `npm run deploy:local` or a real deploy). */
  deploymentsFile: z.string().min(1),
  /** The indexer the candidates are searched in (`GET /search`). */
  indexerUrl: z.url({ protocol: /^https?$/ }),
  /** The controller's private key, hex. Prefer `controllerKeyFile` (an environment is easier to leak). */
  controllerKey: privateKey.optional(),
  /** A file holding the controller's private key (hex, one line); only its owner should read it. */
  controllerKeyFile: z.string().min(1).optional(),
  /** The app: its AppVault's address. */
  vault: z
    .string()
    .refine((v) => isAddress(v, { strict: false }), "must be a 0x-prefixed 20-byte address")
    .transform((v) => getAddress(v)),
  appYaml: z.string().min(1).default("app.yaml"),
  podYaml: z.string().min(1).default("pod.yaml"),
  /**
   * State (instances, probes) and the blob cache: the app's content keys, wrapped to the controller's own key only.
   */
  dataDir: z.string().default(join(homedir(), ".podnet-autoscaler")),
  /**
   * A read-only blob cache to start from (a secret volume in the sidecar: `index.json`, the content keys sealed to
   * the controller's own key by `podnet app share-keys`, and any ciphertext small enough to ship). Copied into
   * `<dataDir>/blobs` at start; a blob whose ciphertext is not there is fetched from the URLs its entry lists and kept
   * only when it hashes to its content id. Unset: the cache is used as it is.
   */
  blobSeedDir: z.string().min(1).optional(),
  /**
   * Where `*.localhost` host names (a devnet's `l<lease>.pods.localhost` routes) connect when probing; in a pod,
   * 127.0.0.1 is the pod itself. Default 127.0.0.1.
   */
  localhostAddress: z.ipv4().default("127.0.0.1"),
  statusHost: z.string().default("127.0.0.1"),
  /** The status endpoint (`GET /status`, `/metrics`); 0 picks a free port. */
  statusPort: port.default(7090),
  /** Seconds between reconcile passes (a probe failure or a chain event also triggers one). */
  reconcileIntervalSec: z.coerce.number().min(0.1).max(3600).default(5),
  /** A new instance may take this long to answer its first probe before it counts as failed (image download). */
  startupGraceSec: z.coerce.number().int().min(1).default(300),
  /** Seconds a provider an instance failed on is not picked again for this app. */
  avoidFailedProviderSec: z.coerce.number().int().min(0).default(600),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export type AutoscalerConfig = Omit<z.output<typeof schema>, "controllerKey" | "controllerKeyFile"> & {
  controllerKey: Hex;
};

const fields = Object.keys(schema.shape) as (keyof typeof schema.shape)[];
const names = configNames("AUTOSCALER");
const { envName, flagName } = names;

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface ConfigSources {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The raw settings from the environment and flags (flags win); unknown flags are errors, not silently ignored. */
function readSources(argv: string[], env: NodeJS.ProcessEnv) {
  return readConfigSources({
    fields,
    names,
    argv,
    env,
    fail: (message) => new ConfigError(message),
    // A key on the command line is visible to every user of the machine (ps): refuse it.
    refuseFlag: (field, flag) =>
      field === "controllerKey"
        ? `${flag}: not accepted on the command line; use --controller-key-file or ${envName(field)}`
        : undefined,
  });
}

/** Reads and validates the configuration from the environment and flags. */
export function loadConfig({
  argv = [],
  env = process.env,
  cwd = process.cwd(),
}: ConfigSources = {}): AutoscalerConfig {
  const { merged, origin } = readSources(argv, env);
  const result = schema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const top = String(issue.path[0] ?? "config");
      const from = origin[top] ?? `set ${envName(top)} or ${flagName(top)}`;
      // Never echo the value: for the key it would be the secret itself.
      return `${issue.path.map(String).join(".") || "config"}: ${issue.message} (${from})`;
    });
    throw new ConfigError(lines.join("\n"));
  }
  const { controllerKey: inline, controllerKeyFile, ...rest } = result.data;
  if (inline !== undefined && controllerKeyFile !== undefined) {
    throw new ConfigError(
      `controllerKey: give ${envName("controllerKey")} or controllerKeyFile (${origin.controllerKeyFile}), not both`,
    );
  }
  let controllerKey = inline;
  if (controllerKeyFile !== undefined) controllerKey = readKeyFile(resolve(cwd, controllerKeyFile));
  if (controllerKey === undefined) {
    throw new ConfigError(
      `controllerKey: required (set ${envName("controllerKeyFile")}, --controller-key-file or ${envName("controllerKey")})`,
    );
  }
  const path = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  return {
    ...rest,
    controllerKey: controllerKey as Hex,
    deploymentsFile: path(rest.deploymentsFile),
    appYaml: path(rest.appYaml),
    podYaml: path(rest.podYaml),
    dataDir: path(rest.dataDir),
    ...(rest.blobSeedDir === undefined ? {} : { blobSeedDir: path(rest.blobSeedDir) }),
  };
}

/**
 * The controller key alone, from the same sources as {@link loadConfig} (`--controller-key-file`,
 * PODNET_AUTOSCALER_CONTROLLER_KEY_FILE or PODNET_AUTOSCALER_CONTROLLER_KEY): `podnet-autoscaler key` needs no vault.
 */
export function loadControllerKey({ argv = [], env = process.env, cwd = process.cwd() }: ConfigSources = {}): Hex {
  // Flags only here (no environment): the variables are read below.
  const { merged: flags } = readSources(argv, {});
  const other = Object.keys(flags).filter((f) => f !== "controllerKeyFile");
  if (other.length > 0) throw new ConfigError(`${flagName(other[0] as string)}: not used by this command`);
  const file = (flags.controllerKeyFile as string | undefined) ?? (env[envName("controllerKeyFile")] || undefined);
  const inline = env[envName("controllerKey")] || undefined;
  if (file !== undefined && inline !== undefined) {
    throw new ConfigError(`controllerKey: give ${envName("controllerKey")} or a controllerKeyFile, not both`);
  }
  if (file !== undefined) return readKeyFile(resolve(cwd, file));
  if (inline === undefined) {
    throw new ConfigError(
      `controllerKey: required (set ${envName("controllerKeyFile")}, --controller-key-file or ${envName("controllerKey")})`,
    );
  }
  if (!privateKey.safeParse(inline).success) {
    throw new ConfigError(`controllerKey: must be a 0x-prefixed 32-byte private key (${envName("controllerKey")})`);
  }
  return inline as Hex;
}

function readKeyFile(file: string): Hex {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (error) {
    throw new ConfigError(`controllerKeyFile: ${file}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  if (!isHex(text) || text.length !== 66) {
    // Not the parser's message nor the text: the file holds (or was meant to hold) the key.
    throw new ConfigError(`controllerKeyFile: ${file}: must hold a 0x-prefixed 32-byte private key`);
  }
  return text;
}

/** The configuration as safe to print: the key is replaced by a marker. */
export function describeConfig(config: AutoscalerConfig): Record<string, unknown> {
  return { ...config, controllerKey: "(set, not shown)" };
}
