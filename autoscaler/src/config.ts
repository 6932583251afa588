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

/** The settings every daemon of this package that keeps apps alive shares (the autoscaler and the network node). */
const shared = {
  rpcUrl: z.url({ protocol: /^(https?|wss?)$/ }).default("http://127.0.0.1:8545"),
  /**
   * deployments/<chainId>.json (written by `npm run deploy:local` or a real deploy). Unset: the deployment
   * `@podnet/sdk` knows for the RPC's chain (`knownDeploymentFile`), as for the worker and the CLI.
   */
  deploymentsFile: z.string().min(1).optional(),
  /** The indexer the candidates are searched in (`GET /search`). */
  indexerUrl: z.url({ protocol: /^https?$/ }),
  /**
   * Where `*.localhost` host names (a devnet's `l<lease>.pods.localhost` routes) connect when probing; in a pod,
   * 127.0.0.1 is the pod itself. Default 127.0.0.1.
   */
  localhostAddress: z.ipv4().default("127.0.0.1"),
  /** Seconds between reconcile passes (a probe failure or a chain event also triggers one). */
  reconcileIntervalSec: z.coerce.number().min(0.1).max(3600).default(5),
  /** A new instance may take this long to answer its first probe before it counts as failed (image download). */
  startupGraceSec: z.coerce.number().int().min(1).default(300),
  /** Seconds a provider an instance failed on is not picked again for this app. */
  avoidFailedProviderSec: z.coerce.number().int().min(0).default(600),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
};

const schema = z.strictObject({
  ...shared,
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
  statusHost: z.string().default("127.0.0.1"),
  /** The status endpoint (`GET /status`, `/metrics`); 0 picks a free port. */
  statusPort: port.default(7090),
});

/**
 * The network node's settings (`podnet-autoscaler node run`): no vault and no app files (the apps come from the chain
 * and their bundles from `<dataDir>/apps/<vault>/`), the node's key instead of a controller's, and its HTTP API.
 */
const nodeSchema = z.strictObject({
  ...shared,
  /** The node's private key, hex (its registered address). Prefer `nodeKeyFile`. */
  nodeKey: privateKey.optional(),
  /** A file holding the node's private key (hex, one line); only its owner should read it. */
  nodeKeyFile: z.string().min(1).optional(),
  /** Per app `<dataDir>/apps/<vault>/`: its bundle (pod.yaml, app.yaml, blobs/, bundle.json) and state.json. */
  dataDir: z.string().default(join(homedir(), ".podnet-autoscaler-node")),
  apiHost: z.string().default("127.0.0.1"),
  /** The node's HTTP API (`GET /v1/node`, `/v1/apps/:vault/status`, `/metrics`); 0 picks a free port. */
  apiPort: port.default(7100),
  /**
   * A podnet-dns configuration file (docs/dns.md): with it the node serves the network's app zone, its `apps` and
   * `nameservers` replaced by the network's (every live node with a DNS address, every network-mode app at its
   * vault's label); the file's nameservers answer until a live node publishes a DNS address.
   */
  dnsConfig: z.string().min(1).optional(),
});

export type AutoscalerConfig = Omit<z.output<typeof schema>, "controllerKey" | "controllerKeyFile"> & {
  controllerKey: Hex;
};

export type NodeConfig = Omit<z.output<typeof nodeSchema>, "nodeKey" | "nodeKeyFile"> & { nodeKey: Hex };

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

type KeyField = "controllerKey" | "nodeKey";

/** The raw settings from the environment and flags (flags win); unknown flags are errors, not silently ignored. */
function readSources(fields: readonly string[], keyField: KeyField, argv: string[], env: NodeJS.ProcessEnv) {
  return readConfigSources({
    fields,
    names,
    argv,
    env,
    fail: (message) => new ConfigError(message),
    // A key on the command line is visible to every user of the machine (ps): refuse it.
    refuseFlag: (field, flag) =>
      field === keyField
        ? `${flag}: not accepted on the command line; use ${flagName(`${keyField}File`)} or ${envName(field)}`
        : undefined,
  });
}

/**
 * Validates the settings against `shape` and reads the key (inline from the environment, or from `<keyField>File`);
 * every error names the field and where its value came from, never the value.
 */
function parseWithKey<shape extends z.ZodRawShape>(
  shape: z.ZodObject<shape>,
  keyField: KeyField,
  { argv = [], env = process.env, cwd = process.cwd() }: ConfigSources,
): { data: Record<string, unknown>; key: Hex } {
  const fields = Object.keys(shape.shape);
  const { merged, origin } = readSources(fields, keyField, argv, env);
  const result = shape.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const top = String(issue.path[0] ?? "config");
      const from = origin[top] ?? `set ${envName(top)} or ${flagName(top)}`;
      // Never echo the value: for the key it would be the secret itself.
      return `${issue.path.map(String).join(".") || "config"}: ${issue.message} (${from})`;
    });
    throw new ConfigError(lines.join("\n"));
  }
  const keyFileField = `${keyField}File`;
  const { [keyField]: inline, [keyFileField]: keyFile, ...data } = result.data as Record<string, unknown>;
  if (inline !== undefined && keyFile !== undefined) {
    throw new ConfigError(
      `${keyField}: give ${envName(keyField)} or ${keyFileField} (${origin[keyFileField]}), not both`,
    );
  }
  let key = inline as Hex | undefined;
  if (keyFile !== undefined) key = readKeyFile(keyFileField, resolve(cwd, keyFile as string));
  if (key === undefined) throw new ConfigError(missingKey(keyField));
  return { data, key };
}

const missingKey = (keyField: KeyField) =>
  `${keyField}: required (set ${envName(`${keyField}File`)}, ${flagName(`${keyField}File`)} or ${envName(keyField)})`;

const absolute = (cwd: string) => (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));

/** Reads and validates the autoscaler's configuration from the environment and flags. */
export function loadConfig(sources: ConfigSources = {}): AutoscalerConfig {
  const { data, key } = parseWithKey(schema, "controllerKey", sources);
  const rest = data as Omit<z.output<typeof schema>, "controllerKey" | "controllerKeyFile">;
  const path = absolute(sources.cwd ?? process.cwd());
  return {
    ...rest,
    controllerKey: key,
    ...(rest.deploymentsFile === undefined ? {} : { deploymentsFile: path(rest.deploymentsFile) }),
    appYaml: path(rest.appYaml),
    podYaml: path(rest.podYaml),
    dataDir: path(rest.dataDir),
    ...(rest.blobSeedDir === undefined ? {} : { blobSeedDir: path(rest.blobSeedDir) }),
  };
}

/** Reads and validates the network node's configuration (`podnet-autoscaler node run`). */
export function loadNodeConfig(sources: ConfigSources = {}): NodeConfig {
  const { data, key } = parseWithKey(nodeSchema, "nodeKey", sources);
  const rest = data as Omit<z.output<typeof nodeSchema>, "nodeKey" | "nodeKeyFile">;
  const path = absolute(sources.cwd ?? process.cwd());
  return {
    ...rest,
    nodeKey: key,
    ...(rest.deploymentsFile === undefined ? {} : { deploymentsFile: path(rest.deploymentsFile) }),
    dataDir: path(rest.dataDir),
    ...(rest.dnsConfig === undefined ? {} : { dnsConfig: path(rest.dnsConfig) }),
  };
}

/**
 * A key alone, from the same sources as the full configuration (`--<key>-file`, PODNET_AUTOSCALER_<KEY>_FILE or
 * PODNET_AUTOSCALER_<KEY>), plus the flags `allowed` (returned raw): `podnet-autoscaler key` needs no vault, `node
 * register` takes its own flags.
 */
export function loadKey(
  keyField: KeyField,
  { argv = [], env = process.env, cwd = process.cwd() }: ConfigSources = {},
  allowed: readonly string[] = [],
): { key: Hex; flags: Record<string, string> } {
  const keyFileField = `${keyField}File`;
  // Flags only here (no environment): the variables are read below. Every flag the daemon knows is read, so one this
  // command does not use is named as such ("--vault: not used by this command"), not as an unknown flag.
  const known = Object.keys((keyField === "controllerKey" ? schema : nodeSchema).shape);
  const { merged: flags } = readSources([...new Set([...known, keyFileField, ...allowed])], keyField, argv, {});
  const { [keyFileField]: fileFlag, ...other } = flags as Record<string, string>;
  const unused = Object.keys(other).find((field) => !allowed.includes(field));
  if (unused !== undefined) throw new ConfigError(`${flagName(unused)}: not used by this command`);
  const file = fileFlag ?? (env[envName(keyFileField)] || undefined);
  const inline = env[envName(keyField)] || undefined;
  if (file !== undefined && inline !== undefined) {
    throw new ConfigError(`${keyField}: give ${envName(keyField)} or a ${keyFileField}, not both`);
  }
  if (file !== undefined) return { key: readKeyFile(keyFileField, resolve(cwd, file)), flags: other };
  if (inline === undefined) throw new ConfigError(missingKey(keyField));
  if (!privateKey.safeParse(inline).success) {
    throw new ConfigError(`${keyField}: must be a 0x-prefixed 32-byte private key (${envName(keyField)})`);
  }
  return { key: inline as Hex, flags: other };
}

/**
 * The controller key alone, from the same sources as {@link loadConfig} (`--controller-key-file`,
 * PODNET_AUTOSCALER_CONTROLLER_KEY_FILE or PODNET_AUTOSCALER_CONTROLLER_KEY): `podnet-autoscaler key` needs no vault.
 */
export function loadControllerKey(sources: ConfigSources = {}): Hex {
  return loadKey("controllerKey", sources).key;
}

function readKeyFile(field: string, file: string): Hex {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (error) {
    throw new ConfigError(`${field}: ${file}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`);
  }
  if (!isHex(text) || text.length !== 66) {
    // Not the parser's message nor the text: the file holds (or was meant to hold) the key.
    throw new ConfigError(`${field}: ${file}: must hold a 0x-prefixed 32-byte private key`);
  }
  return text;
}

/** The configuration as safe to print: the key is replaced by a marker. */
export function describeConfig(config: AutoscalerConfig | NodeConfig): Record<string, unknown> {
  return "nodeKey" in config
    ? { ...config, nodeKey: "(set, not shown)" }
    : { ...config, controllerKey: "(set, not shown)" };
}
