import { isIP } from "node:net";
import { z } from "zod";
import { configNames, readConfigSources } from "../config-sources.js";

/**
 * podnet-lb's configuration: defaults < environment (PODNET_LB_*) < command-line flags (`--status-urls …`), or one
 * object given to `startLoadBalancer`. Every value is validated here once; an error names the field, the reason and,
 * from the command line, where the value came from.
 */

const port = z.coerce.number().int().min(0).max(65535);
const ms = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A list: an array from code, `a,b,c` from the environment or a flag. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) =>
      typeof value === "string"
        ? value
            .split(",")
            .map((entry) => entry.trim())
            .filter(Boolean)
        : value,
    z.array(item),
  );
const cidr = z.string().refine((entry) => {
  const [address = "", prefix] = entry.split("/");
  const family = isIP(address);
  if (family === 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}, "not an IP address or CIDR range");

export const lbConfigSchema = z.strictObject({
  /** The autoscalers' `GET /status` URLs of the one app this balancer fronts (several nodes: the union is used). */
  statusUrls: list(z.url({ protocol: /^https?$/ })).pipe(z.array(z.string()).min(1, "at least one status URL")),
  /** Address the balancer listens on. */
  host: z.string().min(1).default("127.0.0.1"),
  /** Port the balancer listens on; 0 picks a free one (read it from the started balancer). */
  port: port.default(7180),
  /** Where `*.localhost` instance hosts connect (a devnet's `l<lease>.pods.localhost`), as in the autoscaler. */
  localhostAddress: z.ipv4().default("127.0.0.1"),
  /** How often each status URL is read, in the background (a request never waits on it). */
  pollIntervalMs: ms(100, 3_600_000).default(2_000),
  /** A status read that takes longer fails; the last good instance set stays in use. */
  statusTimeoutMs: ms(100, 60_000).default(2_000),
  /** A TCP connection to an instance not made within this fails (and may be retried elsewhere: nothing was sent). */
  connectTimeoutMs: ms(10, 60_000).default(2_000),
  /** An instance that has not sent its response headers this long after the request fails (504, or a retry). */
  responseHeadersTimeoutMs: ms(10, 3_600_000).default(15_000),
  /** A connection with no traffic for this long during a request (either side) is closed. */
  idleTimeoutMs: ms(100, 3_600_000).default(60_000),
  /** A client's request headers must be complete within this (slowloris). */
  clientHeadersTimeoutMs: ms(100, 600_000).default(10_000),
  /** An idle client keep-alive connection is closed after this. */
  keepAliveTimeoutMs: ms(100, 600_000).default(5_000),
  /** Client connections accepted at once; the ones beyond are closed at once. */
  maxConnections: z.coerce.number().int().min(1).max(1_000_000).default(4_096),
  /** Largest request (client) and response (instance) header block, in bytes; a bigger request gets 431. */
  maxHeaderBytes: z.coerce.number().int().min(1_024).max(1_048_576).default(16_384),
  /** Connections to one instance at once; requests beyond wait for a free one. */
  maxSocketsPerInstance: z.coerce.number().int().min(1).max(65_536).default(256),
  /** Tries of one request across instances (the first included); retries go to instances not yet tried. */
  maxAttempts: z.coerce.number().int().min(1).max(10).default(3),
  /** An instance that failed a request (connect error, reset, timeout, 502-504) gets no new requests for this long. */
  ejectMs: ms(0, 3_600_000).default(10_000),
  /** Peers whose X-Forwarded-* headers are kept (a TLS terminator in front); from anyone else they are replaced. */
  trustedProxies: list(cidr).default([]),
  /** `GET /metrics` (Prometheus) on its own listener, not on the app's address; unset: no metrics listener. */
  metricsPort: port.optional(),
  metricsHost: z.string().min(1).default("127.0.0.1"),
  logLevel: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
});

export type LbConfig = z.output<typeof lbConfigSchema>;
/** What `startLoadBalancer` accepts: every field but `statusUrls` has a default. */
export type LbOptions = z.input<typeof lbConfigSchema>;

export class LbConfigError extends Error {
  override name = "LbConfigError";
}

const fields = Object.keys(lbConfigSchema.shape);
const names = configNames("LB");
const { envName, flagName } = names;

/** Validates options given in code; throws an {@link LbConfigError} naming every bad field. */
export function parseLbConfig(input: unknown, origin: Record<string, string> = {}): LbConfig {
  const result = lbConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const top = String(issue.path[0] ?? "config");
    const from = origin[top] ? ` (${origin[top]})` : "";
    return `${issue.path.map(String).join(".") || "config"}: ${issue.message}${from}`;
  });
  throw new LbConfigError(lines.join("\n"));
}

/** Reads the configuration from PODNET_LB_* variables and `--flag value` / `--flag=value` arguments. */
export function loadLbConfig({
  argv = [],
  env = process.env,
}: {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
} = {}): LbConfig {
  const { merged, origin } = readConfigSources({
    fields,
    names,
    argv,
    env,
    fail: (message) => new LbConfigError(message),
  });
  if (merged.statusUrls === undefined) {
    throw new LbConfigError(`statusUrls: required (set ${envName("statusUrls")} or ${flagName("statusUrls")})`);
  }
  return parseLbConfig(merged, origin);
}
