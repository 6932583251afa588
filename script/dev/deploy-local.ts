/**
 * `npm run deploy:local`: makes sure a local chain answers (starting anvil on 127.0.0.1:8545 when none does),
 * deploys the contracts with contracts/script/Deploy.s.sol, and writes deployments/<chainId>.json from the
 * broadcast receipts (devnet's deployContracts, which every local chain of the harness uses too).
 *
 * Environment: RPC_URL (default http://127.0.0.1:8545), DEPLOYER_PRIVATE_KEY (default: anvil's first dev key,
 * accepted on chain 31337 only), DEPLOYMENTS_DIR (default deployments/), TIMELOCK_DELAY (default here: 60 s on chain
 * 31337, so a local chain can try governed changes quickly; the script's 2 days elsewhere), and PAYMENT_TOKEN,
 * TREASURY, ARBITER, GOVERNOR (see the forge script: required on any chain but 31337).
 */
import { join } from "node:path";
import { chainIdAt, deployContracts, repoRoot, startAnvil } from "@podnet/devnet";
import type { Hex } from "viem";

/** Starts anvil at `rpcUrl` when nothing answers there (and it is this machine's). */
async function ensureChain(rpcUrl: string): Promise<void> {
  if ((await chainIdAt(rpcUrl)) !== undefined) return;
  const url = new URL(rpcUrl);
  if (!["127.0.0.1", "localhost"].includes(url.hostname)) {
    throw new Error(`RPC_URL ${rpcUrl}: nothing answers, and only a local anvil can be started here`);
  }
  const logFile = join(repoRoot, ".podnet", "anvil.log");
  const { process: anvil } = await startAnvil({ port: Number(url.port || 8545), logFile, detached: true });
  console.log(`Started anvil on ${rpcUrl} (pid ${anvil.pid}, log ${logFile}); stop it with: kill ${anvil.pid}`);
}

async function main() {
  const rpcUrl = process.env.RPC_URL ?? "http://127.0.0.1:8545";
  await ensureChain(rpcUrl);
  const { deployment, file } = await deployContracts({
    rpcUrl,
    privateKey: process.env.DEPLOYER_PRIVATE_KEY as Hex | undefined,
    deploymentsDir: process.env.DEPLOYMENTS_DIR ?? join(repoRoot, "deployments"),
    verbose: true,
  });
  console.log(`Wrote ${file}`);
  for (const [entry, c] of Object.entries(deployment.contracts)) console.log(`  ${entry.padEnd(17)} ${c.address}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
