/**
 * A scripted marketplace history on a fresh local deployment, for the indexer's end-to-end test: three providers,
 * two publishers, direct leases from signed quotes, the reverse market, withdrawals, closes, a dark provider, three
 * disputes (one on a lease that had already closed), collateral released after the dispute window, late heartbeats
 * (dark gaps), a jail left with unjail, and a bid evicted from a full order. Every write goes through viem with the
 * SDK's ABIs and waits for a successful receipt.
 */
import {
  appVaultAbi,
  disputeCourtAbi,
  encodeAttribute,
  type Pricing,
  podnetMarketAbi,
  podnetTestTokenAbi,
  providerRegistryAbi,
  type Quote,
  quoteTypedData,
  type Resources,
  readStandingBidders,
  timelockControllerAbi,
} from "@podnet/sdk/protocol";
import {
  type Abi,
  type Address,
  decodeErrorResult,
  encodeFunctionData,
  getContract,
  type Hex,
  keccak256,
  parseEther,
  stringToHex,
  type TransactionReceipt,
  zeroHash,
} from "viem";
import { devAccount } from "./accounts.js";
import { clients, type LocalChain, walletClient } from "./chain.js";
import { contractHandles, contracts } from "./contracts.js";

/** The pod every direct lease and order of the scenario runs. */
export const podResources: Resources = { cpuMillis: 500, memoryMiB: 512, storageMiB: 1024 };

const spec = (name: string): Hex => keccak256(stringToHex(name));

/**
 * Why a mined transaction reverted: the same call replayed at its own block (automine: a reverted transaction is
 * alone in its block and changed nothing the call reads, and the replay sees the same timestamp), decoded with the
 * contracts' ABIs. A receipt says only "reverted"; a failed scenario should say which rule refused it.
 */
async function revertReason(client: ReturnType<typeof clients>["client"], receipt: TransactionReceipt) {
  const sent = await client.getTransaction({ hash: receipt.transactionHash });
  const replayed = await client
    .call({
      account: sent.from,
      to: sent.to,
      data: sent.input,
      value: sent.value,
      blockNumber: receipt.blockNumber,
    })
    .then(
      () => "the replay at its block succeeds",
      (error: unknown) => {
        const data = (error as { walk?: (fn: (e: unknown) => boolean) => unknown }).walk?.(
          (e) => typeof (e as { data?: unknown }).data === "string",
        ) as { data?: Hex } | undefined;
        if (!data?.data) return (error as Error).message.split("\n")[0];
        for (const abi of revertAbis) {
          try {
            const decoded = decodeErrorResult({ abi, data: data.data });
            return `${decoded.errorName}(${(decoded.args ?? []).join(", ")})`;
          } catch {
            // not this contract's error
          }
        }
        return `revert data ${data.data}`;
      },
    );
  return `transaction ${receipt.transactionHash} (block ${receipt.blockNumber}) reverted: ${replayed}`;
}

const revertAbis: Abi[] = [podnetMarketAbi, disputeCourtAbi, providerRegistryAbi, podnetTestTokenAbi, appVaultAbi];

export type ScenarioResult = Awaited<ReturnType<typeof runScenario>>;

/** Runs the scenario on `chain` (fresh: it assumes no other history); resolves with the ids it created. */
export async function runScenario(chain: Pick<LocalChain, "rpcUrl" | "deployment">) {
  const { viemChain, client, testClient } = clients(chain);
  const { podnetMarket, disputeCourt } = chain.deployment.contracts;
  const read = contracts(chain);

  function actor(index: number) {
    const wallet = walletClient(chain, devAccount(index).account);
    return {
      address: wallet.account.address,
      wallet,
      ...contractHandles(chain.deployment, { public: client, wallet }),
    };
  }
  type Actor = ReturnType<typeof actor>;

  const tx = async (hash: Promise<Hex>) => {
    const receipt = await client.waitForTransactionReceipt({ hash: await hash });
    if (receipt.status !== "success") throw new Error(await revertReason(client, receipt));
    return receipt;
  };
  const now = async () => (await client.getBlock()).timestamp;
  const warp = async (seconds: number) => {
    await testClient.increaseTime({ seconds });
    await testClient.mine({ blocks: 1 });
  };
  /** The list placeBid and finalizeOrder take, read from the chain as the SDK and the worker read it. */
  const standingBidders = (orderId: bigint) =>
    readStandingBidders(client, { market: podnetMarket.address, orderId, fromBlock: BigInt(podnetMarket.blockNumber) });

  const arbiter = actor(0);
  const [p1, p2, p3] = [actor(1), actor(2), actor(3)];
  const [alice, bob] = [actor(4), actor(5)];
  const stranger = actor(6);
  const providers = [p1, p2, p3];
  const publishers = [alice, bob];

  // ---------------------------------------------------------------- providers list themselves and stake
  const profile = (
    endpoint: string,
    pricing: Pricing,
    capacity: Resources,
    attributes: [string, string][],
    metadataURI = "",
  ) => ({
    endpoint,
    metadataURI,
    encryptionKey: spec(`x25519:${endpoint}`),
    pricing,
    capacity,
    attributes: attributes.map(([key, value]) => encodeAttribute(key, value)),
  });
  await tx(
    p1.registry.write.register([
      profile(
        "https://p1.example:8443",
        {
          perCpuMilli: 2_000_000_000n,
          perMemoryMiB: 1_000_000_000n,
          perStorageMiB: 10_000_000n,
          flat: 100_000_000_000n,
        },
        { cpuMillis: 8000, memoryMiB: 16384, storageMiB: 100_000 },
        [
          ["region", "eu-west"],
          ["tier", "standard"],
        ],
        "ipfs://p1-metadata",
      ),
    ]),
  );
  await tx(
    p2.registry.write.register([
      profile(
        "https://p2.example:8443",
        {
          perCpuMilli: 3_000_000_000n,
          perMemoryMiB: 2_000_000_000n,
          perStorageMiB: 20_000_000n,
          flat: 200_000_000_000n,
        },
        { cpuMillis: 4000, memoryMiB: 8192, storageMiB: 50_000 },
        [
          ["region", "eu-west"],
          ["tee", "sgx"],
        ],
      ),
    ]),
  );
  await tx(
    p3.registry.write.register([
      profile(
        "https://p3.example:8443",
        {
          perCpuMilli: 1_000_000_000n,
          perMemoryMiB: 1_000_000_000n,
          perStorageMiB: 10_000_000n,
          flat: 50_000_000_000n,
        },
        { cpuMillis: 16000, memoryMiB: 32768, storageMiB: 200_000 },
        [["region", "us-east"]],
      ),
    ]),
  );
  const funds = parseEther("10000");
  for (const who of [...providers, ...publishers]) {
    await tx(who.token.write.mint([who.address, funds]));
    await tx(who.token.write.approve([podnetMarket.address, funds]));
  }
  for (const who of publishers) await tx(who.token.write.approve([disputeCourt.address, funds]));
  for (const who of providers) await tx(who.market.write.stake([parseEther("1000")]));
  await tx(p1.market.write.heartbeat());
  await tx(p2.market.write.heartbeat());

  // ---------------------------------------------------------------- direct leases from signed quotes
  let nonce = 0n;
  const directLease = async (provider: Actor, publisher: Actor, specName: string, fundedSeconds = 3600n) => {
    const pricePerSecond = await read.registry.read.priceFor([provider.address, podResources]);
    const quote: Quote = {
      provider: provider.address,
      publisher: publisher.address,
      specHash: spec(specName),
      resources: podResources,
      pricePerSecond,
      validUntil: Number(await now()) + 600,
      attestationHash: spec(`attestation:${specName}`),
      nonce: ++nonce,
    };
    const signature = await provider.wallet.signTypedData(quoteTypedData(quote, viemChain.id, podnetMarket.address));
    await tx(publisher.market.write.createLease([quote, signature, pricePerSecond * fundedSeconds]));
    return { id: await read.market.read.leaseCount(), pricePerSecond };
  };
  const lease1 = await directLease(p1, alice, "alice/web.yaml");
  const lease2 = await directLease(p2, bob, "bob/api.yaml");
  const lease3 = await directLease(p3, alice, "alice/batch.yaml");
  // Funded for the minimum duration only: it runs out long before the end and a stranger closes it.
  const { minLeaseDuration } = await read.market.read.params();
  const shortLease = await directLease(p1, bob, "bob/once.yaml", BigInt(minLeaseDuration));
  // A lease of p3 disputed before p3 goes dark; the ruling comes after the dark report, while it still runs.
  const darkDisputed = await directLease(p3, bob, "bob/etl.yaml");
  await tx(bob.court.write.openDispute([darkDisputed.id, "ipfs://bob-evidence-etl"]));
  const disputeOfDark = await read.court.read.disputeCount();
  await tx(p3.court.write.answerDispute([disputeOfDark, "ipfs://p3-answer"]));
  // A top-up by someone other than the publisher.
  await tx(bob.market.write.topUp([lease1.id, lease1.pricePerSecond * 600n]));

  // ---------------------------------------------------------------- reverse market
  const maxPrice = 10_000_000_000_000n;
  const createOrder = async (
    publisher: Actor,
    specName: string,
    bidWindow: number,
    attributes: [string, string][],
    autoAccept: boolean,
  ) => {
    await tx(
      publisher.market.write.createOrder([
        spec(specName),
        podResources,
        maxPrice,
        maxPrice * 3600n,
        Number(await now()) + bidWindow,
        {
          minStake: parseEther("100"),
          attributes: attributes.map(([key, value]) => encodeAttribute(key, value)),
        },
        autoAccept,
      ]),
    );
    return await read.market.read.orderCount();
  };
  // Order 1: two bids, the publisher accepts the dearer one; the loser is released by a stranger.
  const order1 = await createOrder(alice, "alice/worker.yaml", 300, [["region", "eu-west"]], false);
  await tx(p1.market.write.placeBid([order1, 2_000_000_000_000n, []]));
  await tx(p2.market.write.placeBid([order1, 3_000_000_000_000n, []]));
  await tx(alice.market.write.acceptBid([order1, p2.address]));
  const lease4 = await read.market.read.leaseCount();
  await tx(stranger.market.write.releaseBid([order1, p1.address]));
  // Order 2: auto-accept, finalized by a stranger after its deadline; order 3: a bid of p3 that goes void.
  const order2 = await createOrder(bob, "bob/cron.yaml", 120, [], true);
  await tx(p1.market.write.placeBid([order2, 1_500_000_000_000n, []]));
  await tx(p3.market.write.placeBid([order2, 2_500_000_000_000n, []]));
  const order3 = await createOrder(bob, "bob/gpu.yaml", 3000, [], false);
  await tx(p3.market.write.placeBid([order3, 4_000_000_000_000n, []]));
  await warp(130);
  await tx(p1.market.write.heartbeat());
  await tx(stranger.market.write.finalizeOrder([order2, await standingBidders(order2)]));
  const lease5 = await read.market.read.leaseCount();
  await tx(stranger.market.write.releaseBid([order2, p3.address]));

  // ---------------------------------------------------------------- earnings, updates, closes
  await warp(200);
  await tx(p1.market.write.heartbeat());
  await tx(p2.market.write.heartbeat());
  await tx(p1.market.write.withdraw([[lease1.id, lease5]]));
  await tx(p2.market.write.withdraw([[lease2.id, lease4]]));
  await tx(alice.market.write.updateLeaseSpec([lease1.id, spec("alice/web-v2.yaml")]));
  await tx(p2.registry.write.pause());
  await tx(p2.registry.write.resume());
  await tx(
    p2.registry.write.updateProfile([
      profile(
        "https://p2-new.example:9443",
        { perCpuMilli: 1_500_000_000n, perMemoryMiB: 500_000_000n, perStorageMiB: 5_000_000n, flat: 90_000_000_000n },
        { cpuMillis: 6000, memoryMiB: 12288, storageMiB: 60_000 },
        [
          ["region", "eu-west"],
          ["tee", "sgx"],
          ["gpu", "none"],
        ],
        "ipfs://p2-metadata-v2",
      ),
    ]),
  );
  await tx(bob.market.write.closeLease([lease2.id]));
  await tx(p2.market.write.closeLease([lease4]));
  await tx(p2.market.write.withdraw([[lease2.id, lease4]]));
  await tx(p2.market.write.unstake([parseEther("50")]));
  await tx(stranger.market.write.withdrawFees());

  // ---------------------------------------------------------------- p3 goes silent
  const { heartbeatThreshold } = await read.market.read.params();
  await warp(Math.ceil(heartbeatThreshold * 0.6));
  await tx(p1.market.write.heartbeat());
  await tx(p2.market.write.heartbeat());
  await warp(Math.ceil(heartbeatThreshold * 0.6));
  await tx(p1.market.write.heartbeat());
  await tx(p2.market.write.heartbeat());
  await tx(stranger.market.write.reportDark([p3.address]));
  // The dark lease closes with compensation; the void bid's share of the pool is swept into the fees.
  await tx(alice.market.write.closeLease([lease3.id]));
  // The ruling on the dark provider's running lease slashes nothing more: the dark report already did, and the
  // lease's publisher is compensated when it closes. The lease stays open.
  const darkCollateral = (await read.market.read.getLease([darkDisputed.id])).collateral;
  await tx(arbiter.court.write.slash([disputeOfDark, darkCollateral / 2n]));
  await tx(stranger.market.write.closeLease([shortLease.id]));
  await tx(bob.market.write.cancelOrder([order3]));
  await tx(stranger.market.write.releaseBid([order3, p3.address]));

  // ---------------------------------------------------------------- disputes
  // Dispute 1 on a running lease: answered, then the arbiter slashes a third of the collateral.
  await tx(alice.court.write.openDispute([lease1.id, "ipfs://alice-evidence"]));
  const dispute1 = await read.court.read.disputeCount();
  await tx(p1.court.write.answerDispute([dispute1, "ipfs://p1-answer"]));
  const { collateral } = await read.market.read.getLease([lease1.id]);
  await tx(arbiter.court.write.slash([dispute1, collateral / 3n]));
  // Dispute 2: the lease closes while disputed (collateral held), then the arbiter dismisses (collateral released).
  await tx(bob.court.write.openDispute([lease5, "ipfs://bob-evidence"]));
  const dispute2 = await read.court.read.disputeCount();
  await tx(p1.court.write.answerDispute([dispute2, "ipfs://p1-answer-2"]));
  await tx(bob.market.write.closeLease([lease5]));
  await tx(arbiter.court.write.dismiss([dispute2]));
  await tx(p1.market.write.withdraw([[lease1.id, lease5]]));

  // ---------------------------------------------------------------- after a lease ends, the jail, full orders
  // A dispute on a lease bob already closed: its collateral is held for the dispute window, and the slash pays bob.
  await tx(bob.court.write.openDispute([lease2.id, "ipfs://bob-evidence-after-close"]));
  const disputeAfterClose = await read.court.read.disputeCount();
  await tx(p2.court.write.answerDispute([disputeAfterClose, "ipfs://p2-answer-after-close"]));
  const held = (await read.market.read.getLease([lease2.id])).collateral;
  await tx(arbiter.court.write.slash([disputeAfterClose, held / 4n]));
  // The dispute window passes: p1 and p2 heartbeat late (dark gaps), anyone releases what closed leases still hold,
  // and p3, its jail cooldown over, unjails.
  const { disputeWindow } = await read.market.read.params();
  await warp(disputeWindow + 1);
  await tx(p1.market.write.heartbeat());
  await tx(p2.market.write.heartbeat());
  await tx(stranger.market.write.releaseCollateral([lease4]));
  await tx(stranger.market.write.releaseCollateral([shortLease.id]));
  await tx(p3.market.write.unjail());
  // Governance lowers the bid cap to 2 through the timelock (the deployer governs a local chain); a third, better
  // bid then evicts the worst bid of a full order, which alice cancels.
  const timelock = getContract({
    address: chain.deployment.contracts.timelock.address,
    abi: timelockControllerAbi,
    client: { public: client, wallet: arbiter.wallet },
  });
  const setCap = encodeFunctionData({
    abi: podnetMarketAbi,
    functionName: "setParams",
    args: [{ ...(await read.market.read.params()), maxBidsPerOrder: 2 }],
  });
  const salt = spec("scenario: bid cap 2");
  const delay = await timelock.read.getMinDelay();
  await tx(timelock.write.schedule([podnetMarket.address, 0n, setCap, zeroHash, salt, delay]));
  await warp(Number(delay));
  await tx(timelock.write.execute([podnetMarket.address, 0n, setCap, zeroHash, salt]));
  const fullOrder = await createOrder(alice, "alice/full.yaml", 3000, [], false);
  await tx(p1.market.write.placeBid([fullOrder, 3_000_000_000_000n, []]));
  await tx(p2.market.write.placeBid([fullOrder, 2_000_000_000_000n, []]));
  await tx(p3.market.write.placeBid([fullOrder, 1_000_000_000_000n, await standingBidders(fullOrder)]));
  await tx(alice.market.write.cancelOrder([fullOrder]));

  // ---------------------------------------------------------------- an open order for the eligible-orders API
  const { maxBidWindow } = await read.market.read.params();
  const openOrder = await createOrder(alice, "alice/long.yaml", maxBidWindow - 60, [["region", "eu-west"]], false);
  await tx(p2.market.write.placeBid([openOrder, 2_000_000_000_000n, []]));

  // Not getBlockNumber(): viem caches it for a polling interval, which could name a block before the last ones.
  const latestBlock = (await client.getBlock({ blockTag: "latest" })).number;
  return {
    latestBlock,
    providers: providers.map((p) => p.address) as Address[],
    publishers: publishers.map((p) => p.address) as Address[],
    stranger: stranger.address,
    leases: {
      lease1: lease1.id,
      lease2: lease2.id,
      lease3: lease3.id,
      shortLease: shortLease.id,
      darkDisputed: darkDisputed.id,
      lease4,
      lease5,
    },
    orders: { order1, order2, order3, fullOrder, openOrder },
    disputes: { disputeOfDark, dispute1, dispute2, disputeAfterClose },
  };
}

export type AppScenarioResult = Awaited<ReturnType<typeof runAppScenario>>;

/**
 * An app vault's history, for the indexer's app tests: two providers of its own (dev accounts 10 and 11) register,
 * stake and heartbeat; an owner (12) creates an app with a controller (13); a funder (14) funds it and a stranger
 * (15) sends it tokens directly (no Funded event); the controller fills two slots from signed quotes, tops one up,
 * replaces the other (closing its lease), clears the first, fills it again from an order, cancels another order; the
 * owner disputes the order's lease and the arbiter slashes; the owner adds a controller, removes the first, lowers
 * the limits, withdraws and starts an ownership transfer; a provider closes the lease still in a slot. Runs on a fresh
 * chain or after {@link runScenario} (its accounts are its own).
 */
export async function runAppScenario(chain: Pick<LocalChain, "rpcUrl" | "deployment">) {
  const { viemChain, client, testClient } = clients(chain);
  const { podnetMarket, appVaultFactory } = chain.deployment.contracts;
  const read = contracts(chain);
  const tx = async (hash: Promise<Hex>) => {
    const receipt = await client.waitForTransactionReceipt({ hash: await hash });
    if (receipt.status !== "success") throw new Error(await revertReason(client, receipt));
    return receipt;
  };
  const now = async () => (await client.getBlock({ blockTag: "latest" })).timestamp;
  const warp = async (seconds: number) => {
    await testClient.increaseTime({ seconds });
    await testClient.mine({ blocks: 1 });
  };
  const actor = async (index: number) => {
    const wallet = walletClient(chain, devAccount(index).account);
    const address = wallet.account.address;
    // anvil funds only dev accounts 0-9.
    if ((await client.getBalance({ address })) === 0n)
      await testClient.setBalance({ address, value: parseEther("100") });
    return { address, wallet, ...contractHandles(chain.deployment, { public: client, wallet }) };
  };
  type Actor = Awaited<ReturnType<typeof actor>>;

  const pa = await actor(10);
  const pb = await actor(11);
  const owner = await actor(12);
  const controller = await actor(13);
  const funder = await actor(14);
  const stranger = await actor(15);
  const controller2 = await actor(16);
  const nextOwner = await actor(17);
  const funds = parseEther("10000");
  for (const [i, p] of [pa, pb].entries()) {
    await tx(
      p.registry.write.register([
        {
          endpoint: `https://app-provider-${i}.example:8443`,
          metadataURI: "",
          encryptionKey: spec(`x25519:app-provider-${i}`),
          pricing: {
            perCpuMilli: 1_000_000_000n * BigInt(i + 1),
            perMemoryMiB: 1_000_000_000n,
            perStorageMiB: 10_000_000n,
            flat: 100_000_000_000n,
          },
          capacity: { cpuMillis: 8000, memoryMiB: 16384, storageMiB: 100_000 },
          attributes: [encodeAttribute("region", "eu-west")],
        },
      ]),
    );
    await tx(p.token.write.mint([p.address, funds]));
    await tx(p.token.write.approve([podnetMarket.address, funds]));
    await tx(p.market.write.stake([parseEther("1000")]));
    await tx(p.market.write.heartbeat());
  }

  // ---------------------------------------------------------------- the app
  const specHash = spec("app/web.yaml");
  const configHash = spec("app/app.yaml");
  const salt = spec("app scenario: web");
  const priceA = await read.registry.read.priceFor([pa.address, podResources]);
  // Provider B lists twice A's CPU price: its price is the app's cap.
  const maxPrice = await read.registry.read.priceFor([pb.address, podResources]);
  const limits = { maxPricePerSecond: maxPrice, maxDepositPerLease: maxPrice * 7200n, maxInstances: 3 };
  const vault = await read.vaultFactory.read.predictApp([owner.address, salt]);
  await tx(owner.vaultFactory.write.createApp([salt, specHash, configHash, limits, [controller.address]]));
  const vaultAs = (who: Actor) =>
    getContract({ address: vault, abi: appVaultAbi, client: { public: client, wallet: who.wallet } });

  // Leases and orders, plus the court's dispute bond (10 tokens on a local deployment).
  const funded = maxPrice * 20_000n + parseEther("20");
  await tx(funder.token.write.mint([funder.address, funded]));
  await tx(funder.token.write.approve([vault, funded]));
  await tx(vaultAs(funder).write.fund([funded]));
  // Tokens sent straight to the vault count in its balance, though no Funded event says so.
  const directTransfer = 12_345n;
  await tx(stranger.token.write.mint([stranger.address, directTransfer]));
  await tx(stranger.token.write.transfer([vault, directTransfer]));

  let nonce = 0n;
  const signedQuote = async (provider: Actor) => {
    const quote: Quote = {
      provider: provider.address,
      publisher: vault,
      specHash,
      resources: podResources,
      pricePerSecond: await read.registry.read.priceFor([provider.address, podResources]),
      validUntil: Number(await now()) + 600,
      attestationHash: spec("attestation:app/web.yaml"),
      nonce: ++nonce,
    };
    const signature = await provider.wallet.signTypedData(quoteTypedData(quote, viemChain.id, podnetMarket.address));
    return { quote, signature };
  };
  const fillSlot = async (slot: bigint, expected: bigint, provider: Actor, seconds: bigint) => {
    const { quote, signature } = await signedQuote(provider);
    await tx(vaultAs(controller).write.replaceSlot([slot, expected, quote, signature, quote.pricePerSecond * seconds]));
    return await read.market.read.leaseCount();
  };

  const leaseA = await fillSlot(0n, 0n, pa, 3600n);
  const leaseB = await fillSlot(1n, 0n, pb, 3600n);
  await tx(vaultAs(controller).write.topUp([0n, leaseA, priceA * 600n]));
  await warp(120);
  await tx(pa.market.write.heartbeat());
  await tx(pb.market.write.heartbeat());
  // Failover of slot 1: lease B closes (its refund comes back to the vault), lease C takes the slot.
  const leaseC = await fillSlot(1n, leaseB, pa, 3600n);
  // Scale down: slot 0 empties, lease A closes.
  await tx(vaultAs(controller).write.clearSlot([0n, leaseA]));
  // The reverse market: an order matched into slot 0 (lease D), and an order cancelled (its deposit comes back).
  const order = async () => {
    const deadline = Number(await now()) + 300;
    const requirements = { minStake: parseEther("100"), attributes: [] };
    await tx(vaultAs(controller).write.createOrder([podResources, maxPrice, maxPrice * 3600n, deadline, requirements]));
    return await read.market.read.orderCount();
  };
  const matchedOrder = await order();
  await tx(pa.market.write.placeBid([matchedOrder, priceA, []]));
  await tx(vaultAs(controller).write.acceptBid([matchedOrder, pa.address, 0n, 0n]));
  const leaseD = await read.market.read.leaseCount();
  const cancelledOrder = await order();
  await tx(vaultAs(controller).write.cancelOrder([cancelledOrder]));
  // The owner disputes lease D through the vault (the vault pays the bond); the arbiter (dev account 0 on a local
  // deployment) slashes half its collateral: the slash and the bond come back to the vault.
  await tx(vaultAs(owner).write.openDispute([leaseD, "ipfs://app-evidence"]));
  const dispute = await read.court.read.disputeCount();
  await tx(pa.court.write.answerDispute([dispute, "ipfs://app-provider-answer"]));
  const arbiter = await actor(0);
  const { collateral } = await read.market.read.getLease([leaseD]);
  await tx(arbiter.court.write.slash([dispute, collateral / 2n]));

  // ---------------------------------------------------------------- the owner's changes
  await tx(vaultAs(owner).write.setController([controller2.address, true]));
  await tx(vaultAs(owner).write.setController([controller.address, false]));
  const lowered = { maxPricePerSecond: maxPrice, maxDepositPerLease: maxPrice * 3600n, maxInstances: 2 };
  await tx(vaultAs(owner).write.setLimits([lowered]));
  await tx(vaultAs(owner).write.setConfig([spec("app/app-v2.yaml")]));
  const withdrawn = maxPrice * 1000n;
  await tx(vaultAs(owner).write.withdraw([owner.address, withdrawn]));
  await tx(vaultAs(owner).write.transferOwnership([nextOwner.address]));
  // The provider closes the lease still in slot 1: the slot keeps it, closed, until a controller replaces it.
  await warp(60);
  await tx(pa.market.write.closeLease([leaseC]));

  const latestBlock = (await client.getBlock({ blockTag: "latest" })).number;
  return {
    latestBlock,
    vault,
    factory: appVaultFactory.address,
    owner: owner.address,
    nextOwner: nextOwner.address,
    controllers: { removed: controller.address, current: controller2.address },
    providers: [pa.address, pb.address] as Address[],
    stranger: stranger.address,
    salt,
    specHash,
    leases: { leaseA, leaseB, leaseC, leaseD },
    orders: { matchedOrder, cancelledOrder },
    dispute,
    amounts: { funded, directTransfer, withdrawn },
  };
}
