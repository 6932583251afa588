import {
  deriveEncryptionKeyPair,
  podnetMarketAbi,
  podnetTestTokenAbi,
  providerRegistryAbi,
} from "@podnet/sdk/protocol";
import { erc20Abi } from "viem";
import { connectChain } from "./chain/connect.js";
import { apiEndpoint, attributeFromText, type WorkerConfig } from "./config.js";
import { readProfile, readStake } from "./market/provider-profile.js";

/**
 * `podnet-worker register`: makes the chain match the config. Registers the provider (or updates its profile when
 * endpoint, key, prices, capacity or attributes differ), then stakes what is missing up to `stake`. Safe to repeat.
 */
export async function registerProvider(config: WorkerConfig, say: (line: string) => void = console.log) {
  const chain = await connectChain(config);
  const { podnetMarket, providerRegistry, paymentToken } = chain.deployment.contracts;
  const wanted = {
    endpoint: apiEndpoint(config),
    metadataURI: config.metadataURI,
    encryptionKey: deriveEncryptionKeyPair(config.providerKey).publicKeyHex,
    pricing: config.pricing,
    capacity: config.capacity,
    attributes: config.attributes.map(attributeFromText),
  };
  const current = await readProfile(chain);
  const send = async (label: string, hash: Promise<`0x${string}`>) => {
    const receipt = await chain.publicClient.waitForTransactionReceipt({ hash: await hash });
    if (receipt.status !== "success") throw new Error(`${label}: transaction reverted`);
    say(`${label}: ${receipt.transactionHash}`);
  };
  const write = chain.walletClient.writeContract;
  if (!current.registered) {
    await send(
      "registered",
      write({ address: providerRegistry.address, abi: providerRegistryAbi, functionName: "register", args: [wanted] }),
    );
  } else {
    const same =
      current.endpoint === wanted.endpoint &&
      current.encryptionKey.toLowerCase() === wanted.encryptionKey.toLowerCase() &&
      JSON.stringify(current.pricing, big) === JSON.stringify(wanted.pricing, big) &&
      JSON.stringify(current.capacity) === JSON.stringify(wanted.capacity) &&
      JSON.stringify(current.attributes) === JSON.stringify(wanted.attributes);
    if (!same) {
      await send(
        "profile updated",
        write({
          address: providerRegistry.address,
          abi: providerRegistryAbi,
          functionName: "updateProfile",
          args: [wanted],
        }),
      );
    } else {
      say("profile already up to date");
    }
  }
  const stake = await readStake(chain);
  const bonded = stake.free + stake.locked;
  if (bonded >= config.stake && !stake.jailed) {
    say(`stake: ${bonded} bonded (wanted ${config.stake})`);
    return;
  }
  // A jailed provider returns by staking again (any amount): top up at least 1 base unit.
  const missing = bonded >= config.stake ? 1n : config.stake - bonded;
  const balance = await chain.publicClient.readContract({
    address: paymentToken.address,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [chain.account.address],
  });
  if (balance < missing) {
    throw new Error(`stake: ${missing} more base units needed, the provider's wallet holds ${balance}`);
  }
  await send(
    "approved",
    write({
      address: paymentToken.address,
      abi: podnetTestTokenAbi,
      functionName: "approve",
      args: [podnetMarket.address, missing],
    }),
  );
  await send(
    "staked",
    write({ address: podnetMarket.address, abi: podnetMarketAbi, functionName: "stake", args: [missing] }),
  );
}

const big = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);
