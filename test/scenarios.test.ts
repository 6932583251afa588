/**
 * Marketplace scenarios end to end, against real parts only: fresh anvil chains with the real contracts, provider
 * workers as child processes on the real Docker Engine, publishers on `createPodnetClient`. Every token amount is
 * computed here from the chain's parameters and state read beforehand, never taken from the answer being checked.
 *
 * Two chains: the reverse market and the disputes run on one with four providers (E closes leases that get no manifest
 * after 2 s: a provider closing a lease early); the dark provider runs alone on its own, so warping that chain's time
 * past the heartbeat threshold silences no other worker.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  clients,
  Devnet,
  devAccount,
  ensureGas,
  type LocalChain,
  localDocker,
  mint,
  publisherClient,
  type RunningProvider,
  readMarket,
  TOKEN,
  testImageTarball,
  tokenBalance,
  waitFor,
  walletClient,
  webAppManifest,
} from "@podnet/devnet";
import {
  disputeCourtAbi,
  manifestResources,
  type PodnetClientWithActions,
  type Pricing,
  parseManifest,
  podnetMarketAbi,
  podnetTestTokenAbi,
  pricePerSecond,
} from "@podnet/sdk";
import { type Address, keccak256, parseEventLogs, toBytes } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docker = localDocker();
const BPS = 10_000n;
const HOUR = 3600n;
const PAGE = "hello scenarios";
const PRICING_A: Pricing = { perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 7n };
const PRICING_B: Pricing = { perCpuMilli: 900n, perMemoryMiB: 90n, perStorageMiB: 1n, flat: 5n };
/** The cheapest of all, so that it would win if it bid: it must not, lacking region=eu. */
const PRICING_C: Pricing = { perCpuMilli: 500n, perMemoryMiB: 50n, perStorageMiB: 1n, flat: 1n };
const PRICING_D: Pricing = { perCpuMilli: 800n, perMemoryMiB: 80n, perStorageMiB: 1n, flat: 3n };
const capacity = { cpuMillis: 4000, memoryMiB: 4096, storageMiB: 100_000 };

const publisher1 = devAccount(17).account;
const publisher2 = devAccount(18).account;
const reporter = devAccount(19).account;
const arbiter = devAccount(0).account; // Deploy.s.sol: ARBITER defaults to the deployer, dev account 0

let dir: string;
/** Reverse market + dispute. */
let marketNet: Devnet;
let market: LocalChain;
/** The dark provider, alone. */
let darkNet: Devnet;
let darkChain: LocalChain;
let A: RunningProvider;
let B: RunningProvider;
let C: RunningProvider;
let D: RunningProvider;
/** Closes a lease that got no manifest after 2 s (PODNET_MANIFEST_TIMEOUT_SEC): a provider ending a lease early. */
let E: RunningProvider;
let tarball: string;

/** The test image's web server, small enough for the providers' test capacity. */
const webManifest = (image: string) => webAppManifest(image, { cpuMillis: 100, memoryMiB: 32, pids: 64 });

interface MarketParams {
  collateralSeconds: number;
  reporterRewardBps: number;
  darkSlashBps: number;
  heartbeatThreshold: number;
}
interface LeaseRaw {
  publisher: Address;
  provider: Address;
  startedAt: number;
  pricePerSecond: bigint;
  balance: bigint;
  collateral: bigint;
  settledAt: number;
  status: number;
  epoch: number;
}
interface StakeRaw {
  free: bigint;
  locked: bigint;
  lastHeartbeat: number;
  epoch: number;
  jailed: boolean;
}

async function health(provider: RunningProvider) {
  const response = await fetch(`${provider.worker.apiUrl}/health`);
  // biome-ignore lint/suspicious/noExplicitAny: checked field by field
  return (await response.json()) as any;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-scenarios-"));
  // Each devnet is kept as soon as it runs, so afterAll stops it even when the other part of the setup failed.
  await Promise.all([
    Devnet.start({ dir: join(dir, "market") }).then((started) => {
      marketNet = started;
    }),
    Devnet.start({ dir: join(dir, "dark") }).then((started) => {
      darkNet = started;
    }),
    testImageTarball(docker, "podnet-test/scenarios:1", join(dir, "scenarios-1.tar"), { page: PAGE }).then((file) => {
      tarball = file;
    }),
  ]);
  market = marketNet.chain;
  darkChain = darkNet.chain;
  const eu = ["region=eu"];
  [A, B, C, D, E] = await Promise.all([
    marketNet.startProvider({ index: 13, capacity, attributes: eu, pricing: PRICING_A }),
    marketNet.startProvider({ index: 14, capacity, attributes: eu, pricing: PRICING_B }),
    marketNet.startProvider({ index: 15, capacity, attributes: ["region=us"], pricing: PRICING_C }),
    darkNet.startProvider({
      index: 16,
      capacity,
      attributes: eu,
      pricing: PRICING_D,
      // Heartbeat every second, so its last heartbeat falls after its leases started and they accrue until then.
      env: { PODNET_HEARTBEAT_INTERVAL_SEC: "1" },
    }),
    // region=ap: it does not bid on (b)'s region=eu order.
    marketNet.startProvider({
      index: 111,
      capacity,
      attributes: ["region=ap"],
      pricing: PRICING_D,
      env: { PODNET_MANIFEST_TIMEOUT_SEC: "2" },
    }),
  ]);
  await Promise.all([
    mint(market, publisher1, 1_000_000n * TOKEN),
    mint(darkChain, publisher1, 1_000_000n * TOKEN),
    mint(darkChain, publisher2, 1_000_000n * TOKEN),
  ]);
}, 120_000);

afterAll(() => Promise.all([marketNet?.stop(), darkNet?.stop()]), 60_000);

describe("scenario: reverse market and dispute (three providers)", () => {
  let pub: PodnetClientWithActions;
  let leaseId: bigint;

  it("(b) two eligible providers bid, the one without region=eu does not; the lowest wins and serves", async () => {
    pub = publisherClient(market, publisher1, { blobCacheDir: join(dir, "pub1-market-blobs") });
    const image = await pub.prepareImage({ tarball });
    marketNet.untagBlobOnStop(image.cid);
    const manifest = webManifest(image.image);
    const resources = manifestResources(parseManifest(manifest));
    const priceA = pricePerSecond(PRICING_A, resources);
    const priceB = pricePerSecond(PRICING_B, resources);
    expect(priceB).toBeLessThan(priceA);
    expect(pricePerSecond(PRICING_C, resources)).toBeLessThan(priceB);

    const order = await pub.createOrder({
      manifest,
      maxPricePerSecond: priceA,
      deposit: priceA * HOUR,
      bidWindowSeconds: 600,
      requirements: { attributes: ["region=eu"], minStake: 100n * TOKEN },
    });
    const { client } = clients(market);
    const orderBlock = (await client.getTransactionReceipt({ hash: order.txHash })).blockNumber;

    const bids = await waitFor(
      "A and B to bid",
      async () => {
        const list = await pub.getBids({ orderId: order.orderId });
        return list.length >= 2 ? list : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // C has followed the chain past the order (and past both bids) without bidding.
    const lastBidBlock = await client.getBlockNumber();
    await waitFor(
      "C to follow past the order and the bids",
      async () => {
        const h = await health(C);
        return BigInt(h.chain.cursor) > lastBidBlock && BigInt(h.chain.cursor) > orderBlock ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const bidC = await readMarket<{ status: number; reserved: bigint }>(market, "getBid", [order.orderId, C.address]);
    expect(bidC.status).toBe(0); // BidStatus.None
    expect(bidC.reserved).toBe(0n);
    const after = await pub.getBids({ orderId: order.orderId });
    expect(after.map((b) => b.provider)).not.toContain(C.address);
    expect(bids.map((b) => [b.provider, b.pricePerSecond, b.status])).toEqual([
      [B.address, priceB, "active"],
      [A.address, priceA, "active"],
    ]);
    // Each bid reserves price × collateralSeconds of its provider's stake.
    const params = await readMarket<MarketParams>(market, "params");
    for (const [provider, price] of [
      [A.address, priceA],
      [B.address, priceB],
    ] as const) {
      const bid = await readMarket<{ reserved: bigint }>(market, "getBid", [order.orderId, provider]);
      expect(bid.reserved).toBe(price * BigInt(params.collateralSeconds));
    }

    const before = await tokenBalance(market, publisher1.address);
    const accepted = await pub.acceptBid({ orderId: order.orderId });
    expect(accepted.provider).toBe(B.address);
    expect(accepted.pricePerSecond).toBe(priceB);
    leaseId = accepted.leaseId;
    // The order's deposit funds the lease; accepting moves no tokens of the publisher.
    expect(await tokenBalance(market, publisher1.address)).toBe(before);
    const lease = await readMarket<LeaseRaw>(market, "getLease", [leaseId]);
    expect(lease.balance).toBe(priceA * HOUR);
    expect(lease.collateral).toBe(priceB * BigInt(params.collateralSeconds));

    await pub.deployPod({ leaseId, manifest });
    await pub.waitForPod({ leaseId, timeoutMs: 60_000, intervalMs: 200 });
    expect(await B.worker.waitForPage(leaseId, PAGE)).toContain(PAGE);
  }, 90_000);

  it("(e) a dispute: bond taken, the arbiter slashes part of the collateral, the publisher gets it plus the bond", async () => {
    const { client } = clients(market);
    const court = market.deployment.contracts.disputeCourt.address;
    const courtParams = await client.readContract({ address: court, abi: disputeCourtAbi, functionName: "params" });
    const bond = courtParams.disputeBond;
    expect(bond).toBeGreaterThan(0n);
    const lease = await readMarket<LeaseRaw>(market, "getLease", [leaseId]);
    const stakeBefore = await readMarket<StakeRaw>(market, "stakeOf", [B.address]);
    expect(lease.collateral).toBeGreaterThan(0n);

    const t0 = await tokenBalance(market, publisher1.address);
    const courtT0 = await tokenBalance(market, court);
    const dispute = await pub.openDispute({ leaseId, evidenceURI: "ipfs://evidence/scenario.json" });
    expect(await tokenBalance(market, publisher1.address)).toBe(t0 - bond);
    expect(await tokenBalance(market, court)).toBe(courtT0 + bond);

    // B's worker answers within the window with its evidence document, so the arbiter may rule now.
    const answered = await waitFor(
      "B's worker to answer the dispute",
      async () => {
        const [log] = await client.getContractEvents({
          address: court,
          abi: disputeCourtAbi,
          eventName: "DisputeAnswered",
          args: { disputeId: dispute.disputeId },
          fromBlock: 0n,
          strict: true,
        });
        return log;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(answered.args.provider).toBe(B.address);
    // The URI is the worker's public evidence route with the document's keccak256 as the fragment.
    const [url, fragment] = answered.args.evidenceURI.split("#");
    expect(url).toBe(`${B.worker.apiUrl}/v1/disputes/${dispute.disputeId}/evidence`);
    const evidence = await fetch(url as string);
    expect(evidence.status).toBe(200);
    const text = await evidence.text();
    expect(fragment).toBe(`keccak256=${keccak256(toBytes(text))}`);
    const doc = JSON.parse(text);
    expect(doc).toMatchObject({
      kind: "podnet-dispute-answer",
      disputeId: dispute.disputeId.toString(),
      leaseId: leaseId.toString(),
      provider: B.address,
      publisher: publisher1.address,
      publisherEvidence: "ipfs://evidence/scenario.json",
      lease: { status: "active" },
    });
    expect(doc.containers.map((c: { state: string }) => c.state)).toEqual(["running"]);
    expect(doc.events.map((e: { type: string }) => e.type)).toContain("dispute-opened");
    expect((await fetch(`${B.worker.apiUrl}/v1/disputes/999/evidence`)).status).toBe(404);
    const onChain = await client.readContract({
      address: court,
      abi: disputeCourtAbi,
      functionName: "getDispute",
      args: [dispute.disputeId],
    });
    expect(onChain.answered).toBe(true);

    const amount = lease.collateral / 3n + 1n; // ≤ collateral
    const arbiterWallet = walletClient(market, arbiter);
    const t1 = await tokenBalance(market, publisher1.address);
    const receipt = await client.waitForTransactionReceipt({
      hash: await arbiterWallet.writeContract({
        address: court,
        abi: disputeCourtAbi,
        functionName: "slash",
        args: [dispute.disputeId, amount],
      }),
    });
    expect(receipt.status).toBe("success");
    // Slashed amount + the bond back, exactly.
    expect(await tokenBalance(market, publisher1.address)).toBe(t1 + amount + bond);
    expect(await tokenBalance(market, court)).toBe(courtT0);
    const leaseAfter = await readMarket<LeaseRaw>(market, "getLease", [leaseId]);
    expect(leaseAfter.collateral).toBe(lease.collateral - amount);
    expect((await readMarket<StakeRaw>(market, "stakeOf", [B.address])).locked).toBe(stakeBefore.locked - amount);
    // The pod keeps running: the lease is still active.
    expect(leaseAfter.status).toBe(1);
    // The worker logged the ruling on the lease's events, where its publisher sees it.
    await waitFor(
      "the ruling in the lease's events",
      async () => {
        const events = await pub.getPodEvents({ leaseId });
        return events.some((e) => e.type === "dispute-ruled" && e.message.includes(`slashed ${amount}`))
          ? true
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
  }, 90_000);

  it("(f) the provider closes a lease early; the publisher disputes it inside the window, the ruling pays it exactly", async () => {
    const { client } = clients(market);
    const marketAddress = market.deployment.contracts.podnetMarket.address;
    const court = market.deployment.contracts.disputeCourt.address;
    const params = await readMarket<MarketParams & { disputeWindow: number }>(market, "params");
    const courtParams = await client.readContract({ address: court, abi: disputeCourtAbi, functionName: "params" });
    const bond = courtParams.disputeBond;

    // A direct lease from E; no manifest follows, so E's worker closes it after 2 s (reason Provider).
    const image = await pub.prepareImage({ tarball });
    marketNet.untagBlobOnStop(image.cid);
    const quoted = await pub.getQuote({ provider: E.address, manifest: webManifest(image.image) });
    const price = quoted.quote.pricePerSecond;
    const deposit = price * HOUR;
    const afterFunding = await (async () => {
      const created = await pub.createLease({ ...quoted, deposit });
      return { leaseId: created.leaseId, balance: await tokenBalance(market, publisher1.address) };
    })();
    const leaseId = afterFunding.leaseId;
    const opened = await readMarket<LeaseRaw>(market, "getLease", [leaseId]);
    expect(opened.collateral).toBe(price * BigInt(params.collateralSeconds));

    const closed = await waitFor(
      "E to close the lease",
      async () => {
        const [log] = await client.getContractEvents({
          address: marketAddress,
          abi: podnetMarketAbi,
          eventName: "LeaseClosed",
          args: { leaseId },
          fromBlock: 0n,
          strict: true,
        });
        return log;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const endedAt = closed.args.endedAt;
    // Closed by the provider, early: paid for startedAt..endedAt, the rest refunded, the collateral held.
    expect(closed.args.closedBy).toBe(E.address);
    expect(closed.args.reason).toBe(2); // CloseReason.Provider
    expect(endedAt).toBeLessThan(BigInt(opened.startedAt) + HOUR);
    const owed = price * (endedAt - BigInt(opened.startedAt));
    expect(closed.args.owed).toBe(owed);
    expect(closed.args.refund).toBe(deposit - owed);
    expect(closed.args.collateralHeld).toBe(opened.collateral);
    const releasableAt = endedAt + BigInt(params.disputeWindow);
    expect(closed.args.releasableAt).toBe(releasableAt);
    expect(await tokenBalance(market, publisher1.address)).toBe(afterFunding.balance + deposit - owed);
    const held = await readMarket<LeaseRaw>(market, "getLease", [leaseId]);
    expect(held.status).toBe(2); // Closed
    expect(held.collateral).toBe(opened.collateral);

    // The collateral cannot leave before the window ends.
    const release = () =>
      client.simulateContract({
        address: marketAddress,
        abi: podnetMarketAbi,
        functionName: "releaseCollateral",
        args: [leaseId],
        account: E.address,
      });
    await expect(release()).rejects.toThrow(/MarketDisputeWindowOpen/);

    // The publisher disputes the closed lease inside the window; E's worker answers, the arbiter rules.
    const t0 = await tokenBalance(market, publisher1.address);
    const dispute = await pub.openDispute({ leaseId, evidenceURI: "ipfs://evidence/closed-early.json" });
    expect(dispute.bond).toBe(bond);
    expect(await tokenBalance(market, publisher1.address)).toBe(t0 - bond);
    await waitFor(
      "E's worker to answer the dispute",
      async () =>
        (
          await client.readContract({
            address: court,
            abi: disputeCourtAbi,
            functionName: "getDispute",
            args: [dispute.disputeId],
          })
        ).answered || undefined,
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    const collateral = held.collateral;
    const amount = collateral / 2n + 3n; // less than the collateral: the rest goes back to E's free stake
    const receipt = await client.waitForTransactionReceipt({
      hash: await walletClient(market, arbiter).writeContract({
        address: court,
        abi: disputeCourtAbi,
        functionName: "slash",
        args: [dispute.disputeId, amount],
      }),
    });
    expect(receipt.status).toBe("success");
    // Each transaction is its own block on anvil: the state just before the ruling and just after it.
    const at = (blockNumber: bigint) => ({
      balance: (who: Address) =>
        client.readContract({
          address: market.deployment.contracts.paymentToken.address,
          abi: podnetTestTokenAbi,
          functionName: "balanceOf",
          args: [who],
          blockNumber,
        }),
      stake: () =>
        client.readContract({
          address: marketAddress,
          abi: podnetMarketAbi,
          functionName: "stakeOf",
          args: [E.address],
          blockNumber,
        }),
    });
    const before = at(receipt.blockNumber - 1n);
    const now = at(receipt.blockNumber);
    const [settled] = parseEventLogs({ abi: podnetMarketAbi, eventName: "DisputeSettled", logs: receipt.logs });
    expect(settled?.args).toEqual({ leaseId, slashed: amount, released: collateral - amount });
    // The publisher: the slashed amount plus its bond back, to the base unit; the court keeps nothing of it.
    expect((await now.balance(publisher1.address)) - (await before.balance(publisher1.address))).toBe(amount + bond);
    expect((await before.balance(court)) - (await now.balance(court))).toBe(bond);
    expect((await before.balance(marketAddress)) - (await now.balance(marketAddress))).toBe(amount);
    // A ruling on a closed lease ends the hold: the slash leaves E's stake, the rest is free again, nothing stays held.
    const [stakeBefore, stakeAfter] = [await before.stake(), await now.stake()];
    expect(stakeBefore.locked).toBeGreaterThanOrEqual(collateral);
    expect(stakeAfter.locked).toBe(stakeBefore.locked - collateral);
    expect(stakeAfter.free).toBe(stakeBefore.free + collateral - amount);
    const after = await readMarket<LeaseRaw>(market, "getLease", [leaseId]);
    expect(after.collateral).toBe(0n);
    await expect(release()).rejects.toThrow(/MarketCollateralNotHeld/);
  }, 120_000);
});

describe("scenario: a provider goes dark (own chain)", () => {
  it("(d) SIGKILL, warp past the threshold, reportDark: each publisher gets refund + compensation exactly", async () => {
    const pubs = [
      publisherClient(darkChain, publisher1, { blobCacheDir: join(dir, "pub1-dark-blobs") }),
      publisherClient(darkChain, publisher2, { blobCacheDir: join(dir, "pub2-dark-blobs") }),
    ];
    const leaseIds: bigint[] = [];
    const deposits: bigint[] = [];
    for (const [i, pub] of pubs.entries()) {
      // Each publisher encrypts its own copy of the image; different sizes, so different prices and collaterals.
      const image = await pub.prepareImage({ tarball });
      marketNet.untagBlobOnStop(image.cid);
      const manifest = webManifest(image.image);
      (manifest.containers[0] as { resources: { memoryMiB: number } }).resources.memoryMiB = 32 + 16 * i;
      const quoted = await pub.getQuote({ provider: D.address, manifest });
      const deposit = quoted.quote.pricePerSecond * HOUR;
      const lease = await pub.createLease({ ...quoted, deposit });
      leaseIds.push(lease.leaseId);
      deposits.push(deposit);
      await pub.deployPod({ leaseId: lease.leaseId, manifest });
    }
    for (const [i, pub] of pubs.entries()) {
      const leaseId = leaseIds[i] as bigint;
      await pub.waitForPod({ leaseId, timeoutMs: 60_000, intervalMs: 200 });
      expect(await D.worker.waitForPage(leaseId, PAGE)).toContain(PAGE);
    }

    const { client, testClient } = clients(darkChain);
    const started = await Promise.all(leaseIds.map((id) => readMarket<LeaseRaw>(darkChain, "getLease", [id])));
    const latestStart = Math.max(...started.map((l) => l.startedAt));
    // Let D heartbeat at least once after both leases started (chain time moves with wall time on anvil).
    await waitFor(
      "a heartbeat of D after both leases started",
      async () => {
        await testClient.mine({ blocks: 1 });
        const s = await readMarket<StakeRaw>(darkChain, "stakeOf", [D.address]);
        return s.lastHeartbeat > latestStart + 1 ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );

    await D.worker.stop("SIGKILL");

    const params = await readMarket<MarketParams>(darkChain, "params");
    const stake = await readMarket<StakeRaw>(darkChain, "stakeOf", [D.address]);
    const leases = await Promise.all(leaseIds.map((id) => readMarket<LeaseRaw>(darkChain, "getLease", [id])));
    const darkAt = stake.lastHeartbeat;
    expect(darkAt).toBeGreaterThan(0);
    for (const [i, lease] of leases.entries()) {
      expect(lease.status).toBe(1);
      expect(lease.epoch).toBe(stake.epoch);
      expect(lease.collateral).toBe(lease.pricePerSecond * BigInt(params.collateralSeconds));
      // The lease runs from startedAt to darkAt (the last heartbeat, after it started); whatever the worker
      // withdrew before dying left the lease, paid up to settledAt: balance = deposit − price × (settledAt − start).
      expect(darkAt).toBeGreaterThan(lease.startedAt);
      expect(darkAt).toBeGreaterThanOrEqual(lease.settledAt);
      expect(lease.balance).toBe(
        (deposits[i] as bigint) - lease.pricePerSecond * BigInt(lease.settledAt - lease.startedAt),
      );
    }
    expect(stake.locked).toBe(leases.reduce((sum, l) => sum + l.collateral, 0n));

    // Warp to the first second it is reportable: darkAt + heartbeatThreshold + 1.
    const now = Number((await client.getBlock()).timestamp);
    const reportableAt = darkAt + params.heartbeatThreshold + 1;
    await testClient.increaseTime({ seconds: Math.max(0, reportableAt - now) });
    await testClient.mine({ blocks: 1 });

    // Independent expectations from the parameters and the state read before the report.
    const slashed = (stake.locked * BigInt(params.darkSlashBps)) / BPS;
    const reward = (slashed * BigInt(params.reporterRewardBps)) / BPS;
    const compensationBps = (BigInt(params.darkSlashBps) * (BPS - BigInt(params.reporterRewardBps))) / BPS;
    const compensations = leases.map((l) => (l.collateral * compensationBps) / BPS);
    // refund = what is left in the lease after paying the provider from settledAt up to darkAt, which is
    // deposit − pricePerSecond × (darkAt − startedAt) (no top-ups).
    const refunds = leases.map((l) => l.balance - l.pricePerSecond * BigInt(darkAt - l.settledAt));
    for (const [i, lease] of leases.entries()) {
      expect(refunds[i]).toBe((deposits[i] as bigint) - lease.pricePerSecond * BigInt(darkAt - lease.startedAt));
      expect(refunds[i]).toBeGreaterThan(0n);
      expect(refunds[i]).toBeLessThan(deposits[i] as bigint);
    }
    expect(compensations.reduce((a, b) => a + b, 0n)).toBeLessThanOrEqual(slashed - reward);

    await ensureGas(darkChain, reporter.address);
    const reporterClient = publisherClient(darkChain, reporter, { blobCacheDir: join(dir, "reporter-blobs") });
    const reporterBefore = await tokenBalance(darkChain, reporter.address);
    const report = await reporterClient.reportDark({ provider: D.address });
    const reportBlock = await client.getBlock({
      blockNumber: (await client.getTransactionReceipt({ hash: report.txHash })).blockNumber,
    });
    expect(Number(reportBlock.timestamp)).toBeGreaterThanOrEqual(reportableAt);
    expect(await tokenBalance(darkChain, reporter.address)).toBe(reporterBefore + reward);
    expect(report.darkAt).toBe(darkAt);

    const record = await readMarket<{ darkAt: number; compensationBps: number; pool: bigint }>(
      darkChain,
      "darkRecord",
      [D.address, BigInt(stake.epoch)],
    );
    expect(record.darkAt).toBe(darkAt);
    expect(BigInt(record.compensationBps)).toBe(compensationBps);
    expect(record.pool).toBe(slashed - reward);
    const stakeAfter = await readMarket<StakeRaw>(darkChain, "stakeOf", [D.address]);
    expect(stakeAfter.jailed).toBe(true);
    expect(stakeAfter.locked).toBe(0n);

    for (const [i, pub] of pubs.entries()) {
      const account = i === 0 ? publisher1 : publisher2;
      const before = await tokenBalance(darkChain, account.address);
      const closed = await pub.closeLease({ leaseId: leaseIds[i] as bigint });
      const expected = (refunds[i] as bigint) + (compensations[i] as bigint);
      expect(await tokenBalance(darkChain, account.address)).toBe(before + expected);
      expect(closed.endedAt).toBe(darkAt);
    }
    const recordAfter = await readMarket<{ pool: bigint }>(darkChain, "darkRecord", [D.address, BigInt(stake.epoch)]);
    expect(recordAfter.pool).toBe(slashed - reward - compensations.reduce((a, b) => a + b, 0n));
  }, 120_000);
});
