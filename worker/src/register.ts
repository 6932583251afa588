import {
  decodeIngress,
  deriveEncryptionKeyPair,
  encodeIngress,
  podnetMarketAbi,
  podnetTestTokenAbi,
  providerRegistryAbi,
} from "@podnet/sdk/protocol";
import { erc20Abi } from "viem";
import { type ChainContext, connectChain, waitForReceipt } from "./chain/connect.js";
import { apiEndpoint, attributeFromText, type WorkerConfig } from "./config.js";
import { readMarketParams, readProfile, readStake } from "./market/provider-profile.js";

/**
 * `podnet-worker register`: makes the chain match the config. Registers the provider (or updates its profile when
 * endpoint, key, prices, capacity or attributes differ), then stakes what is missing up to `stake` and, after a dark
 * report, leaves the jail once its cooldown is over (`ensureStake`). Safe to repeat.
 */
export async function registerProvider(config: WorkerConfig, say: (line: string) => void = console.log) {
  const chain = await connectChain(config);
  const { providerRegistry } = chain.deployment.contracts;
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
    const receipt = await waitForReceipt(chain, await hash);
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
  await ensurePublicIngress(chain, config, say);
  await ensureStake(chain, config, say);
}

/** The `register` step that publishes `publicIngressAddresses` (or withdraws a published ingress) when it differs. */
async function ensurePublicIngress(
  chain: ChainContext,
  config: Pick<WorkerConfig, "publicIngressAddresses" | "publicIngressPort" | "ingressPort">,
  say: (line: string) => void,
) {
  const registry = chain.deployment.contracts.providerRegistry.address;
  const [ipv4, ipv6, port] = await chain.publicClient.readContract({
    address: registry,
    abi: providerRegistryAbi,
    functionName: "getIngress",
    args: [chain.account.address],
  });
  const current = decodeIngress(ipv4, ipv6, port);
  const wanted =
    config.publicIngressAddresses.length === 0
      ? null
      : encodeIngress({
          addresses: config.publicIngressAddresses,
          port: config.publicIngressPort ?? config.ingressPort,
        });
  const wantedText = wanted && decodeIngress(wanted.ipv4, wanted.ipv6, wanted.port);
  if (JSON.stringify(current) === JSON.stringify(wantedText)) {
    if (current) say(`ingress already published: ${current.addresses.join(", ")} port ${current.port}`);
    return;
  }
  const hash = await chain.walletClient.writeContract({
    address: registry,
    abi: providerRegistryAbi,
    functionName: "setIngress",
    args: [wanted?.ipv4 ?? [], wanted?.ipv6 ?? [], wanted?.port ?? 0],
  });
  const receipt = await waitForReceipt(chain, hash);
  if (receipt.status !== "success") throw new Error("ingress: transaction reverted");
  say(
    wantedText
      ? `ingress published: ${wantedText.addresses.join(", ")} port ${wantedText.port}: ${hash}`
      : `ingress withdrawn: ${hash}`,
  );
}

/**
 * The stake step of `register`: tops the bonded stake up to `stake` and, for a provider jailed by a dark report,
 * leaves the jail with `unjail` once its cooldown is over (re-staking alone does not end a jail). `unjail` needs the
 * market's `minProviderStake` bonded, so a jailed provider is topped up to that at least. Before the cooldown is over
 * it throws, naming when it ends (the top-up is done already).
 */
export async function ensureStake(
  chain: ChainContext,
  config: Pick<WorkerConfig, "stake">,
  say: (line: string) => void = console.log,
) {
  const { podnetMarket, paymentToken } = chain.deployment.contracts;
  const send = async (label: string, hash: Promise<`0x${string}`>) => {
    const receipt = await waitForReceipt(chain, await hash);
    if (receipt.status !== "success") throw new Error(`${label}: transaction reverted`);
    say(`${label}: ${receipt.transactionHash}`);
  };
  const write = chain.walletClient.writeContract;
  const stake = await readStake(chain);
  const bonded = stake.free + stake.locked;
  let wanted = config.stake;
  if (stake.jailed) {
    const { minProviderStake } = await readMarketParams(chain);
    if (minProviderStake > wanted) wanted = minProviderStake;
  }
  if (bonded >= wanted) {
    say(`stake: ${bonded} bonded (wanted ${wanted})`);
  } else {
    const missing = wanted - bonded;
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
  if (!stake.jailed) return;
  // The jail of the last dark report, which ended epoch - 1.
  const record = await chain.publicClient.readContract({
    address: podnetMarket.address,
    abi: podnetMarketAbi,
    functionName: "darkRecord",
    args: [chain.account.address, BigInt(stake.epoch) - 1n],
  });
  const now = Number((await chain.publicClient.getBlock()).timestamp);
  const jailedUntil = Number(record.jailedUntil);
  if (now < jailedUntil) {
    throw new Error(
      `jailed: this provider was reported dark and may unjail from ${jailedUntil} (chain time, in ${jailedUntil - now} s); run \`podnet-worker register\` again then`,
    );
  }
  await send("unjailed", write({ address: podnetMarket.address, abi: podnetMarketAbi, functionName: "unjail" }));
}

const big = (_key: string, value: unknown) => (typeof value === "bigint" ? value.toString() : value);
