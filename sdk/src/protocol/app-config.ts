import { getAddress, type Hex, isAddress, keccak256, stringToBytes } from "viem";
import { z } from "zod";
import { encodeAttribute } from "./attributes.js";
import { canonicalJson } from "./canonical-json.js";
import { PodnetError } from "./errors.js";
import { formatPath, type ManifestIssue } from "./manifest.js";

/**
 * The app selection config (app.yaml, beside pod.yaml), version 1: how many instances of an app the autoscaler keeps,
 * on which providers, at what price, how it funds and health-checks them. Its canonical hash is the `configHash` an
 * AppVault stores, so anyone can check a config file against the chain ({@link appConfigHash}); the vault's spending
 * limits are derived from it ({@link appConfigLimits}).
 *
 * Money is exact: token base units as decimal strings ("1_000_000" allowed) or plain safe integers, never fractions;
 * every amount fits the vault's uint96. Durations are "90s", "30m", "6h", "1h30m", "2d" or whole seconds. The
 * canonical form writes amounts as decimal strings, durations as seconds, address lists checksummed and sorted, and
 * every default out, so two files that mean the same config hash the same.
 */

/** Largest canonical config accepted, in bytes. */
export const MAX_APP_CONFIG_BYTES = 16 * 1024;
/** Most instance slots an app may ask for: the vault's `maxInstances` is a uint16, and scanning slots costs reads. */
export const MAX_APP_INSTANCES = 1000;
/** The bid window of an autoscaler's fallback order when app.yaml's `placement.bidWindow` is absent, seconds. */
export const DEFAULT_BID_WINDOW_SECONDS = 30;
/** Largest amount a vault limit can hold (uint96). */
export const MAX_APP_AMOUNT = (1n << 96n) - 1n;

const DURATION_UNITS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const AMOUNT = /^\d+(_\d+)*$/;

/** Seconds of a duration text ("1h30m", "2d", "3600"), or undefined when it is not one. */
export function parseDurationText(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d{1,12}$/.test(trimmed)) return Number(trimmed);
  const match = trimmed === "" || trimmed.length > 40 ? null : DURATION.exec(trimmed);
  if (!match) return undefined;
  const [, d, h, m, s] = match;
  const seconds =
    Number(d ?? 0) * DURATION_UNITS.d +
    Number(h ?? 0) * DURATION_UNITS.h +
    Number(m ?? 0) * DURATION_UNITS.m +
    Number(s ?? 0) * DURATION_UNITS.s;
  return Number.isSafeInteger(seconds) ? seconds : undefined;
}

/** A token amount in base units: a decimal string (underscores allowed) or a safe integer; never a fraction. */
function amount({ min = 0n, max = MAX_APP_AMOUNT } = {}) {
  return z.union([z.string().max(40), z.number()]).transform((value, ctx): bigint => {
    let parsed: bigint | undefined;
    if (typeof value === "number") {
      if (!Number.isInteger(value)) {
        ctx.addIssue({
          code: "custom",
          message: `must be a whole number of token base units, got ${value} (fractions are not exact)`,
        });
        return z.NEVER;
      }
      if (!Number.isSafeInteger(value)) {
        ctx.addIssue({
          code: "custom",
          message: "is past 2^53 and was already rounded: write it as a quoted decimal string",
        });
        return z.NEVER;
      }
      parsed = BigInt(value);
    } else if (AMOUNT.test(value.trim())) {
      parsed = BigInt(value.trim().replaceAll("_", ""));
    }
    if (parsed === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not a whole number of token base units (digits, '_' allowed)`,
      });
      return z.NEVER;
    }
    if (parsed < min || parsed > max) {
      ctx.addIssue({ code: "custom", message: `must be between ${min} and ${max}, got ${parsed}` });
      return z.NEVER;
    }
    return parsed;
  });
}

/** A duration: "90s", "30m", "6h", "1h30m", "2d" or whole seconds, between `min` and `max` seconds. */
function duration(min: number, max: number) {
  return z.union([z.string().max(40), z.number()]).transform((value, ctx): number => {
    const seconds =
      typeof value === "number" ? (Number.isSafeInteger(value) ? value : undefined) : parseDurationText(value);
    if (seconds === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not a duration (e.g. 90s, 30m, 6h, 1h30m, 2d, or whole seconds)`,
      });
      return z.NEVER;
    }
    if (seconds < min || seconds > max) {
      ctx.addIssue({ code: "custom", message: `must be between ${min} and ${max} seconds, got ${seconds}` });
      return z.NEVER;
    }
    return seconds;
  });
}

const address = z
  .string()
  .max(42)
  .refine((text) => isAddress(text, { strict: false }), "must be a 0x-prefixed 20-byte address")
  .transform((text) => getAddress(text));

const attribute = z
  .string()
  .max(64)
  .superRefine((text, ctx) => {
    const separator = text.indexOf("=");
    if (separator <= 0) {
      ctx.addIssue({ code: "custom", message: `"${text}" is not key=value` });
      return;
    }
    try {
      encodeAttribute(text.slice(0, separator), text.slice(separator + 1));
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  });

/** Sorted, so the order a file lists them in does not change the hash. */
const sortedList = <T extends z.ZodType<string>>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .default([])
    .transform((list) => [...list].sort());

const count = (min: number, max: number) => z.int().min(min).max(max);

const healthCommon = {
  /** How often each instance is probed. */
  interval: duration(1, 3_600).default(10),
  /** How long one probe may take; at most the interval. */
  timeout: duration(1, 600).default(5),
  /** Consecutive failed probes after which the instance's slot is replaced. */
  failuresBeforeReplace: count(1, 100).default(3),
};

const health = z.discriminatedUnion("type", [
  /** An HTTP GET through the provider's ingress; a 2xx or 3xx answer is healthy. */
  z.strictObject({
    type: z.literal("http"),
    path: z
      .string()
      .max(256)
      .regex(/^\/[\x21-\x7e]*$/, "must be an absolute URL path of printable ASCII (e.g. /healthz)"),
    ...healthCommon,
  }),
  /** A TCP connect to one of the pod's exposed TCP ports (the container port, as in pod.yaml's expose.tcp). */
  z.strictObject({ type: z.literal("tcp"), port: count(1, 65535), ...healthCommon }),
]);

const appConfigShape = z
  .strictObject({
    version: z.literal(1),
    instances: z.strictObject({
      /** Fewest healthy instances before the app counts as degraded; the autoscaler alerts below it. */
      min: count(0, MAX_APP_INSTANCES).default(1),
      /** How many instances to run. */
      target: count(0, MAX_APP_INSTANCES),
      /** At most this many instances on one provider (instances are spread over distinct providers). */
      maxPerProvider: count(1, MAX_APP_INSTANCES).default(1),
    }),
    price: z.strictObject({
      /** The most one instance may cost, token base units per second (the vault's maxPricePerSecond). */
      maxPerInstance: amount({ min: 1n }),
    }),
    placement: z
      .strictObject({
        /** Attributes a provider must list, `key=value` (e.g. region=eu-west), matched exactly. */
        attributes: sortedList(attribute, 16),
        /** Only these providers (empty: any). */
        allowProviders: sortedList(address, 256),
        /** Never these providers. */
        denyProviders: sortedList(address, 256),
        /** Stake a provider must have free (not locked by other leases), token base units. */
        minFreeStake: amount().default(0n),
        /** Uptime a provider must have, in basis points (9950 = 99.5%), as the indexer reports it. */
        minUptimeBps: count(0, 10_000).default(0),
        /** Pick at random among the best `topK` candidates, so autoscalers of many apps do not pile onto one provider. */
        topK: count(1, 100).default(3),
        /**
         * How long providers may bid when no provider quotes directly and the autoscaler falls back to an order
         * (reverse market). Absent means {@link DEFAULT_BID_WINDOW_SECONDS}; the default is left out of the canonical
         * form (so configs written before this field hash as they did, and an explicit 30s hashes like none).
         */
        bidWindow: duration(5, 86_400)
          .optional()
          .transform((seconds) => (seconds === DEFAULT_BID_WINDOW_SECONDS ? undefined : seconds)),
      })
      .default(() => ({
        attributes: [],
        allowProviders: [],
        denyProviders: [],
        minFreeStake: 0n,
        minUptimeBps: 0,
        topK: 3,
        bidWindow: undefined,
      })),
    funding: z.strictObject({
      /** The first deposit of each lease, token base units (the vault's maxDepositPerLease). */
      depositPerLease: amount({ min: 1n }),
      /** Top a lease up whenever less than this long is funded at its price. */
      keepFunded: duration(60, 365 * 86_400),
    }),
    health,
  })
  .superRefine(
    (config, ctx) => {
      const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
      const { instances, placement, funding, price } = config;
      if (instances.min > instances.target) {
        issue(["instances", "min"], `must be at most instances.target (${instances.target}), got ${instances.min}`);
      }
      if (config.health.timeout > config.health.interval) {
        issue(
          ["health", "timeout"],
          `must be at most health.interval (${config.health.interval}s), got ${config.health.timeout}s`,
        );
      }
      const duplicates = (field: "attributes" | "allowProviders" | "denyProviders", key = (v: string) => v) => {
        const seen = new Set<string>();
        placement[field].forEach((value, i) => {
          const k = key(value);
          if (seen.has(k)) issue(["placement", field, i], `duplicate ${value}`);
          seen.add(k);
        });
      };
      duplicates("attributes", (a) => a.slice(0, a.indexOf("=")));
      duplicates("allowProviders");
      duplicates("denyProviders");
      const denied = new Set(placement.denyProviders);
      placement.allowProviders.forEach((provider, i) => {
        if (denied.has(provider)) issue(["placement", "allowProviders", i], `${provider} is also in denyProviders`);
      });
      // The vault caps a lease's unspent escrow after a top-up at maxDepositPerLease (= depositPerLease): a policy that
      // keeps more funded than that at the price cap would be refused on chain at every top-up.
      const kept = price.maxPerInstance * BigInt(funding.keepFunded);
      if (kept > funding.depositPerLease) {
        issue(
          ["funding", "keepFunded"],
          `${funding.keepFunded}s at price.maxPerInstance (${price.maxPerInstance}/s) is ${kept}, more than funding.depositPerLease (${funding.depositPerLease}) that the vault lets a lease hold`,
        );
      }
      // Only once every field is valid on its own: a rule comparing two fields means nothing when one of them is bad.
    },
    { when: (payload) => payload.issues.length === 0 },
  );

/** A validated app config with every default written out; amounts are bigint, durations seconds. */
export type AppConfig = z.output<typeof appConfigShape>;
/** What an owner may write: defaults may be left out. */
export type AppConfigInput = z.input<typeof appConfigShape>;
export type AppHealthCheck = AppConfig["health"];

export type AppConfigErrorType = AppConfigError & { name: "AppConfigError" };

/** An app config failed validation; `issues` names every bad field as pod.yaml's errors do (`instances.min: ...`). */
export class AppConfigError extends PodnetError {
  override name = "AppConfigError";
  readonly issues: ManifestIssue[];
  /** @param shortMessage the issues in words; default `path: message` per issue, joined by "; ". */
  constructor(issues: ManifestIssue[], shortMessage = issues.map((i) => `${i.path}: ${i.message}`).join("; ")) {
    super("APP_CONFIG", shortMessage, { docsPath: "docs/app-config.md#errors" });
    this.issues = issues;
  }
}

/**
 * Validates an app config (parsed JSON or YAML) and writes out its defaults.
 *
 * @throws {AppConfigError} naming each bad field, e.g. `instances.min: must be at most instances.target (2), got 3`.
 * @example
 * const config = parseAppConfig({ version: 1, instances: { target: 2 }, price: { maxPerInstance: "1000" },
 *   funding: { depositPerLease: "86400000", keepFunded: "6h" }, health: { type: "http", path: "/healthz" } });
 */
export function parseAppConfig(input: unknown): AppConfig {
  // A parsed config holds bigints: reading it again (as appConfigHash does) must give the same config.
  const result = appConfigShape.safeParse(bigintsAsText(input, 0));
  if (!result.success) {
    throw new AppConfigError(
      result.error.issues.map((i) => ({ path: formatPath(i.path, "config"), message: i.message })),
    );
  }
  const size = stringToBytes(canonicalAppConfig(result.data)).length;
  if (size > MAX_APP_CONFIG_BYTES) {
    throw new AppConfigError([{ path: "config", message: `is ${size} bytes, the limit is ${MAX_APP_CONFIG_BYTES}` }]);
  }
  return result.data;
}

function bigintsAsText(value: unknown, depth: number): unknown {
  if (typeof value === "bigint") return value.toString();
  if (depth > 8 || typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => bigintsAsText(item, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, bigintsAsText(item, depth + 1)]));
}

/** The config as plain JSON: amounts as decimal strings (what {@link canonicalAppConfig} writes). */
export function appConfigJson(config: AppConfig): unknown {
  return JSON.parse(JSON.stringify(config, (_key, value) => (typeof value === "bigint" ? value.toString() : value)));
}

/** The canonical text of a config: what {@link appConfigHash} hashes. */
export function canonicalAppConfig(config: AppConfig): string {
  return canonicalJson(appConfigJson(config));
}

/**
 * The vault's `configHash` of a config: keccak256 of its canonical JSON (defaults written out). Accepts unvalidated
 * input and validates it first, so nobody records the hash of a config an autoscaler would refuse.
 */
export function appConfigHash(input: unknown): Hex {
  return keccak256(stringToBytes(canonicalAppConfig(parseAppConfig(input))));
}

/** The vault's spending limits (`AppLimits`) a config needs. */
export interface AppLimits {
  maxPricePerSecond: bigint;
  maxDepositPerLease: bigint;
  maxInstances: number;
}

/**
 * The limits an owner gives the app's controllers for `config`: the price cap per instance, the deposit per lease
 * (also the most a lease may hold after a top-up), and one slot per target instance. A running autoscaler replaces an
 * instance in its own slot (compare-and-swap), so no extra slot is needed for failover.
 */
export function appConfigLimits(config: AppConfig): AppLimits {
  return {
    maxPricePerSecond: config.price.maxPerInstance,
    maxDepositPerLease: config.funding.depositPerLease,
    maxInstances: config.instances.target,
  };
}

/** The bid window, in seconds, of the order an autoscaler creates when no provider quotes (reverse market). */
export function appBidWindowSeconds(config: AppConfig): number {
  return config.placement.bidWindow ?? DEFAULT_BID_WINDOW_SECONDS;
}

/** JSON Schema (draft 2020-12) of the app.yaml an owner writes, for editors and other languages. */
export function appConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(appConfigShape, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
