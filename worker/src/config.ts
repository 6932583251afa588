import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { encodeAttribute, encodeIngress, MAX_INGRESS_ADDRESSES } from "@podnet/sdk/protocol";
import { type Hex, isHex } from "viem";
import { z } from "zod";
import { TrustedProxies } from "./net/forwarded.js";
import { parsePool } from "./pods/subnets.js";
import { parseEgressAllowEntry } from "./runtime/firewall.js";

/**
 * Worker configuration. Sources, later ones winning: defaults < JSON file (`--config`, PODNET_WORKER_CONFIG) <
 * environment (PODNET_*) < command-line flags (`--api-port 7070`). Every value is validated once here; an error
 * names the field and the source it came from. The provider key is read but never echoed: {@link describeConfig}
 * prints everything else.
 */

const amount = z
  .union([
    z.string(),
    // A JSON number above 2^53 has already lost digits: refuse it rather than stake or charge another amount.
    z.number().refine((n) => !Number.isInteger(n) || Number.isSafeInteger(n), "write amounts above 2^53 as strings"),
  ])
  .transform((value) => String(value))
  .pipe(z.string().regex(/^\d{1,30}$/, "must be a non-negative integer amount in token base units"))
  .transform((value) => BigInt(value));
const uint32 = z.coerce
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);
const port = z.coerce.number().int().min(1).max(65535);
const seconds = z.coerce.number().int().min(1);
const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);

const schema = z.strictObject({
  providerKey: z.string().refine((v) => isHex(v) && v.length === 66, "must be a 0x-prefixed 32-byte private key"),
  rpcUrl: z.url({ protocol: /^(https?|wss?)$/ }).default("http://127.0.0.1:8545"),
  /**
   * A WebSocket endpoint whose new-head subscription (`eth_subscribe`) wakes the chain follower the moment a block
   * arrives, instead of at the next poll; polling stays as the fallback. Unset: `rpcUrl` itself when it is ws(s),
   * else none (polling only).
   */
  rpcSubscribeUrl: z.url({ protocol: /^wss?$/ }).optional(),
  /** deployments/<chainId>.json from `npm run deploy:local`; defaults to that file for the chain's id. */
  deploymentsFile: z.string().optional(),
  dockerSocket: z.string().default(process.env.DOCKER_HOST?.replace(/^unix:\/\//, "") ?? "/var/run/docker.sock"),
  apiHost: z.string().default("0.0.0.0"),
  apiPort: port.default(7070),
  /** The URL publishers reach the API on; registered on chain as the provider's endpoint. */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * The admin API and console (docs/console.md): its own listener, on loopback by default. It can pause the listing
   * and mint addon tokens, so it is never exposed by accident: a non-loopback `adminHost` is refused unless
   * `adminAllowPublic` says so (then put TLS in front and set `adminUrl`).
   */
  adminEnabled: bool.default(true),
  adminHost: z.string().default("127.0.0.1"),
  /** 0: any free port (the devnet's workers); the worker writes the origin it got to `<dataDir>/admin/origin`. */
  adminPort: z.coerce.number().int().min(0).max(65535).default(7071),
  adminAllowPublic: bool.default(false),
  /** The URL the console is reached at, if not loopback on adminPort (a TLS proxy): the only origin it accepts. */
  adminUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** How long a console session lasts after sign-in (absolute, not sliding). */
  adminSessionTtlSec: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(12 * 3600),
  /** How long a link printed by `podnet-worker console` may be used. */
  adminLinkTtlSec: z.coerce
    .number()
    .int()
    .min(30)
    .max(24 * 3600)
    .default(600),
  /**
   * How often the admin API samples the pods' live CPU and memory use (`docker stats`, one-shot) while a console or
   * addon follows GET /admin/v1/events; when nobody listens, once a minute at most (a sample costs a Docker call per
   * running container).
   */
  usageSampleSec: z.coerce.number().int().min(1).max(3600).default(5),
  ingressHost: z.string().default("0.0.0.0"),
  ingressPort: port.default(8080),
  /** Pods get `l<lease>.<ingressDomain>` host names; *.localhost resolves to 127.0.0.1 in browsers and curl. */
  ingressDomain: z
    .string()
    .regex(/^([a-z0-9-]+\.)*[a-z0-9-]+$/, "must be a lowercase DNS name")
    .default("pods.localhost"),
  /**
   * The public addresses (IPv4/IPv6, at most 8) clients reach the ingress on, published in the registry by `register`
   * (`setIngress`) so App DNS can answer them for the apps this provider runs. Empty: none published (a published
   * one is withdrawn).
   */
  publicIngressAddresses: z
    .array(z.string().max(64))
    .max(MAX_INGRESS_ADDRESSES)
    .superRefine((addresses, ctx) => {
      try {
        encodeIngress({ addresses, port: 80 });
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
      }
    })
    .default([]),
  /** The port published with them: what clients connect to (a port forward or proxy in front); default ingressPort. */
  publicIngressPort: port.optional(),
  tcpBindIp: z.ipv4().default("0.0.0.0"),
  tcpPortRange: z
    .tuple([port, port])
    .refine(([a, b]) => a <= b, "must be [first, last]")
    .default([30000, 32767]),
  /** Pod networks are carved from this pool (one subnet per lease); keep it clear of the host's own networks. */
  podNetworkPool: z.string().default("10.200.0.0/14"),
  podNetworkPrefix: z.coerce.number().int().min(16).max(28).default(24),
  /**
   * Pod networks kept made ahead of their leases (pods/warm-networks.ts): a new lease's pod need not wait for its
   * bridge network to be created. 0: each lease's network is made when the lease starts.
   */
  warmNetworks: z.coerce.number().int().min(0).max(64).default(2),
  /**
   * Each warm network also gets an infra container (runtime/infra-containers.ts), and a pod of one container instance
   * and no raw TCP expose starts inside its network namespace: its start skips Docker's endpoint setup (~220 ms here).
   * Such a pod's hostname is `pod`, and its HTTP ports are not published on 127.0.0.1. false: every pod container
   * gets its own endpoint on the lease network.
   */
  infraContainers: bool.default(true),
  metadataURI: z.string().max(2048).default(""),
  pricing: z
    .strictObject({ perCpuMilli: amount, perMemoryMiB: amount, perStorageMiB: amount, flat: amount })
    .default({ perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 0n }),
  capacity: z
    .strictObject({ cpuMillis: uint32, memoryMiB: uint32, storageMiB: uint32 })
    .default({ cpuMillis: 4000, memoryMiB: 8192, storageMiB: 100_000 }),
  attributes: z
    .array(
      z.string().superRefine((attr, ctx) => {
        try {
          attributeFromText(attr);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
        }
      }),
    )
    .max(32)
    .default([]),
  /** Stake `register` keeps bonded, in token base units. */
  stake: amount.default(1000n * 10n ** 18n),
  bidding: z
    .strictObject({
      enabled: bool.default(true),
      /** Bid at this share of the list price, in basis points (10000 = the registered price). */
      priceBps: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    })
    .default({ enabled: true, priceBps: 10_000 }),
  /**
   * Addons the worker starts as child processes, outside its trusted core (docs/console.md, Addons): `bidder` (on;
   * off with `bidding.enabled: false` too), `alertWebhooks` (off; POSTs each new alert to `url`, signed with the secret
   * in `secretFile`, mode 0600, or PODNET_ALERT_WEBHOOK_SECRET). An addon that exits is restarted after `restartDelayMs`,
   * doubled per exit in a row up to `maxRestartDelayMs`; `restart: false` leaves it stopped.
   */
  addons: z
    .strictObject({
      bidder: bool.default(true),
      alertWebhooks: z
        .strictObject({ url: z.url({ protocol: /^https?$/ }), secretFile: z.string().optional() })
        .optional(),
      restart: bool.default(true),
      restartDelayMs: z.coerce.number().int().min(10).default(1000),
      maxRestartDelayMs: z.coerce.number().int().min(10).default(60_000),
    })
    .default({ bidder: true, restart: true, restartDelayMs: 1000, maxRestartDelayMs: 60_000 }),
  /** Alert below this provider ETH balance, in wei: the worker pays gas for heartbeats, bids and claims. */
  alertMinGasWei: amount.default(10n ** 16n),
  dataDir: z.string().default(join(homedir(), ".podnet-worker")),
  /** Decrypted secrets live here only; it must be a tmpfs so they never reach a disk. */
  secretsDir: z.string().default("/dev/shm/podnet"),
  pollIntervalMs: z.coerce.number().int().min(20).default(1000),
  /**
   * How often /metrics' event-loop lag histogram samples the loop, in ms. Each sample wakes the loop: at 10 ms about
   * half of an idle worker's CPU (7 of 15 ms a second). The figures include the interval (an idle loop reads about
   * this much lag), so a coarser one shifts them.
   */
  metricsLoopPrecisionMs: z.coerce.number().int().min(1).max(1000).default(10),
  confirmations: z.coerce.number().int().min(0).default(0),
  reconcileIntervalMs: z.coerce.number().int().min(100).default(5000),
  /** Leases a reconcile pass works on at once. */
  reconcileConcurrency: z.coerce.number().int().min(1).max(256).default(8),
  /** A lease's images (blob fetch, decryption and load, registry pull) must be ready within this, else it fails. */
  imageFetchTimeoutSec: seconds.default(900),
  /**
   * The teardown guard: a reconcile pass stops pods without a reason the chain confirms (their lease unknown to the
   * chain) only while they are at most this share of the pods (at least one); past it, none, and it logs an error.
   */
  maxUnconfirmedTeardownShare: z.coerce.number().min(0).max(1).default(0.1),
  /** Seconds without a new block after which /health reports the chain as stalled (0: never; dev chains mine on demand). */
  chainStallSec: z.coerce.number().int().min(0).default(300),
  withdrawIntervalSec: seconds.default(3600),
  /** 0 = a third of the market's heartbeat threshold. */
  heartbeatIntervalSec: z.coerce.number().int().min(0).default(0),
  outOfFundsGraceSec: z.coerce.number().int().min(0).default(60),
  manifestTimeoutSec: seconds.default(900),
  quoteTtlSec: seconds.default(300),
  /**
   * Sign quotes that name no publisher. Off: anyone who sees an open quote can use it first and burn its nonce, so a
   * quote request must name the publisher that will create the lease.
   */
  openQuotes: bool.default(false),
  /**
   * Per source address (IPv6: per /64): a token bucket for the anonymous routes (quotes, attestation, blob downloads,
   * health, metrics, dispute evidence), and for signed requests that are refused; 429 with Retry-After when empty.
   * `quotesPerSecond`: quotes the whole worker signs per second (503 with Retry-After beyond). 0 turns either off
   * (a benchmark on loopback).
   */
  apiRateLimit: z
    .strictObject({
      perSecond: z.coerce.number().min(0).default(10),
      burst: z.coerce.number().int().min(1).default(100),
      quotesPerSecond: z.coerce.number().min(0).default(50),
    })
    .default({ perSecond: 10, burst: 100, quotesPerSecond: 50 }),
  maxBlobBytes: z.coerce
    .number()
    .int()
    .min(1)
    .default(2 * 1024 ** 3),
  /**
   * MiB of disk a lease gets for free on top of its paid storageMiB: bounds the blobs its publisher may upload and
   * the unpacked size of its images.
   */
  leaseDiskAllowance: z.coerce.number().int().min(1).default(2048),
  /** Seconds a blob stays after the last lease that used it ended (then it is deleted). */
  blobRetentionSec: z.coerce.number().int().min(0).default(600),
  /** What pods may reach besides their own network: `public` (the internet, not private ranges) or `none`. */
  podEgress: z.enum(["public", "none"]).default("public"),
  /**
   * `ip:port` pairs (IPv4, TCP) pods may reach although the egress firewall drops the host and private ranges: a dev or
   * ops opening for a service pods must reach on the provider's side (a devnet's chain RPC and indexer for an
   * autoscaler sidecar). Each is one address and one port; every pod of this provider can reach them. Empty: none.
   */
  podEgressAllow: z
    .array(
      z.string().transform((text, ctx) => {
        try {
          return parseEgressAllowEntry(text);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message });
          return z.NEVER;
        }
      }),
    )
    .max(16)
    .refine(
      (entries) => new Set(entries.map((e) => `${e.ip}:${e.port}`)).size === entries.length,
      "lists an ip:port twice",
    )
    .default([]),
  /**
   * Refuse to start unless every part of the pod sandbox is enforced (user namespaces, disk quotas, the egress
   * firewall). Off: the worker starts and reports what is not enforced in /health, the attestation and its log.
   */
  requireSandbox: bool.default(false),
  /**
   * Blob-source hosts fetched from although they are not public: only for a local marketplace whose providers serve
   * each other on loopback (the demo, tests). Every other source must resolve to public addresses only.
   */
  privateSourceHosts: z.array(z.string().max(253)).max(16).default([]),
  /** DNS servers (`ip` or `ip:port`) custom-host proofs are looked up with; empty: the system's resolver. */
  dnsServers: z
    .array(z.string().regex(/^[0-9a-fA-F.:[\]]+$/, "must be ip or ip:port"))
    .max(8)
    .default([]),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  // Listener limits (net/http-limits.ts, net/fd-budget.ts, ingress/http-ingress.ts): what slow, idle or numerous
  // peers can hold of the API and the ingress.
  /** Open-file limit the worker raises itself to at start (past the hard limit only as root); then budgeted. */
  nofile: z.coerce.number().int().min(1024).max(1_048_576).default(65_536),
  /** Most API connections at once (lowered to fit the descriptor budget). */
  apiMaxConnections: z.coerce.number().int().min(1).default(1024),
  /** Most ingress connections at once, upgraded ones included (lowered to fit the descriptor budget). */
  ingressMaxConnections: z.coerce.number().int().min(1).default(8192),
  /** Request headers must be complete this long after a connection's first byte (slowloris). */
  httpHeadersTimeoutMs: z.coerce.number().int().min(100).default(10_000),
  /** A connection with a request in flight and no traffic for this long is closed. */
  httpIdleTimeoutMs: z.coerce.number().int().min(100).default(60_000),
  /** Connecting to a pod, and each wait for its next bytes, past which the ingress answers 504. */
  ingressUpstreamTimeoutMs: z.coerce.number().int().min(100).default(60_000),
  /**
   * Scale-to-zero: how long a request for a sleeping pod is held while its containers start and its port starts
   * accepting; past it the request gets 503 with Retry-After.
   */
  ingressWakeTimeoutMs: z.coerce.number().int().min(100).default(30_000),
  /** An upgraded (WebSocket) connection with no traffic either way for this long is closed. */
  ingressUpgradeIdleTimeoutMs: z.coerce.number().int().min(100).default(300_000),
  /** Upgraded connections one lease's pods may hold at once. */
  ingressMaxUpgradesPerLease: z.coerce.number().int().min(1).default(1000),
  /** Log-follow streams (`logs?follow=true`) one lease may have open at once. */
  maxLogFollowsPerLease: z.coerce.number().int().min(1).default(4),
  /** Peers (IPs or CIDR ranges) whose X-Forwarded-For is believed: a load balancer in front. Default: nobody. */
  trustedProxies: z
    .array(
      z.string().superRefine((entry, ctx) => {
        try {
          new TrustedProxies([entry]);
        } catch (error) {
          ctx.addIssue({ code: "custom", message: (error as Error).message.replace(/^trustedProxies: /, "") });
        }
      }),
    )
    .max(64)
    .default([]),
});

/** "key=value" as the bytes32 the registry stores. */
export function attributeFromText(text: string) {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new Error(`attribute "${text}": must be key=value`);
  return encodeAttribute(text.slice(0, eq), text.slice(eq + 1));
}

export type WorkerConfig = z.output<typeof schema> & { providerKey: Hex };

/**
 * Environment variable of each field: PODNET_ + the field in SCREAMING_SNAKE (PODNET_API_PORT); an acronym stays one
 * word (metadataURI: PODNET_METADATA_URI, --metadata-uri).
 */
const envName = (field: string) => `PODNET_${field.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;
const flagName = (field: string) => `--${field.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}`;
const fields = Object.keys(schema.shape) as (keyof typeof schema.shape)[];
// Nested values (pricing, capacity, ...) arrive as JSON in env vars and flags.
const jsonFields = new Set([
  "apiRateLimit",
  "pricing",
  "capacity",
  "attributes",
  "publicIngressAddresses",
  "bidding",
  "addons",
  "tcpPortRange",
  "dnsServers",
  "privateSourceHosts",
  "podEgressAllow",
  "trustedProxies",
]);

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface ConfigSources {
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Splits `--flag value` / `--flag=value` pairs; unknown flags are errors, not silently ignored. */
export function parseFlags(argv: string[]): { flags: Record<string, string>; configFile?: string } {
  const flags: Record<string, string> = {};
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) throw new ConfigError(`${arg}: unexpected argument`);
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith("--"))) throw new ConfigError(`${flag}: needs a value`);
    if (flag === "--config") {
      configFile = value;
      continue;
    }
    const field = fields.find((f) => flagName(f) === flag);
    if (!field) throw new ConfigError(`${flag}: unknown flag`);
    flags[field] = value;
  }
  return configFile === undefined ? { flags } : { flags, configFile };
}

function decode(field: string, value: string, source: string): unknown {
  if (!jsonFields.has(field)) return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new ConfigError(`${field} (${source}): must be JSON`);
  }
}

/** Reads and validates the configuration from file, environment and flags. */
export function loadConfig({ argv = [], env = process.env, cwd = process.cwd() }: ConfigSources = {}): WorkerConfig {
  const { flags, configFile: flagFile } = parseFlags(argv);
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const configFile = flagFile ?? env.PODNET_WORKER_CONFIG;
  if (configFile) {
    const path = isAbsolute(configFile) ? configFile : resolve(cwd, configFile);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      // Never echo the parser's message: it quotes the file's text, which may hold the provider key.
      const reason =
        error instanceof SyntaxError ? "not valid JSON" : ((error as NodeJS.ErrnoException).code ?? "unreadable");
      throw new ConfigError(`config file ${path}: ${reason}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`config file ${path}: must be a JSON object`);
    }
    for (const [key, value] of Object.entries(parsed)) {
      merged[key] = value;
      origin[key] = `config file ${path}`;
    }
  }
  for (const field of fields) {
    const value = env[envName(field)];
    if (value !== undefined && value !== "") {
      merged[field] = decode(field, value, envName(field));
      origin[field] = envName(field);
    }
  }
  for (const [field, value] of Object.entries(flags)) {
    merged[field] = decode(field, value, flagName(field));
    origin[field] = flagName(field);
  }
  const result = schema.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.flatMap((issue) => {
      // Only a config file can carry unknown settings (env and flags are looked up by field): name each and its file.
      if (issue.code === "unrecognized_keys" && issue.path.length === 0) {
        return issue.keys.map((key) => `${key}: unknown setting (${origin[key] ?? "config"})`);
      }
      const field = issue.path.map(String).join(".") || "config";
      const top = String(issue.path[0] ?? "");
      const from = origin[top] ?? (top ? `set ${envName(top)} or ${flagName(top)}` : "");
      return `${field}: ${issue.message}${from ? ` (${from})` : ""}`;
    });
    throw new ConfigError(lines.join("\n"));
  }
  const config = result.data as WorkerConfig;
  let pool: ReturnType<typeof parsePool>;
  try {
    pool = parsePool(config.podNetworkPool, config.podNetworkPrefix);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message} (${origin.podNetworkPool ?? "default"})`);
  }
  // An opening inside the pod pool would reach some tenant's pod, or a pod network's gateway: never what is meant.
  const poolSize = 2 ** (32 - pool.poolPrefix);
  config.podEgressAllow.forEach(({ ip, port }, i) => {
    const address = ip.split(".").reduce((acc, o) => acc * 256 + Number(o), 0);
    if (address >= pool.base && address < pool.base + poolSize) {
      throw new ConfigError(
        `podEgressAllow.${i}: "${ip}:${port}" is inside podNetworkPool ${config.podNetworkPool} (pods and their gateways) (${origin.podEgressAllow})`,
      );
    }
  });
  if (config.adminEnabled && !config.adminAllowPublic && !isLoopbackHost(config.adminHost)) {
    throw new ConfigError(
      `adminHost: "${config.adminHost}" is not a loopback address; the admin API can pause the listing and mint tokens, so set adminAllowPublic: true to serve it there (behind TLS, with adminUrl) (${origin.adminHost ?? "default"})`,
    );
  }
  if (config.deploymentsFile && !isAbsolute(config.deploymentsFile)) {
    config.deploymentsFile = resolve(cwd, config.deploymentsFile);
  }
  config.dataDir = resolve(cwd, config.dataDir);
  return config;
}

/** 127.0.0.0/8, ::1 or localhost: reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** The configuration as safe to print: the key is replaced by a marker. */
export function describeConfig(config: WorkerConfig): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify({ ...config, providerKey: "(set, not shown)" }, (_key, value) =>
      typeof value === "bigint" ? value.toString() : value,
    ),
  );
}

/** The provider API's URL as registered on chain (`publicUrl`, else the local API port). */
export function apiEndpoint(config: Pick<WorkerConfig, "publicUrl" | "apiPort">): string {
  return config.publicUrl ?? `http://127.0.0.1:${config.apiPort}`;
}
