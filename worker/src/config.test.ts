import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { decodeAttribute, encodeAttribute } from "@podnet/sdk/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { attributeFromText, ConfigError, describeConfig, loadConfig, parseFlags } from "./config.js";

// anvil's first dev account: a well-formed key that guards nothing.
const KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "podnet-config-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(content: unknown, name = "worker.json") {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

/** The ConfigError message of a load that must fail. */
function failure(sources: Parameters<typeof loadConfig>[0]): string {
  try {
    loadConfig({ cwd: dir, ...sources });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("loadConfig succeeded");
}

describe("loadConfig", () => {
  it("starts the bidder addon by default; addons and alertMinGasWei from JSON, bad ones refused with the field", () => {
    const defaults = loadConfig({ env: { PODNET_PROVIDER_KEY: KEY }, cwd: dir });
    expect(defaults.addons).toEqual({ bidder: true, restart: true, restartDelayMs: 1000, maxRestartDelayMs: 60_000 });
    expect(defaults.alertMinGasWei).toBe(10n ** 16n);
    const config = loadConfig({
      env: {
        PODNET_PROVIDER_KEY: KEY,
        PODNET_ADDONS: JSON.stringify({ restart: false, alertWebhooks: { url: "https://hooks.example/x" } }),
        PODNET_ALERT_MIN_GAS_WEI: "5",
      },
      cwd: dir,
    });
    expect(config.addons).toMatchObject({
      bidder: true,
      restart: false,
      alertWebhooks: { url: "https://hooks.example/x" },
    });
    expect(config.alertMinGasWei).toBe(5n);
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_ADDONS: JSON.stringify({ biddr: true }) } })).toMatch(
      /^addons: .*"biddr"/,
    );
    expect(
      failure({
        env: { PODNET_PROVIDER_KEY: KEY, PODNET_ADDONS: JSON.stringify({ alertWebhooks: { url: "ftp://x" } }) },
      }),
    ).toMatch(/^addons\.alertWebhooks\.url: /);
  });

  it("takes podEgressAllow as JSON ip:port pairs, empty by default, refusing anything wider with the field named", () => {
    expect(loadConfig({ env: { PODNET_PROVIDER_KEY: KEY }, cwd: dir }).podEgressAllow).toEqual([]);
    const config = loadConfig({
      env: {
        PODNET_PROVIDER_KEY: KEY,
        PODNET_POD_EGRESS_ALLOW: JSON.stringify(["172.17.0.1:8545", "172.17.0.1:42069"]),
      },
      cwd: dir,
    });
    expect(config.podEgressAllow).toEqual([
      { ip: "172.17.0.1", port: 8545 },
      { ip: "172.17.0.1", port: 42069 },
    ]);
    const env = (list: string[]) => ({ PODNET_PROVIDER_KEY: KEY, PODNET_POD_EGRESS_ALLOW: JSON.stringify(list) });
    expect(failure({ env: env(["10.0.0.0/8:80"]) })).toMatch(/^podEgressAllow\.0: .*is not ipv4:port/m);
    expect(failure({ env: env(["169.254.169.254:80"]) })).toMatch(/^podEgressAllow\.0: .*cannot be allowed/m);
    expect(failure({ env: env(["10.201.3.1:8545"]) })).toMatch(
      /^podEgressAllow\.0: "10\.201\.3\.1:8545" is inside podNetworkPool 10\.200\.0\.0\/14/m,
    );
    expect(failure({ env: env(["172.17.0.1:8545", "172.17.0.1:8545"]) })).toMatch(
      /^podEgressAllow: lists an ip:port twice/m,
    );
  });

  it("takes publicIngressAddresses as a JSON list of IPs, refusing names, repeats and more than 8", () => {
    const env = (list: unknown) => ({
      PODNET_PROVIDER_KEY: KEY,
      PODNET_PUBLIC_INGRESS_ADDRESSES: JSON.stringify(list),
    });
    const config = loadConfig({ env: { ...env(["203.0.113.7", "2001:db8::7"]), PODNET_PUBLIC_INGRESS_PORT: "443" } });
    expect(config.publicIngressAddresses).toEqual(["203.0.113.7", "2001:db8::7"]);
    expect(config.publicIngressPort).toBe(443);
    expect(loadConfig({ env: { PODNET_PROVIDER_KEY: KEY } }).publicIngressAddresses).toEqual([]);
    expect(failure({ env: env(["pods.example.com"]) })).toMatch(
      /^publicIngressAddresses: .*"pods\.example\.com" is not an IPv4 or IPv6 address/m,
    );
    expect(failure({ env: env(["203.0.113.7", "203.0.113.7"]) })).toMatch(/^publicIngressAddresses: .*listed twice/m);
    const nine = [...Array(9).keys()].map((i) => `203.0.113.${i + 1}`);
    expect(failure({ env: env(nine) })).toMatch(/^publicIngressAddresses: /m);
  });

  it("serves the admin API on loopback only unless adminAllowPublic says otherwise", () => {
    const defaults = loadConfig({ env: { PODNET_PROVIDER_KEY: KEY } });
    expect(defaults).toMatchObject({
      adminEnabled: true,
      adminHost: "127.0.0.1",
      adminPort: 7071,
      adminAllowPublic: false,
    });
    expect(defaults.adminSessionTtlSec).toBe(12 * 3600);
    for (const host of ["0.0.0.0", "::", "192.168.1.5", "example.com"]) {
      expect(failure({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_ADMIN_HOST: host } })).toMatch(
        /^adminHost: ".*" is not a loopback address.*\(PODNET_ADMIN_HOST\)$/,
      );
    }
    const env = { PODNET_PROVIDER_KEY: KEY, PODNET_ADMIN_HOST: "0.0.0.0" };
    expect(loadConfig({ env: { ...env, PODNET_ADMIN_ALLOW_PUBLIC: "true" } }).adminHost).toBe("0.0.0.0");
    expect(loadConfig({ env: { ...env, PODNET_ADMIN_ENABLED: "false" } }).adminEnabled).toBe(false);
    expect(loadConfig({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_ADMIN_HOST: "::1" } }).adminHost).toBe("::1");
  });

  it("fills in every default when only the key is given", () => {
    const config = loadConfig({ argv: [], env: { PODNET_PROVIDER_KEY: KEY }, cwd: dir });
    expect(config.providerKey).toBe(KEY);
    expect(config.rpcUrl).toBe("http://127.0.0.1:8545");
    expect(config.apiHost).toBe("0.0.0.0");
    expect(config.apiPort).toBe(7070);
    expect(config.ingressPort).toBe(8080);
    expect(config.ingressDomain).toBe("pods.localhost");
    expect(config.tcpPortRange).toEqual([30000, 32767]);
    expect(config.pricing).toEqual({ perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 0n });
    expect(config.capacity).toEqual({ cpuMillis: 4000, memoryMiB: 8192, storageMiB: 100_000 });
    expect(config.attributes).toEqual([]);
    expect(config.stake).toBe(1000n * 10n ** 18n);
    expect(config.bidding).toEqual({ enabled: true, priceBps: 10_000 });
    expect(config.dataDir).toBe(join(homedir(), ".podnet-worker"));
    expect(config.deploymentsFile).toBeUndefined();
    expect(config.publicUrl).toBeUndefined();
    expect(config.logLevel).toBe("info");
  });

  it("lets the environment override the file and flags override both, field by field", () => {
    const file = writeConfig({ providerKey: KEY, apiPort: 1001, ingressPort: 2001, logLevel: "debug" });
    const fileOnly = loadConfig({ argv: ["--config", file], env: {}, cwd: dir });
    expect([fileOnly.apiPort, fileOnly.ingressPort, fileOnly.logLevel]).toEqual([1001, 2001, "debug"]);

    const env = { PODNET_API_PORT: "1002", PODNET_INGRESS_PORT: "2002" };
    const fileAndEnv = loadConfig({ argv: ["--config", file], env, cwd: dir });
    expect([fileAndEnv.apiPort, fileAndEnv.ingressPort, fileAndEnv.logLevel]).toEqual([1002, 2002, "debug"]);

    const all = loadConfig({ argv: ["--config", file, "--api-port", "1003"], env, cwd: dir });
    expect([all.apiPort, all.ingressPort, all.logLevel]).toEqual([1003, 2002, "debug"]);

    const flagWithEquals = loadConfig({ argv: [`--config=${file}`, "--api-port=1004"], env, cwd: dir });
    expect(flagWithEquals.apiPort).toBe(1004);
  });

  it("ignores empty environment variables", () => {
    const config = loadConfig({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_API_PORT: "" }, cwd: dir });
    expect(config.apiPort).toBe(7070);
  });

  it("finds the config file through PODNET_WORKER_CONFIG relative to cwd, and resolves paths against cwd", () => {
    mkdirSync(join(dir, "etc"));
    writeConfig({ providerKey: KEY, dataDir: "state", deploymentsFile: "deployments/31337.json" }, "etc/w.json");
    const config = loadConfig({ env: { PODNET_WORKER_CONFIG: "etc/w.json" }, cwd: dir });
    expect(config.dataDir).toBe(join(dir, "state"));
    expect(config.deploymentsFile).toBe(join(dir, "deployments/31337.json"));
    // --config wins over the variable.
    const other = writeConfig({ providerKey: KEY, apiPort: 9999 }, "other.json");
    const flagged = loadConfig({ argv: ["--config", other], env: { PODNET_WORKER_CONFIG: "etc/w.json" }, cwd: dir });
    expect(flagged.apiPort).toBe(9999);
    expect(flagged.dataDir).toBe(join(homedir(), ".podnet-worker"));
  });

  it("reads nested settings as JSON from the environment and flags", () => {
    const config = loadConfig({
      env: {
        PODNET_PROVIDER_KEY: KEY,
        PODNET_PRICING: JSON.stringify({ perCpuMilli: "5", perMemoryMiB: 6, perStorageMiB: "7", flat: "0" }),
        PODNET_CAPACITY: JSON.stringify({ cpuMillis: 2000, memoryMiB: "1024", storageMiB: 0 }),
        PODNET_ATTRIBUTES: JSON.stringify(["region=eu-west", "tier=gold"]),
        PODNET_BIDDING: JSON.stringify({ enabled: "false" }),
      },
      argv: ["--tcp-port-range", "[31000,31010]"],
      cwd: dir,
    });
    expect(config.pricing).toEqual({ perCpuMilli: 5n, perMemoryMiB: 6n, perStorageMiB: 7n, flat: 0n });
    expect(config.capacity).toEqual({ cpuMillis: 2000, memoryMiB: 1024, storageMiB: 0 });
    expect(config.attributes).toEqual(["region=eu-west", "tier=gold"]);
    expect(config.bidding).toEqual({ enabled: false, priceBps: 10_000 });
    expect(config.tcpPortRange).toEqual([31000, 31010]);
  });

  it("refuses a nested setting that is not JSON, naming the variable", () => {
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_PRICING: "{perCpuMilli: 1}" } })).toBe(
      "pricing (PODNET_PRICING): must be JSON",
    );
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY }, argv: ["--capacity", "big"] })).toBe(
      "capacity (--capacity): must be JSON",
    );
  });

  it("turns decimal amounts into bigints without losing digits", () => {
    const config = loadConfig({
      env: {
        PODNET_PROVIDER_KEY: KEY,
        PODNET_STAKE: "123456789012345678901234567890",
        PODNET_PRICING: JSON.stringify({
          perCpuMilli: "1000000000000000001",
          perMemoryMiB: 0,
          perStorageMiB: 9007199254740991,
          flat: "42",
        }),
      },
      cwd: dir,
    });
    expect(config.stake).toBe(123456789012345678901234567890n);
    expect(config.pricing).toEqual({
      perCpuMilli: 1000000000000000001n,
      perMemoryMiB: 0n,
      perStorageMiB: 9007199254740991n,
      flat: 42n,
    });
  });

  it("samples the event loop's lag every 10 ms unless told; a precision outside 1..1000 ms is refused by name", () => {
    expect(loadConfig({ env: { PODNET_PROVIDER_KEY: KEY }, cwd: dir }).metricsLoopPrecisionMs).toBe(10);
    const env = { PODNET_PROVIDER_KEY: KEY, PODNET_METRICS_LOOP_PRECISION_MS: "100" };
    expect(loadConfig({ env, cwd: dir }).metricsLoopPrecisionMs).toBe(100);
    for (const bad of ["0", "1001", "2.5", "often"]) {
      expect(failure({ env: { ...env, PODNET_METRICS_LOOP_PRECISION_MS: bad } })).toMatch(
        /^metricsLoopPrecisionMs: .*\(PODNET_METRICS_LOOP_PRECISION_MS\)$/,
      );
    }
  });

  it("refuses negative, fractional and imprecise amounts, naming the field and the source", () => {
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_STAKE: "-1" } })).toMatch(
      /^stake: must be a non-negative integer amount .*\(PODNET_STAKE\)$/,
    );
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY }, argv: ["--stake", "1.5"] })).toMatch(
      /^stake: must be a non-negative integer amount .*\(--stake\)$/,
    );
    const pricing = { perCpuMilli: 1.5, perMemoryMiB: 1, perStorageMiB: 1, flat: 0 };
    const file = writeConfig({ providerKey: KEY, pricing });
    expect(failure({ argv: ["--config", file] })).toMatch(
      new RegExp(`^pricing\\.perCpuMilli: must be a non-negative integer amount .*\\(config file ${file}\\)$`),
    );
    // JSON.parse has already rounded a number this large; the amount must come as a string.
    const big = writeConfig(`{"providerKey": "${KEY}", "stake": 1234567890123456789012}`, "big.json");
    expect(failure({ argv: ["--config", big] })).toMatch(/^stake: .*as strings \(config file .*big\.json\)$/);
  });

  it("names the source of a bad value: flag, variable or config file", () => {
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY }, argv: ["--api-port", "0"] })).toMatch(
      /^apiPort: .*\(--api-port\)$/,
    );
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_API_PORT: "http" } })).toMatch(
      /^apiPort: .*\(PODNET_API_PORT\)$/,
    );
    const file = writeConfig({ providerKey: KEY, apiPort: 70000 });
    expect(failure({ argv: ["--config", file] })).toBe(
      `apiPort: Too big: expected number to be <=65535 (config file ${file})`,
    );
  });

  it("reports every bad field, one per line", () => {
    const lines = failure({ env: { PODNET_API_PORT: "0", PODNET_LOG_LEVEL: "loud" } }).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines.some((l) => l.startsWith("providerKey: "))).toBe(true);
    expect(lines.some((l) => l.startsWith("apiPort: ") && l.endsWith("(PODNET_API_PORT)"))).toBe(true);
    expect(lines.some((l) => l.startsWith("logLevel: ") && l.endsWith("(PODNET_LOG_LEVEL)"))).toBe(true);
  });

  it("refuses a malformed provider key without echoing it", () => {
    const bad = `${KEY.slice(0, 64)}zz`;
    const fromEnv = failure({ env: { PODNET_PROVIDER_KEY: bad } });
    expect(fromEnv).toBe("providerKey: must be a 0x-prefixed 32-byte private key (PODNET_PROVIDER_KEY)");
    const fromFlag = failure({ env: {}, argv: ["--provider-key", KEY.slice(0, 40)] });
    expect(fromFlag).toBe("providerKey: must be a 0x-prefixed 32-byte private key (--provider-key)");
  });

  it("takes a WebSocket rpcSubscribeUrl and refuses any other scheme, naming the setting", () => {
    const config = loadConfig({
      env: { PODNET_PROVIDER_KEY: KEY, PODNET_RPC_SUBSCRIBE_URL: "wss://rpc.example.com/ws" },
      cwd: dir,
    });
    expect(config.rpcSubscribeUrl).toBe("wss://rpc.example.com/ws");
    expect(loadConfig({ env: { PODNET_PROVIDER_KEY: KEY }, cwd: dir }).rpcSubscribeUrl).toBeUndefined();
    const http = failure({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_RPC_SUBSCRIBE_URL: "http://127.0.0.1:8545" } });
    expect(http).toMatch(/^rpcSubscribeUrl: .*\(PODNET_RPC_SUBSCRIBE_URL\)$/);
  });

  it("says where to set a missing provider key", () => {
    const message = failure({ env: {} });
    expect(message).toMatch(/^providerKey: /);
    expect(message).toContain("PODNET_PROVIDER_KEY");
    expect(message).toContain("--provider-key");
  });

  it("refuses bad attributes, naming the entry", () => {
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_ATTRIBUTES: '["region"]' } })).toBe(
      'attributes.0: attribute "region": must be key=value (PODNET_ATTRIBUTES)',
    );
    const long = `region=${"x".repeat(26)}`; // 33 bytes
    expect(
      failure({ env: { PODNET_PROVIDER_KEY: KEY }, argv: ["--attributes", JSON.stringify(["a=b", long])] }),
    ).toMatch(/^attributes\.1: .*33 bytes; at most 32 .*\(--attributes\)$/);
    expect(() =>
      loadConfig({
        env: { PODNET_PROVIDER_KEY: KEY, PODNET_ATTRIBUTES: JSON.stringify([`region=${"x".repeat(25)}`]) },
      }),
    ).not.toThrow();
  });

  it("reads the listener limits and trusted proxies, refusing an entry that is not an address or range", () => {
    const config = loadConfig({
      env: {
        PODNET_PROVIDER_KEY: KEY,
        PODNET_TRUSTED_PROXIES: '["10.0.0.0/8", "::1"]',
        PODNET_HTTP_HEADERS_TIMEOUT_MS: "5000",
        PODNET_INGRESS_MAX_UPGRADES_PER_LEASE: "50",
      },
    });
    expect(config).toMatchObject({
      trustedProxies: ["10.0.0.0/8", "::1"],
      httpHeadersTimeoutMs: 5000,
      ingressMaxUpgradesPerLease: 50,
      nofile: 65_536,
      maxLogFollowsPerLease: 4,
    });
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_TRUSTED_PROXIES: '["lb.example"]' } })).toBe(
      'trustedProxies.0: "lb.example" is not an IP address or CIDR range (PODNET_TRUSTED_PROXIES)',
    );
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_NOFILE: "100" } })).toMatch(
      /^nofile: .*\(PODNET_NOFILE\)$/,
    );
  });

  it("knows acronym fields by their natural flag and variable names", () => {
    const fromFlag = loadConfig({
      env: { PODNET_PROVIDER_KEY: KEY },
      argv: ["--metadata-uri", "ipfs://meta"],
      cwd: dir,
    });
    expect(fromFlag.metadataURI).toBe("ipfs://meta");
    const fromEnv = loadConfig({ env: { PODNET_PROVIDER_KEY: KEY, PODNET_METADATA_URI: "ipfs://env" }, cwd: dir });
    expect(fromEnv.metadataURI).toBe("ipfs://env");
    expect(loadConfig({ env: { PODNET_PROVIDER_KEY: KEY }, argv: ["--tcp-bind-ip", "127.0.0.1"] }).tcpBindIp).toBe(
      "127.0.0.1",
    );
  });

  it("refuses unknown flags, flags without a value and stray arguments", () => {
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY }, argv: ["--api-prot", "1"] })).toBe("--api-prot: unknown flag");
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY }, argv: ["--api-port"] })).toBe("--api-port: needs a value");
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY }, argv: ["--config"] })).toBe("--config: needs a value");
    expect(failure({ env: { PODNET_PROVIDER_KEY: KEY }, argv: ["run"] })).toBe("run: unexpected argument");
  });

  it("refuses unknown settings in the config file, naming the setting and the file", () => {
    const file = writeConfig({ providerKey: KEY, apiPrt: 7071 });
    expect(failure({ argv: ["--config", file] })).toBe(`apiPrt: unknown setting (config file ${file})`);
    const nested = writeConfig({ providerKey: KEY, bidding: { enabled: true, price: 1 } }, "nested.json");
    expect(failure({ argv: ["--config", nested] })).toMatch(/^bidding: .*"price".*\(config file .*nested\.json\)$/);
  });

  it("refuses a config file that is missing, not JSON or not an object", () => {
    const notJson = writeConfig("apiPort = 7070", "worker.toml");
    expect(failure({ argv: ["--config", notJson] })).toMatch(new RegExp(`^config file ${notJson}: .*JSON`));
    const array = writeConfig([1, 2], "array.json");
    expect(failure({ argv: ["--config", array] })).toBe(`config file ${array}: must be a JSON object`);
    expect(failure({ argv: ["--config", "absent.json"] })).toMatch(
      new RegExp(`^config file ${join(dir, "absent.json")}: .*ENOENT`),
    );
  });
});

describe("parseFlags", () => {
  it("splits pairs and keeps the config file apart", () => {
    expect(parseFlags(["--api-port", "1", "--ingress-domain=pods.example", "--config", "c.json"])).toEqual({
      flags: { apiPort: "1", ingressDomain: "pods.example" },
      configFile: "c.json",
    });
    expect(parseFlags([])).toEqual({ flags: {} });
  });
});

describe("describeConfig", () => {
  it("never shows the key and prints amounts as decimal strings", () => {
    const config = loadConfig({
      env: { PODNET_PROVIDER_KEY: KEY, PODNET_STAKE: "123456789012345678901234567890" },
      cwd: dir,
    });
    const described = describeConfig(config);
    const text = JSON.stringify(described);
    expect(text).not.toContain(KEY);
    expect(text.toLowerCase()).not.toContain(KEY.slice(2).toLowerCase());
    expect(described.providerKey).toBe("(set, not shown)");
    expect(described.stake).toBe("123456789012345678901234567890");
    expect(described.pricing).toEqual({ perCpuMilli: "1000", perMemoryMiB: "100", perStorageMiB: "1", flat: "0" });
    expect(described.apiPort).toBe(7070);
    // The config itself still holds the key.
    expect(config.providerKey).toBe(KEY);
  });
});

describe("attributeFromText", () => {
  it("encodes key=value as the registry's bytes32", () => {
    const encoded = attributeFromText("region=eu-west");
    expect(encoded).toBe(encodeAttribute("region", "eu-west"));
    expect(encoded).toMatch(/^0x[0-9a-f]{64}$/);
    expect(decodeAttribute(encoded)).toEqual({ key: "region", value: "eu-west" });
  });

  it("refuses text that is not key=value", () => {
    expect(() => attributeFromText("region")).toThrow('attribute "region": must be key=value');
    expect(() => attributeFromText("=eu")).toThrow(/must be key=value/);
    expect(() => attributeFromText("region=")).toThrow(/non-empty/);
    expect(() => attributeFromText("Region=eu")).toThrow(/attribute key "Region"/);
    expect(() => attributeFromText(`region=${"x".repeat(26)}`)).toThrow(/33 bytes; at most 32/);
  });
});
