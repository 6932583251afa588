import { isMap, parseDocument } from "yaml";
import { type PodSpecIssue, parseYamlFile } from "./pod-spec.js";
import { type AppConfig, AppConfigError, MAX_APP_INSTANCES, parseAppConfig } from "./protocol/app-config.js";

/**
 * app.yaml: the app selection config an owner writes beside pod.yaml, read under pod.yaml's YAML rules (YAML 1.2,
 * no custom tags, string keys, plain decimal integers, 100 aliases at most, 256 KiB) into the schema of
 * `protocol/app-config.ts`, every error pointing at a line and column.
 */

/** Largest app.yaml read, in bytes (comments included). */
export const MAX_APP_YAML_BYTES = 256 * 1024;

export type AppYamlErrorType = AppYamlError & { name: "AppYamlError" };

/** An app.yaml failed to parse or validate: one line per issue, `app.yaml:3:3 instances.min: ...`. */
export class AppYamlError extends AppConfigError {
  override name = "AppYamlError";
  declare readonly issues: PodSpecIssue[];
  readonly fileName: string;
  constructor(fileName: string, issues: PodSpecIssue[]) {
    super(issues, issues.map((i) => `${fileName}:${i.line}:${i.column} ${i.path}: ${i.message}`).join("\n"));
    this.fileName = fileName;
  }
}

/**
 * Reads an app.yaml (or app.json) and validates it as an app config, writing out its defaults.
 *
 * @throws {AppYamlError} with every YAML error, or else every schema error, each with its path, line and column.
 * @example
 * const config = parseAppYaml(readFileSync("app.yaml", "utf8"));
 * const configHash = appConfigHash(config);
 */
export function parseAppYaml(text: string, fileName = "app.yaml"): AppConfig {
  return parseYamlFile(text, {
    root: "config",
    maxBytes: MAX_APP_YAML_BYTES,
    validate: parseAppConfig,
    issuesOf: (error) => (error instanceof AppConfigError ? error.issues : undefined),
    fail: (issues) => {
      throw new AppYamlError(fileName, issues);
    },
  });
}

/**
 * `text` with `instances.target` set to `target` (and `instances.min` lowered to it when it was higher), everything
 * else as the owner wrote it (comments kept). The result is validated: an invalid result throws {@link AppYamlError}.
 */
export function setAppYamlTarget(text: string, target: number, fileName = "app.yaml"): string {
  if (!Number.isSafeInteger(target) || target < 0 || target > MAX_APP_INSTANCES) {
    throw new AppConfigError([
      { path: "instances.target", message: `must be between 0 and ${MAX_APP_INSTANCES}, got ${target}` },
    ]);
  }
  const current = parseAppYaml(text, fileName); // line:column errors for a file that is already bad
  const doc = parseDocument(text, { version: "1.2", schema: "core", uniqueKeys: true });
  const instances = doc.get("instances", true);
  if (!isMap(instances))
    throw new AppYamlError(fileName, [{ path: "instances", message: "must be a map", line: 1, column: 1 }]);
  instances.set("target", target);
  if (current.instances.min > target) instances.set("min", target);
  const updated = doc.toString({ lineWidth: 0 });
  parseAppYaml(updated, fileName);
  return updated;
}

/**
 * The app.yaml `podnet init --app` writes, every field commented. Amounts are examples for a token with 6 decimals;
 * `schemaUrl` adds the yaml-language-server comment for editors.
 */
export function appYamlTemplate(options: { schemaUrl?: string } = {}): string {
  const header = options.schemaUrl ? `# yaml-language-server: $schema=${options.schemaUrl}\n` : "";
  return `${header}# How the autoscaler runs this app (the pod is pod.yaml beside this file). Reference: docs/app-config.md
# Its hash is the app vault's config hash on chain: comments, key order and formatting do not change it.
# Amounts are whole token base units: plain integers or quoted strings ("1_000_000"), never fractions.
# Durations: 90s, 30m, 6h, 1h30m, 2d, or whole seconds.
version: 1

instances:
  target: 2 # how many instances to run (\`podnet app scale <n>\` changes it)
  min: 1 # fewest healthy instances before the app counts as degraded (at most target)
  maxPerProvider: 1 # instances on one provider at most: spread over distinct providers

price:
  # The most one instance may cost, token base units per second (the vault's maxPricePerSecond).
  maxPerInstance: "1000"

placement:
  attributes: [] # provider attributes required, e.g. ["region=eu-west"]
  allowProviders: [] # only these provider addresses (empty: any)
  denyProviders: [] # never these provider addresses
  minFreeStake: "0" # stake a provider must have free, token base units
  minUptimeBps: 9900 # provider uptime, basis points (9900 = 99%)
  topK: 3 # pick at random among the best 3 candidates, so apps do not pile onto one provider

funding:
  # Each lease's first deposit, token base units (the vault's maxDepositPerLease, also the most a lease may hold).
  depositPerLease: "86_400_000"
  # Top a lease up when less than this is funded at its price (at most depositPerLease / maxPerInstance seconds).
  keepFunded: 6h

health:
  type: http # or tcp, with port: <container port exposed in pod.yaml>
  path: /
  interval: 10s
  timeout: 5s # at most interval
  failuresBeforeReplace: 3 # consecutive failed probes before the instance is replaced elsewhere
`;
}
