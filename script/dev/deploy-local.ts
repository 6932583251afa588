/**
 * `npm run deploy:local`: makes sure a local chain answers (starting anvil on 127.0.0.1:8545 when none does),
 * deploys the contracts with contracts/script/Deploy.s.sol, and writes deployments/<chainId>.json from the
 * broadcast receipts.
 *
 * Environment: RPC_URL (default http://127.0.0.1:8545), DEPLOYER_PRIVATE_KEY (default: anvil's first dev key,
 * accepted on chain 31337 only), DEPLOYMENTS_DIR (default deployments/), TIMELOCK_DELAY (default here: 60 s, so a
 * local chain can try governed changes quickly), and PAYMENT_TOKEN, TREASURY, ARBITER, GOVERNOR (see the forge script).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDeployment } from "@podnet/sdk";
import { type Address, getAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_DEPLOYER_KEY, bin, chainIdAt, repoRoot, startAnvil } from "../lib/chain.js";

const LOCAL_CHAIN_ID = 31337;

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
};

async function ensureChain(rpcUrl: string): Promise<number> {
  const chainId = await chainIdAt(rpcUrl);
  if (chainId !== undefined) return chainId;
  const url = new URL(rpcUrl);
  if (!["127.0.0.1", "localhost"].includes(url.hostname)) {
    throw new Error(`RPC_URL ${rpcUrl}: nothing answers, and only a local anvil can be started here`);
  }
  const logFile = join(repoRoot, ".podnet", "anvil.log");
  const { process: anvil } = await startAnvil({ port: Number(url.port || 8545), logFile, detached: true });
  console.log(`Started anvil on ${rpcUrl} (pid ${anvil.pid}, log ${logFile}); stop it with: kill ${anvil.pid}`);
  return LOCAL_CHAIN_ID;
}

async function main() {
  const rpcUrl = process.env.RPC_URL ?? "http://127.0.0.1:8545";
  const chainId = await ensureChain(rpcUrl);
  const key = process.env.DEPLOYER_PRIVATE_KEY ?? ANVIL_DEPLOYER_KEY;
  if (key === ANVIL_DEPLOYER_KEY && chainId !== LOCAL_CHAIN_ID) {
    throw new Error(`chain ${chainId} is not a local chain: set DEPLOYER_PRIVATE_KEY (the anvil dev key is public)`);
  }
  const deployer = privateKeyToAccount(key as `0x${string}`).address;

  execFileSync(
    bin("forge"),
    ["script", "contracts/script/Deploy.s.sol:Deploy", "--rpc-url", rpcUrl, "--broadcast", "--slow"],
    // The key goes through the environment, not the command line, so it never shows in a process list.
    {
      cwd: repoRoot,
      stdio: ["ignore", "inherit", "inherit"],
      env: { TIMELOCK_DELAY: "60", ...process.env, DEPLOYER_PRIVATE_KEY: key },
    },
  );

  const run = JSON.parse(
    readFileSync(join(repoRoot, "contracts/broadcast/Deploy.s.sol", String(chainId), "run-latest.json"), "utf8"),
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
  if (process.env.PAYMENT_TOKEN) {
    contracts.paymentToken = { name: "ERC20", address: getAddress(process.env.PAYMENT_TOKEN), blockNumber: 0 };
  }
  const deployBlock = Math.min(
    ...Object.entries(contracts)
      .filter(([entry]) => entry !== "paymentToken" || !process.env.PAYMENT_TOKEN)
      .map(([, c]) => c.blockNumber),
  );
  // Validate before writing: a half-written deployment file would mislead every other part.
  const deployment = parseDeployment({ chainId, deployBlock, deployer, contracts });

  const dir = process.env.DEPLOYMENTS_DIR ?? join(repoRoot, "deployments");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${chainId}.json`);
  writeFileSync(file, `${JSON.stringify(deployment, null, 2)}\n`);
  console.log(`Wrote ${file}`);
  for (const [entry, c] of Object.entries(deployment.contracts)) console.log(`  ${entry.padEnd(17)} ${c.address}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
