/**
 * The deployment of the contracts to a chain, as `npm run deploy:local` and every local chain of the harness do it:
 * contracts/script/Deploy.s.sol through `forge script`, then deployments/<chainId>.json written from the broadcast
 * receipts.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Deployment, parseDeployment } from "@podnet/sdk/protocol";
import { type Address, getAddress, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_DEPLOYER_KEY } from "./accounts.js";
import { chainIdAt, LOCAL_CHAIN_ID } from "./anvil.js";
import { bin, repoRoot } from "./paths.js";

type BroadcastRun = {
  transactions: { transactionType: string; contractName: string | null; contractAddress: Address | null }[];
  receipts: { blockNumber: string; contractAddress: Address | null; status: string }[];
};

/** deployments/<chainId>.json keys of the contracts the script creates. */
const keyOf: Record<string, string> = {
  PodnetTestToken: "paymentToken",
  AccessManager: "accessManager",
  TimelockController: "timelock",
  ProviderRegistry: "providerRegistry",
  PodnetMarket: "podnetMarket",
  DisputeCourt: "disputeCourt",
  AppVaultFactory: "appVaultFactory",
  AutoscalerNetwork: "autoscalerNetwork",
};

/** Options of {@link deployContracts}. */
export type DeployOptions = {
  rpcUrl: string;
  /** The deployer's key. Default: anvil's first dev key, refused on any chain but 31337. */
  privateKey?: Hex;
  /** Where `<chainId>.json` goes; created when missing. */
  deploymentsDir: string;
  /**
   * The environment Deploy.s.sol reads (PAYMENT_TOKEN, TREASURY, TIMELOCK_DELAY, ARBITER, GOVERNOR). Default:
   * this process's; on chain 31337 TIMELOCK_DELAY defaults to 60 s, so a local chain can try governed changes quickly
   * (elsewhere the script requires at least 2 days and explicit addresses).
   */
  env?: NodeJS.ProcessEnv;
  /** Print forge's output as it runs (the deploy:local command); otherwise it is kept for the error message. */
  verbose?: boolean;
  /**
   * Where forge writes its broadcast log, which the deployment file is read from; default contracts/broadcast. Each
   * chain of the harness has its own: deployments running at once (parallel test files, a test's two chains) must
   * not read each other's half-written log.
   */
  broadcastDir?: string;
};

/** Deploys the contracts with Deploy.s.sol; resolves with the deployment and the file it was written to. */
export async function deployContracts({
  rpcUrl,
  privateKey = ANVIL_DEPLOYER_KEY,
  deploymentsDir,
  env = process.env,
  verbose = false,
  broadcastDir = join(repoRoot, "contracts", "broadcast"),
}: DeployOptions): Promise<{ deployment: Deployment; file: string }> {
  const chainId = await chainIdAt(rpcUrl);
  if (chainId === undefined) throw new Error(`no chain answers at ${rpcUrl}`);
  if (privateKey === ANVIL_DEPLOYER_KEY && chainId !== LOCAL_CHAIN_ID) {
    throw new Error(`chain ${chainId} is not a local chain: set DEPLOYER_PRIVATE_KEY (the anvil dev key is public)`);
  }
  const deployer = privateKeyToAccount(privateKey).address;

  await runForge(["script", "contracts/script/Deploy.s.sol:Deploy", "--rpc-url", rpcUrl, "--broadcast", "--slow"], {
    // The key goes through the environment, not the command line, so it never shows in a process list.
    env: {
      ...(chainId === LOCAL_CHAIN_ID ? { TIMELOCK_DELAY: "60" } : {}),
      ...env,
      DEPLOYER_PRIVATE_KEY: privateKey,
      FOUNDRY_BROADCAST: broadcastDir,
    },
    verbose,
  });

  const run = JSON.parse(
    readFileSync(join(broadcastDir, "Deploy.s.sol", String(chainId), "run-latest.json"), "utf8"),
  ) as BroadcastRun;
  const contracts: Record<string, { name: string; address: Address; blockNumber: number }> = {};
  for (const tx of run.transactions) {
    if (tx.transactionType !== "CREATE" || !tx.contractName || !tx.contractAddress) continue;
    const receipt = run.receipts.find((r) => r.contractAddress?.toLowerCase() === tx.contractAddress?.toLowerCase());
    if (receipt?.status !== "0x1") throw new Error(`deployment of ${tx.contractName} failed`);
    const entry = keyOf[tx.contractName];
    if (entry) {
      contracts[entry] = {
        name: tx.contractName,
        address: getAddress(tx.contractAddress),
        blockNumber: Number(BigInt(receipt.blockNumber)),
      };
    }
  }
  if (env.PAYMENT_TOKEN) {
    contracts.paymentToken = { name: "ERC20", address: getAddress(env.PAYMENT_TOKEN), blockNumber: 0 };
  }
  const deployBlock = Math.min(
    ...Object.entries(contracts)
      .filter(([entry]) => entry !== "paymentToken" || !env.PAYMENT_TOKEN)
      .map(([, c]) => c.blockNumber),
  );
  // Validate before writing: a half-written deployment file would mislead every other part.
  const deployment = parseDeployment({ chainId, deployBlock, deployer, contracts });

  mkdirSync(deploymentsDir, { recursive: true });
  const file = join(deploymentsDir, `${chainId}.json`);
  writeFileSync(file, `${JSON.stringify(deployment, null, 2)}\n`);
  return { deployment, file };
}

/**
 * Runs forge from the repository root without blocking this process: a test may serve the chain through an
 * in-process proxy, and other setup (image builds) goes on meanwhile.
 */
function runForge(args: string[], { env, verbose }: { env: NodeJS.ProcessEnv; verbose: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin("forge"), args, {
      cwd: repoRoot,
      env,
      stdio: ["ignore", verbose ? "inherit" : "pipe", verbose ? "inherit" : "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else
        reject(new Error(`forge ${args[0]} exited with ${code ?? signal}${output ? `:\n${output.slice(-4000)}` : ""}`));
    });
  });
}
