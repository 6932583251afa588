import { keccak256, stringToBytes } from "viem";
import { describe, expect, it } from "vitest";
import {
  AppConfigError,
  appBidWindowSeconds,
  appConfigHash,
  appConfigJsonSchema,
  appConfigLimits,
  canonicalAppConfig,
  DEFAULT_BID_WINDOW_SECONDS,
  MAX_APP_CONFIG_BYTES,
  parseAppConfig,
} from "./app-config.js";
import type { ManifestIssue } from "./manifest.js";

// biome-ignore lint/suspicious/noExplicitAny: configs under test are untyped input, often deliberately invalid
type Json = any;

const PROVIDER_A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const PROVIDER_B = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

function minimal(): Json {
  return {
    version: 1,
    instances: { target: 2 },
    price: { maxPerInstance: "1000" },
    funding: { depositPerLease: "86400000", keepFunded: "6h" },
    health: { type: "http", path: "/healthz" },
  };
}

function issues(input: unknown): ManifestIssue[] {
  try {
    parseAppConfig(input);
  } catch (error) {
    expect(error).toBeInstanceOf(AppConfigError);
    return (error as AppConfigError).issues;
  }
  throw new Error("config was accepted");
}

function issue(input: unknown): ManifestIssue {
  const found = issues(input);
  expect(found).toHaveLength(1);
  return found[0] as ManifestIssue;
}

function changed(change: (c: Json) => void): Json {
  const c = minimal();
  change(c);
  return c;
}

describe("parseAppConfig", () => {
  it("accepts a minimal config and writes out every default, money as bigint and durations as seconds", () => {
    expect(parseAppConfig(minimal())).toEqual({
      version: 1,
      instances: { min: 1, target: 2, maxPerProvider: 1 },
      price: { maxPerInstance: 1000n },
      placement: {
        attributes: [],
        allowProviders: [],
        denyProviders: [],
        minFreeStake: 0n,
        minUptimeBps: 0,
        topK: 3,
      },
      funding: { depositPerLease: 86_400_000n, keepFunded: 21_600 },
      health: { type: "http", path: "/healthz", interval: 10, timeout: 5, failuresBeforeReplace: 3 },
    });
  });

  it("derives the vault limits: price cap, deposit per lease, one slot per target instance", () => {
    expect(appConfigLimits(parseAppConfig(minimal()))).toEqual({
      maxPricePerSecond: 1000n,
      maxDepositPerLease: 86_400_000n,
      maxInstances: 2,
    });
  });

  it("refuses unknown keys at every level, naming them", () => {
    expect(issue(changed((c) => (c.replicas = 3)))).toEqual({
      path: "config",
      message: 'Unrecognized key: "replicas"',
    });
    expect(issue(changed((c) => (c.instances.max = 3))).path).toBe("instances");
    expect(issue(changed((c) => (c.health.port = 80))).path).toBe("health");
  });

  it("refuses instances out of range and min above target", () => {
    expect(issue(changed((c) => (c.instances.target = -1))).path).toBe("instances.target");
    expect(issue(changed((c) => (c.instances.target = 1001))).path).toBe("instances.target");
    expect(issue(changed((c) => (c.instances.target = 1.5))).path).toBe("instances.target");
    expect(issue(changed((c) => (c.instances.maxPerProvider = 0))).path).toBe("instances.maxPerProvider");
    expect(issue(changed((c) => (c.instances.min = 3)))).toEqual({
      path: "instances.min",
      message: "must be at most instances.target (2), got 3",
    });
  });

  it("refuses money that is not an exact whole number of base units", () => {
    const price = (value: unknown) => issue(changed((c) => (c.price.maxPerInstance = value)));
    expect(price(0.5)).toEqual({
      path: "price.maxPerInstance",
      message: "must be a whole number of token base units, got 0.5 (fractions are not exact)",
    });
    expect(price("0.5").message).toMatch(/not a whole number of token base units/);
    expect(price("-1").message).toMatch(/not a whole number/);
    expect(price("1e3").message).toMatch(/not a whole number/);
    expect(price(-5).message).toMatch(/between 1 and/);
    expect(price(0).message).toMatch(/between 1 and/);
    expect(price(2 ** 60).message).toMatch(/past 2\^53.*quoted decimal string/);
    expect(price((1n << 96n).toString()).message).toMatch(/between 1 and 79228162514264337593543950335/);
    expect(price("9".repeat(41)).path).toBe("price.maxPerInstance");
    expect(price(true).path).toBe("price.maxPerInstance");
    // The largest uint96 is exact and accepted.
    const max = ((1n << 96n) - 1n).toString();
    const c = changed((c) => {
      c.price.maxPerInstance = "1";
      c.funding.depositPerLease = max;
    });
    expect(parseAppConfig(c).funding.depositPerLease).toBe((1n << 96n) - 1n);
  });

  it("refuses a top-up policy the vault's deposit cap would refuse", () => {
    // 6h at 10000/s is 216,000,000: more than a lease may hold (depositPerLease 86,400,000).
    expect(issue(changed((c) => (c.price.maxPerInstance = "10000")))).toEqual({
      path: "funding.keepFunded",
      message:
        "21600s at price.maxPerInstance (10000/s) is 216000000, more than funding.depositPerLease (86400000) that the vault lets a lease hold",
    });
  });

  it("refuses bad durations", () => {
    expect(issue(changed((c) => (c.funding.keepFunded = "1.5h"))).path).toBe("funding.keepFunded");
    expect(issue(changed((c) => (c.funding.keepFunded = "10s"))).message).toMatch(/between 60 and/);
    expect(issue(changed((c) => (c.funding.keepFunded = `${"9".repeat(30)}d`))).path).toBe("funding.keepFunded");
    expect(issue(changed((c) => (c.health.interval = "0s"))).path).toBe("health.interval");
    expect(issue(changed((c) => (c.health.timeout = "30s")))).toEqual({
      path: "health.timeout",
      message: "must be at most health.interval (10s), got 30s",
    });
  });

  it("refuses bad placement: attributes, addresses, duplicates, a provider both allowed and denied", () => {
    const placement = (p: Json) => issues(changed((c) => (c.placement = p)));
    expect(placement({ attributes: ["Region=eu"] })[0]?.path).toBe("placement.attributes[0]");
    expect(placement({ attributes: ["region"] })[0]?.message).toBe('"region" is not key=value');
    expect(placement({ attributes: [`region=${"x".repeat(40)}`] })[0]?.message).toMatch(/at most 32 fit on chain/);
    expect(placement({ attributes: ["region=eu", "region=us"] })[0]?.message).toMatch(/duplicate/);
    expect(placement({ allowProviders: ["0x1234"] })[0]?.path).toBe("placement.allowProviders[0]");
    expect(placement({ allowProviders: [PROVIDER_A, PROVIDER_A.toLowerCase()] })[0]?.message).toMatch(/duplicate/);
    expect(placement({ allowProviders: [PROVIDER_A], denyProviders: [PROVIDER_A.toLowerCase()] })).toEqual([
      { path: "placement.allowProviders[0]", message: `${PROVIDER_A} is also in denyProviders` },
    ]);
    expect(placement({ minUptimeBps: 10_001 })[0]?.path).toBe("placement.minUptimeBps");
    expect(placement({ minUptimeBps: 99.5 })[0]?.path).toBe("placement.minUptimeBps");
    expect(placement({ topK: 0 })[0]?.path).toBe("placement.topK");
    expect(placement({ minFreeStake: 1.5 })[0]?.path).toBe("placement.minFreeStake");
  });

  it("refuses bad health checks", () => {
    expect(issue(changed((c) => (c.health = { type: "icmp" }))).path).toBe("health.type");
    expect(issue(changed((c) => (c.health.path = "healthz"))).path).toBe("health.path");
    expect(issue(changed((c) => (c.health.path = "/a b"))).path).toBe("health.path");
    expect(issue(changed((c) => (c.health = { type: "tcp", port: 70000 }))).path).toBe("health.port");
    expect(issue(changed((c) => (c.health.failuresBeforeReplace = 0))).path).toBe("health.failuresBeforeReplace");
  });

  it("refuses what is not a config at all", () => {
    for (const input of [null, 1, "app", [], { version: 2 }]) expect(issues(input).length).toBeGreaterThan(0);
  });

  it("refuses a config whose canonical form is past the size limit", () => {
    const addresses = Array.from({ length: 256 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, "0")}`);
    const config = changed((c) => {
      c.placement = { allowProviders: addresses, denyProviders: addresses.map((a) => a.replace("0x0", "0x1")) };
    });
    expect(issue(config)).toEqual({
      path: "config",
      message: expect.stringMatching(`limit is ${MAX_APP_CONFIG_BYTES}`),
    });
  });
});

describe("appConfigHash", () => {
  it("is keccak256 of the canonical JSON, amounts as decimal strings, and pinned", () => {
    const config = parseAppConfig(minimal());
    const canonical = canonicalAppConfig(config);
    expect(canonical).toBe(
      '{"funding":{"depositPerLease":"86400000","keepFunded":21600},"health":{"failuresBeforeReplace":3,"interval":10,"path":"/healthz","timeout":5,"type":"http"},"instances":{"maxPerProvider":1,"min":1,"target":2},"placement":{"allowProviders":[],"attributes":[],"denyProviders":[],"minFreeStake":"0","minUptimeBps":0,"topK":3},"price":{"maxPerInstance":"1000"},"version":1}',
    );
    expect(appConfigHash(minimal())).toBe(keccak256(stringToBytes(canonical)));
    // A change to the canonical form changes every app's config hash on chain: it must be deliberate.
    expect(appConfigHash(minimal())).toBe("0xaf02d519b23ec027b5e30b5ea994dabe9bd3b0fb86bd63acbb64714a7d4991ec");
  });

  it("leaves placement.bidWindow out while it is the default: older configs keep their hash", () => {
    const pinned = appConfigHash(minimal());
    const explicit = changed((c) => {
      c.placement = { bidWindow: "30s" };
    });
    expect(appConfigHash(explicit)).toBe(pinned);
    expect(appBidWindowSeconds(parseAppConfig(minimal()))).toBe(DEFAULT_BID_WINDOW_SECONDS);
    const longer = changed((c) => {
      c.placement = { bidWindow: "2m" };
    });
    expect(appBidWindowSeconds(parseAppConfig(longer))).toBe(120);
    expect(appConfigHash(longer)).not.toBe(pinned);
    expect(() => parseAppConfig(changed((c) => (c.placement = { bidWindow: "1s" })))).toThrow(/placement\.bidWindow/);
  });

  it("is the same for every way of writing the same config", () => {
    const a = changed((c) => {
      c.placement = { attributes: ["tee=sgx", "region=eu"], allowProviders: [PROVIDER_A, PROVIDER_B] };
    });
    const b = {
      health: { path: "/healthz", failuresBeforeReplace: 3, type: "http", interval: "10s", timeout: 5 },
      funding: { keepFunded: 21_600, depositPerLease: "86_400_000" },
      price: { maxPerInstance: 1000 },
      placement: {
        allowProviders: [PROVIDER_B.toLowerCase(), PROVIDER_A],
        attributes: ["region=eu", "tee=sgx"],
        topK: 3,
        minFreeStake: "0",
      },
      instances: { maxPerProvider: 1, target: 2, min: 1 },
      version: 1,
    };
    expect(appConfigHash(b)).toBe(appConfigHash(a));
  });

  it("differs when anything that matters differs", () => {
    const base = appConfigHash(minimal());
    expect(appConfigHash(changed((c) => (c.instances.target = 3)))).not.toBe(base);
    expect(appConfigHash(changed((c) => (c.price.maxPerInstance = "999")))).not.toBe(base);
    expect(appConfigHash(changed((c) => (c.health.path = "/")))).not.toBe(base);
  });

  it("validates first: no hash for a config an autoscaler would refuse", () => {
    expect(() => appConfigHash(changed((c) => (c.instances.min = 5)))).toThrow(AppConfigError);
  });
});

describe("appConfigJsonSchema", () => {
  it("describes what an owner writes: strict objects, amounts as strings or integers", () => {
    const schema = appConfigJsonSchema() as Json;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(["version", "instances", "price", "funding", "health"]);
    expect(schema.properties.price.properties.maxPerInstance.anyOf.map((s: Json) => s.type)).toEqual([
      "string",
      "number",
    ]);
  });
});

describe("parseAppConfig of a parsed config", () => {
  it("gives the same config and hash (amounts may be bigint)", () => {
    const config = parseAppConfig(minimal());
    expect(parseAppConfig(config)).toEqual(config);
    expect(appConfigHash(config)).toBe(appConfigHash(minimal()));
  });
});
