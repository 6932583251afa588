import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, describeConfig, loadKey, loadNodeConfig } from "../config.js";

const KEY = `0x${"cd".repeat(32)}`;
const base = {
  PODNET_AUTOSCALER_DEPLOYMENTS_FILE: "deployments/31337.json",
  PODNET_AUTOSCALER_INDEXER_URL: "http://127.0.0.1:42069",
  PODNET_AUTOSCALER_NODE_KEY: KEY,
};
const load = (env: Record<string, string>, argv: string[] = []) => loadNodeConfig({ env, argv, cwd: "/srv/node" });
const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("network node config", () => {
  it("has the node's defaults, lets flags win over the environment, resolves paths against cwd", () => {
    const config = load(base, ["--data-dir", "data", "--reconcile-interval-sec=2"]);
    expect(config.apiHost).toBe("127.0.0.1");
    expect(config.apiPort).toBe(7100);
    expect(config.dataDir).toBe("/srv/node/data");
    expect(config.deploymentsFile).toBe("/srv/node/deployments/31337.json");
    expect(config.reconcileIntervalSec).toBe(2);
    expect(config.nodeKey).toBe(KEY);
    expect(load({ ...base, PODNET_AUTOSCALER_API_PORT: "7200" }, ["--api-port", "7300"]).apiPort).toBe(7300);
  });

  it("reads the key from nodeKeyFile, refuses it as a flag, refuses both sources, never shows it", () => {
    const dir = mkdtempSync(join(tmpdir(), "podnet-node-config-"));
    const file = join(dir, "node.key");
    writeFileSync(file, `${KEY}\n`, { mode: 0o600 });
    const { PODNET_AUTOSCALER_NODE_KEY: _, ...withoutKey } = base;
    expect(load(withoutKey, ["--node-key-file", file]).nodeKey).toBe(KEY);
    expect(failure(() => load(withoutKey, ["--node-key", KEY]))).toMatch(
      /--node-key: not accepted on the command line/,
    );
    expect(failure(() => load(base, ["--node-key-file", file]))).toMatch(/^nodeKey: give PODNET_AUTOSCALER_NODE_KEY/);
    const missing = failure(() => load(withoutKey));
    expect(missing).toMatch(/^nodeKey: required/);
    writeFileSync(file, "not a key\n");
    const bad = failure(() => load(withoutKey, ["--node-key-file", file]));
    expect(bad).toMatch(/^nodeKeyFile: .*must hold a 0x-prefixed 32-byte private key/);
    expect(bad).not.toContain("not a key");
    const shown = JSON.stringify(describeConfig(load(base)));
    expect(shown).not.toContain(KEY.slice(2));
    expect(shown).toContain("(set, not shown)");
  });

  it("names the bad field and its source, never the value; the standalone's fields are not the node's", () => {
    expect(failure(() => load({ ...base, PODNET_AUTOSCALER_API_PORT: "70000" }))).toMatch(
      /^apiPort: .*\(PODNET_AUTOSCALER_API_PORT\)/,
    );
    expect(failure(() => load(base, ["--localhost-address", "nowhere"]))).toMatch(
      /^localhostAddress: .*\(--localhost-address\)/,
    );
    expect(failure(() => load({ ...base, PODNET_AUTOSCALER_INDEXER_URL: "" }))).toMatch(/^indexerUrl: /);
    expect(failure(() => load(base, ["--vault", "0x00000000000000000000000000000000000000aa"]))).toBe(
      "--vault: unknown flag",
    );
  });

  it("loads a key alone with a command's own flags (node register)", () => {
    const { key, flags } = loadKey(
      "nodeKey",
      { env: { PODNET_AUTOSCALER_NODE_KEY: KEY }, argv: ["--endpoint", "http://n"] },
      ["endpoint"],
    );
    expect(key).toBe(KEY);
    expect(flags).toEqual({ endpoint: "http://n" });
    expect(failure(() => loadKey("nodeKey", { env: {}, argv: ["--node-key", KEY] }))).toMatch(/not accepted/);
  });
});
