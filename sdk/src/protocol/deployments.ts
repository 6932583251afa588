import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Address, isAddress } from "viem";

/** Names of the deployed contracts in deployments/<chainId>.json. */
export const contractNames = [
  "paymentToken",
  "accessManager",
  "timelock",
  "providerRegistry",
  "podnetMarket",
  "disputeCourt",
  /** Creates apps (AppVault clones); the vault implementation is its `implementation()`. */
  "appVaultFactory",
  /** The registry of autoscaler nodes serving network-mode apps (docs/autoscaler-network.md). */
  "autoscalerNetwork",
] as const;
export type ContractName = (typeof contractNames)[number];

export type DeployedContract = {
  /** Solidity contract name, e.g. "PodnetMarket". */
  name: string;
  address: Address;
  /** Block the contract was created in. */
  blockNumber: number;
};

/** What `npm run deploy:local` writes to deployments/<chainId>.json. */
export type Deployment = {
  chainId: number;
  /** First block of the deployment: indexers start here. */
  deployBlock: number;
  deployer: Address;
  contracts: Record<ContractName, DeployedContract>;
};

function fail(field: string, reason: string): never {
  throw new Error(`deployment: ${field} ${reason}`);
}

function blockNumber(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    fail(field, "must be a non-negative integer");
  }
  return value;
}

function address(value: unknown, field: string): Address {
  if (typeof value !== "string" || !isAddress(value)) fail(field, "must be a 0x-prefixed 20-byte address");
  return value;
}

/** Validates a parsed deployments/<chainId>.json; errors name the bad field. */
export function parseDeployment(json: unknown): Deployment {
  if (typeof json !== "object" || json === null) fail("", "must be a JSON object");
  const raw = json as Record<string, unknown>;
  const chainId = raw.chainId;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    fail("chainId", "must be a positive integer");
  }
  if (typeof raw.contracts !== "object" || raw.contracts === null) fail("contracts", "must be an object");
  const rawContracts = raw.contracts as Record<string, unknown>;
  const contracts = {} as Record<ContractName, DeployedContract>;
  for (const key of contractNames) {
    const entry = rawContracts[key];
    if (typeof entry !== "object" || entry === null) fail(`contracts.${key}`, "is missing");
    const { name, address: addr, blockNumber: block } = entry as Record<string, unknown>;
    if (typeof name !== "string" || name.length === 0) fail(`contracts.${key}.name`, "must be a non-empty string");
    contracts[key] = {
      name,
      address: address(addr, `contracts.${key}.address`),
      blockNumber: blockNumber(block, `contracts.${key}.blockNumber`),
    };
  }
  return {
    chainId,
    deployBlock: blockNumber(raw.deployBlock, "deployBlock"),
    deployer: address(raw.deployer, "deployer"),
    contracts,
  };
}

/**
 * The deployments folder that travels with the SDK: the repository's `deployments/` (where `npm run deploy:local`
 * writes), or the installed `@podnet/sdk` package's own, which ships the public deployments. This module sits three
 * levels below either root (sdk/src/protocol in the repository, dist/src/protocol in the package), so one rule finds
 * both; the CLI and the worker default to it. A function, not a constant: bundlers and loaders that leave
 * `import.meta.dirname` undefined (the indexer's) must still load this module.
 */
export function knownDeploymentsDir(): string {
  return join(import.meta.dirname, "..", "..", "..", "deployments");
}

/** The deployment file of `chainId` in {@link knownDeploymentsDir} (it may not exist: none is known for that chain). */
export function knownDeploymentFile(chainId: number): string {
  return join(knownDeploymentsDir(), `${chainId}.json`);
}

/**
 * The deployment a daemon works against on chain `chainId` (what its RPC serves): `file` when its config names one,
 * else the one the SDK knows for the chain ({@link knownDeploymentFile}). Refuses, naming the setting
 * `deploymentsFile` and its environment variable `env`, a file that does not exist (and says how to set one when none
 * is known) and a file of another chain (every address in it would be wrong). The worker and the autoscaler use it.
 */
export function readDeploymentFor(chainId: number, file: string | undefined, env: string): Deployment {
  const path = file ?? knownDeploymentFile(chainId);
  if (!existsSync(path)) {
    throw new Error(
      file
        ? `deploymentsFile: ${path} does not exist`
        : `deploymentsFile: no deployment of chain ${chainId} is known (${path} does not exist); set deploymentsFile ` +
            `(${env}) to the contracts' addresses, or in the repository run \`npm run deploy:local\``,
    );
  }
  const deployment = parseDeployment(JSON.parse(readFileSync(path, "utf8")));
  if (deployment.chainId !== chainId) {
    throw new Error(`deploymentsFile: ${path} is for chain ${deployment.chainId}, the RPC serves chain ${chainId}`);
  }
  return deployment;
}
