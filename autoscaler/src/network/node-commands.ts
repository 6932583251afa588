import { join } from "node:path";
import {
  createPodnetClient,
  deriveSelfEncryptionKey,
  exitAutoscalerNode,
  getAutoscalerNode,
  type PodnetClient,
  registerAutoscalerNode,
  withdrawAutoscalerNodeStake,
} from "@podnet/sdk";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { connectChain } from "../chain-connection.js";
import { ConfigError, loadKey } from "../config.js";
import { configNames, readConfigSources } from "../config-sources.js";

/**
 * `podnet-autoscaler node register|exit|withdraw`: the node's own transactions on the AutoscalerNetwork, with the node
 * key from the same sources as `node run` (never a flag) and the chain from `--rpc-url` / `--deployments-file`.
 */

const connectionFields = ["rpcUrl", "deploymentsFile"] as const;
const registerFields = ["endpoint", "stake", "dnsIpv4", "dnsIpv6"] as const;

async function nodeClient(
  argv: string[],
  env: NodeJS.ProcessEnv,
  extra: readonly string[],
  /** Checks the command's own flags before anything is read from the chain. */
  validate: (flags: Record<string, string>) => void = () => undefined,
) {
  const { key, flags } = loadKey("nodeKey", { argv, env }, [...connectionFields, ...extra]);
  validate(flags);
  // The connection settings may come from the environment like `node run`'s.
  const { merged } = readConfigSources({
    fields: connectionFields,
    names: configNames("AUTOSCALER"),
    argv: [],
    env,
    fail: (message) => new ConfigError(message),
  });
  const rpcUrl = flags.rpcUrl ?? (merged.rpcUrl as string | undefined) ?? "http://127.0.0.1:8545";
  // Unset: connectChain takes the deployment @podnet/sdk knows for the RPC's chain.
  const deploymentsFile = flags.deploymentsFile ?? (merged.deploymentsFile as string | undefined);
  const connection = await connectChain({ rpcUrl, deploymentsFile, key });
  const client: PodnetClient = createPodnetClient({
    publicClient: connection.publicClient,
    walletClient: connection.walletClient,
    deployment: connection.deployment,
    blobCacheDir: join(process.cwd(), ".podnet-node-unused-blobs"),
  });
  return { client, key, flags, node: privateKeyToAccount(key).address };
}

/** The node's X25519 public key: what apps' content keys are wrapped to (derived from a signature of the node key). */
export async function nodeEncryptionKey(key: Hex): Promise<Hex> {
  const account = privateKeyToAccount(key);
  return (await deriveSelfEncryptionKey((message) => account.signMessage({ message }))).publicKeyHex as Hex;
}

export async function runNodeCommand(
  command: string,
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  switch (command) {
    case "register": {
      const { client, key, flags, node } = await nodeClient(argv, env, registerFields, (flags) => {
        if (flags.endpoint === undefined) throw new ConfigError("endpoint: required (--endpoint https://node.example)");
        if (flags.stake === undefined || !/^[0-9]{1,30}$/.test(flags.stake)) {
          throw new ConfigError("stake: required, token base units as a whole number (--stake 1000000)");
        }
      });
      const { txHash } = await registerAutoscalerNode(client, {
        endpoint: flags.endpoint as string,
        encryptionKey: await nodeEncryptionKey(key),
        stake: BigInt(flags.stake as string),
        ...(flags.dnsIpv4 === undefined ? {} : { dnsIpv4: flags.dnsIpv4 }),
        ...(flags.dnsIpv6 === undefined ? {} : { dnsIpv6: flags.dnsIpv6 }),
      });
      return `registered node ${node} (tx ${txHash})`;
    }
    case "key": {
      // Public: what an owner's handover wraps the app's content keys to (also registered as encryptionKey).
      return nodeEncryptionKey(loadKey("nodeKey", { argv, env }).key);
    }
    case "exit": {
      const { client, node } = await nodeClient(argv, env, []);
      const { txHash } = await exitAutoscalerNode(client);
      const { exitAt } = await getAutoscalerNode(client, { node });
      return `node ${node} is exiting (tx ${txHash}); its stake can be withdrawn from ${new Date(exitAt * 1000).toISOString()}`;
    }
    case "withdraw": {
      const { client, node } = await nodeClient(argv, env, []);
      const { txHash } = await withdrawAutoscalerNodeStake(client);
      return `node ${node} withdrew its stake (tx ${txHash})`;
    }
    default:
      throw new ConfigError(`node ${command}: unknown command (run, config, register, key, exit, withdraw)`);
  }
}
