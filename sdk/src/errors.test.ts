import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import { UsageError } from "./cli/args.js";
import { CliError } from "./cli/errors.js";
import { contractError } from "./errors.js";
import * as sdk from "./index.js";
import { PodnetError } from "./protocol/index.js";

// One instance of every error class the sdk package defines, with the message it had before the common base.
const address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const examples: [PodnetError, string, string][] = [
  [new sdk.WalletRequiredError("createLease"), "WALLET_REQUIRED", "createLease: needs a signer; "],
  [new sdk.InvalidParameterError("deposit", "must be positive"), "INVALID_PARAMETER", "deposit: must be positive"],
  [new sdk.IndexerError(400, "bad query", "http://i/search"), "INDEXER", "indexer: bad query (http://i/search)"],
  [
    new sdk.ProviderApiError(409, "full", [], "POST", "http://p/q"),
    "PROVIDER_API",
    "provider API POST http://p/q: 409 full",
  ],
  [new sdk.QuoteVerificationError("signature", "bad", address), "QUOTE_VERIFICATION", `quote from ${address} failed`],
  [new sdk.InsufficientBalanceError(address, 1n, 2n), "INSUFFICIENT_BALANCE", `${address} holds 1 token base units`],
  [new sdk.InsufficientAllowanceError(address, address, 1n, 2n), "INSUFFICIENT_ALLOWANCE", `${address} may spend 1`],
  [new sdk.ContractError("topUp", "X", [], "reverted with X()"), "CONTRACT", "topUp: reverted with X()"],
  [new sdk.NotFoundError("lease", "7"), "NOT_FOUND", "lease 7: not found"],
  [new sdk.NotPublisherError("lease 7", address, address), "NOT_PUBLISHER", `lease 7 belongs to publisher ${address}`],
  [new sdk.SpecHashMismatchError(7n, "0x01", "0x02"), "SPEC_HASH_MISMATCH", "manifest hashes to 0x02, but lease 7"],
  [new sdk.BlobNotFoundError("bafk", "gone"), "BLOB_NOT_FOUND", "blob bafk: gone"],
  [new sdk.BlobCacheError("unreadable"), "BLOB_CACHE", "blob cache: unreadable"],
  [new sdk.BlobSizeError("over 2 GiB"), "BLOB_CACHE", "blob cache: over 2 GiB"],
  [new sdk.PodFailedError(7n, "the lease has ended"), "POD_FAILED", "lease 7: the lease has ended"],
  [new sdk.TimeoutError("the pod", 5), "TIMEOUT", "timed out after 5 ms waiting for the pod"],
  [new sdk.ManifestError([{ path: "version", message: "bad" }]), "MANIFEST", "version: bad"],
  [
    new sdk.PodSpecError("pod.yaml", [{ path: "version", message: "bad", line: 1, column: 10 }]),
    "MANIFEST",
    "pod.yaml:1:10 version: bad",
  ],
  [
    new sdk.ImportError(
      "compose.yml",
      [{ file: "compose.yml", path: "services.web.build", message: "bad", line: 3, column: 5 }],
      [],
    ),
    "MANIFEST",
    "compose.yml:3:5 services.web.build: bad",
  ],
  [new sdk.AppConfigError([{ path: "instances.min", message: "bad" }]), "APP_CONFIG", "instances.min: bad"],
  [
    new sdk.AppYamlError("app.yaml", [{ path: "instances.min", message: "bad", line: 3, column: 3 }]),
    "APP_CONFIG",
    "app.yaml:3:3 instances.min: bad",
  ],
  [new sdk.DecryptionError("blob: bad magic"), "DECRYPTION", "blob: bad magic"],
  [new sdk.RequestAuthError("x-podnet-nonce: missing"), "REQUEST_AUTH", "x-podnet-nonce: missing"],
  [
    new sdk.KeystoreError("keystore: wrong password (MAC mismatch)"),
    "KEYSTORE",
    "keystore: wrong password (MAC mismatch)",
  ],
  [new UsageError("--durration: unknown option"), "USAGE", "--durration: unknown option"],
  [new CliError("interrupted", 130), "CLI", "interrupted"],
];

describe("the sdk package's errors", () => {
  it("all derive from PodnetError, with their name, code and unchanged message", () => {
    for (const [error, code, message] of examples) {
      expect(error, error.name).toBeInstanceOf(PodnetError);
      expect(error.name).toBe(error.constructor.name);
      expect(error.code, error.name).toBe(code);
      expect(error.message.startsWith(message), `${error.name}: ${error.message}`).toBe(true);
      expect(error.shortMessage).toBe(error.message);
      expect(error.docsPath, error.name).toMatch(/^docs\/[a-z-]+\.md#[a-z-]+$/);
    }
  });

  it("covers every error class @podnet/sdk exports", () => {
    const exported = Object.entries(sdk)
      .filter(([name, value]) => typeof value === "function" && name.endsWith("Error"))
      .map(([name]) => name)
      .sort();
    const tested = [...new Set(examples.map(([error]) => error.name))].filter((name) => name in sdk);
    expect(exported).toEqual(["PodnetError", ...tested].sort());
  });

  it("no class in sdk/src extends Error, TypeError or RangeError directly, but PodnetError", () => {
    const root = import.meta.dirname;
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) return sources(path);
        return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
      });
    const direct = sources(root).flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/class (\w+) extends (Error|TypeError|RangeError)\b/g)].map(
        (match) => `${relative(root, file)}: ${match[1]}`,
      ),
    );
    expect(direct).toEqual(["protocol/errors.ts: PodnetError"]);
  });

  it("points docsPath at a heading that exists", () => {
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, "")
        .replace(/ /g, "-");
    for (const [error] of examples) {
      const [file, anchor] = (error.docsPath as string).split("#");
      const text = readFileSync(join(import.meta.dirname, "..", "..", file as string), "utf8");
      const anchors = [...text.matchAll(/^#+ (.+)$/gm)].map((match) => slug(match[1] as string));
      expect(anchors, `${error.name}: ${error.docsPath}`).toContain(anchor);
    }
  });

  it("ProviderApiError lists the provider's field issues as metaMessages", () => {
    const issues = [{ path: "containers[0].image", message: "not found" }];
    const error = new sdk.ProviderApiError(400, "bad manifest", issues, "PUT", "http://p/x", { cause: new Error("x") });
    expect(error.metaMessages).toEqual(["containers[0].image: not found"]);
    expect(error.details).toBe("x");
    expect(error.issues).toBe(issues);
  });

  it("contractError turns a viem revert into a ContractError whose walk() finds the revert", async () => {
    const { ContractFunctionRevertedError, ContractFunctionExecutionError, parseAbi } = await import("viem");
    const abi = parseAbi(["error MarketDepositTooLow(uint256 deposit, uint256 minimum)"]);
    const revert = new ContractFunctionRevertedError({
      abi,
      functionName: "createLease",
      data: "0x",
    });
    const viemError = new ContractFunctionExecutionError(revert, { abi, functionName: "createLease" });
    const error = contractError("createLease", viemError);
    expect(error).toBeInstanceOf(sdk.ContractError);
    expect((error as sdk.ContractErrorType).walk((e) => e instanceof ContractFunctionRevertedError)).toBe(revert);
  });

  it("every action file exports its *ErrorType, and @podnet/sdk exports it too", () => {
    const root = import.meta.dirname;
    const index = readFileSync(join(root, "index.ts"), "utf8");
    const missing = readdirSync(join(root, "actions"))
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
      .flatMap((file) => {
        const action = file.slice(0, -3).replace(/(^|-)([a-z])/g, (_, __, letter: string) => letter.toUpperCase());
        const type = `${action}ErrorType`;
        const source = readFileSync(join(root, "actions", file), "utf8");
        const problems: string[] = [];
        if (!source.includes(`export type ${type} =`)) problems.push(`actions/${file} does not export ${type}`);
        if (!index.includes(`type ${type},`)) problems.push(`index.ts does not export ${type}`);
        return problems;
      });
    expect(missing).toEqual([]);
  });

  it("narrows an action's error union by name, as viem's do", () => {
    const error = new sdk.QuoteVerificationError("signature", "bad", address) as sdk.GetQuoteErrorType;
    expectTypeOf<sdk.QuoteVerificationErrorType>().toExtend<sdk.GetQuoteErrorType>();
    expectTypeOf<sdk.ProviderApiErrorType>().toExtend<sdk.GetQuoteErrorType>();
    expectTypeOf<sdk.ManifestErrorType>().toExtend<sdk.DeployPodErrorType>();
    expectTypeOf<sdk.PodnetErrorType>().toExtend<sdk.DeployPodErrorType>();
    expectTypeOf<sdk.InsufficientBalanceErrorType>().toExtend<sdk.CreateLeaseErrorType>();
    expectTypeOf<sdk.TimeoutErrorType>().toExtend<sdk.WaitForPodErrorType>();
    if (error.name === "QuoteVerificationError") {
      expectTypeOf(error.check).toEqualTypeOf<sdk.QuoteCheck>();
      expect(error.check).toBe("signature");
    } else {
      expect.unreachable();
    }
  });
});
