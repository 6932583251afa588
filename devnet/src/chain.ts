/** A local chain: anvil with the contracts deployed on it, and viem clients that talk to it. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Deployment, withGasHeadroom } from "@podnet/sdk/protocol";
import { type Account, createPublicClient, createTestClient, createWalletClient, http } from "viem";
import { writeContract } from "viem/actions";
import { foundry } from "viem/chains";
import { startAnvil } from "./anvil.js";
import { deployContracts } from "./deploy.js";
import { freePort } from "./net.js";

/** A fresh anvil with the contracts deployed, as the harness uses it. */
export interface LocalChain {
  rpcUrl: string;
  deployment: Deployment;
  /** deployments/31337.json of this chain (what the worker, the indexer and the CLI read). */
  deploymentsFile: string;
  stop(): void;
}

/** The autoscaler network's heartbeat clock, in seconds (launch: 60 and 150). */
export interface NetworkClock {
  heartbeatPeriod: number;
  livenessWindow: number;
}

/**
 * anvil on a free port, then the contracts deployed the way `npm run deploy:local` does (60 s timelock), with the
 * deployment file and anvil's log in `dir`. `anvilArgs`: e.g. a larger block gas limit. `host`: the address anvil
 * listens on and `rpcUrl` names (default 127.0.0.1; a bridge address makes it reachable from pods, see Devnet's `host`).
 * `networkClock`: a faster autoscaler-network clock than the launch one, so tests see a node go dark in seconds.
 */
export async function startLocalChain(
  dir: string,
  { anvilArgs = [], host, networkClock }: { anvilArgs?: string[]; host?: string; networkClock?: NetworkClock } = {},
): Promise<LocalChain> {
  mkdirSync(dir, { recursive: true });
  const anvil = await startAnvil({ host, port: await freePort(), logFile: join(dir, "anvil.log"), args: anvilArgs });
  try {
    const { deployment, file } = await deployContracts({
      rpcUrl: anvil.rpcUrl,
      deploymentsDir: dir,
      broadcastDir: join(dir, "broadcast"),
      env: {
        ...process.env,
        TIMELOCK_DELAY: "60",
        ...(networkClock && {
          NETWORK_HEARTBEAT_PERIOD: String(networkClock.heartbeatPeriod),
          NETWORK_LIVENESS_WINDOW: String(networkClock.livenessWindow),
        }),
      },
    });
    return { rpcUrl: anvil.rpcUrl, deployment, deploymentsFile: file, stop: () => anvil.process.kill() };
  } catch (error) {
    anvil.process.kill();
    throw error;
  }
}

/** viem clients of a local chain: reads (receipts polled every 50 ms) and anvil's test actions. */
export function clients(chain: Pick<LocalChain, "rpcUrl">) {
  const viemChain = { ...foundry, rpcUrls: { default: { http: [chain.rpcUrl] } } };
  const transport = http(chain.rpcUrl);
  return {
    viemChain,
    client: createPublicClient({ chain: viemChain, transport, pollingInterval: 50 }),
    testClient: createTestClient({ chain: viemChain, transport, mode: "anvil" }),
  };
}

/**
 * A wallet client of `account` on a local chain. Its contract writes (also those of `getContract` handles built on it)
 * carry the protocol's gas headroom, as the SDK's and the worker's do: with an exact estimate, a call estimated in one
 * second and mined in the next can run out of gas (a settlement that starts paying out) and revert.
 */
export function walletClient<A extends Account>(chain: Pick<LocalChain, "rpcUrl">, account: A) {
  const { viemChain, client } = clients(chain);
  const wallet = createWalletClient({ account, chain: viemChain, transport: http(chain.rpcUrl) });
  return wallet.extend((base) => ({
    writeContract: (async (args: Parameters<typeof wallet.writeContract>[0]) => {
      const gas = args.gas ?? withGasHeadroom(await client.estimateContractGas({ ...args, account } as never));
      return writeContract(base, { ...args, gas } as never);
    }) as typeof wallet.writeContract,
  }));
}
