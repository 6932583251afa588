import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, loadConfig } from "./config.js";

const KEY = `0x${"ab".repeat(32)}`;
const VAULT = "0x00000000000000000000000000000000000000aa";
const base = {
  PODNET_AUTOSCALER_DEPLOYMENTS_FILE: "deployments/31337.json",
  PODNET_AUTOSCALER_INDEXER_URL: "http://127.0.0.1:42069",
  PODNET_AUTOSCALER_VAULT: VAULT,
  PODNET_AUTOSCALER_CONTROLLER_KEY: KEY,
};
const load = (env: Record<string, string>, argv: string[] = []) => loadConfig({ env, argv, cwd: "/srv/app" });
const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("autoscaler config", () => {
  it("reads the environment, lets flags win, resolves paths against cwd", () => {
    const config = load(base, ["--status-port", "7100", "--app-yaml=conf/app.yaml"]);
    expect(config.statusPort).toBe(7100);
    expect(config.appYaml).toBe("/srv/app/conf/app.yaml");
    expect(config.podYaml).toBe("/srv/app/pod.yaml");
    expect(config.deploymentsFile).toBe("/srv/app/deployments/31337.json");
    expect(config.vault).toBe("0x00000000000000000000000000000000000000AA");
    expect(config.controllerKey).toBe(KEY);
  });

  it("takes the sidecar's settings: a blob seed folder (resolved) and where *.localhost connects", () => {
    const config = load(base, ["--blob-seed-dir=seed", "--localhost-address", "172.17.0.1"]);
    expect(config.blobSeedDir).toBe("/srv/app/seed");
    expect(config.localhostAddress).toBe("172.17.0.1");
    expect(load(base).blobSeedDir).toBeUndefined();
    expect(load(base).localhostAddress).toBe("127.0.0.1");
    expect(failure(() => load(base, ["--localhost-address", "pods.example"]))).toMatch(
      /^localhostAddress: .*\(--localhost-address\)/,
    );
  });

  it("names the bad field and where it came from", () => {
    expect(failure(() => load({ ...base, PODNET_AUTOSCALER_VAULT: "0x12" }))).toMatch(
      /^vault: must be a 0x-prefixed 20-byte address \(PODNET_AUTOSCALER_VAULT\)/,
    );
    expect(failure(() => load(base, ["--status-port", "70000"]))).toMatch(/^statusPort: .*\(--status-port\)/);
    expect(failure(() => load(base, ["--nope", "1"]))).toBe("--nope: unknown flag");
    const { PODNET_AUTOSCALER_INDEXER_URL: _, ...noIndexer } = base;
    expect(failure(() => load(noIndexer))).toMatch(/^indexerUrl: .*set PODNET_AUTOSCALER_INDEXER_URL or --indexer-url/);
  });

  it("never takes the key on the command line, never echoes it, and requires one", () => {
    expect(failure(() => load(base, ["--controller-key", KEY]))).not.toContain(KEY);
    const bad = `0x${"cd".repeat(31)}`;
    expect(failure(() => load({ ...base, PODNET_AUTOSCALER_CONTROLLER_KEY: bad }))).not.toContain(bad);
    const { PODNET_AUTOSCALER_CONTROLLER_KEY: _, ...noKey } = base;
    expect(failure(() => load(noKey))).toMatch(/^controllerKey: required/);
    expect(JSON.stringify(describeConfig(load(base)))).not.toContain(KEY.slice(2));
  });

  it("reads the key from a file, and refuses a file that holds anything else without quoting it", () => {
    const dir = mkdtempSync(join(tmpdir(), "autoscaler-config-"));
    const { PODNET_AUTOSCALER_CONTROLLER_KEY: _, ...noKey } = base;
    writeFileSync(join(dir, "key"), `${KEY}\n`);
    expect(load(noKey, ["--controller-key-file", join(dir, "key")]).controllerKey).toBe(KEY);
    writeFileSync(join(dir, "bad"), "secret words\n");
    const message = failure(() => load(noKey, ["--controller-key-file", join(dir, "bad")]));
    expect(message).toMatch(/^controllerKeyFile: .*must hold a 0x-prefixed 32-byte private key/);
    expect(message).not.toContain("secret words");
    expect(failure(() => load(base, ["--controller-key-file", join(dir, "key")]))).toMatch(/not both/);
  });
});
