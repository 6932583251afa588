/**
 * The off-chain escrow arithmetic (sdk/src/protocol/escrow.ts) against the deployed market on a real anvil, as
 * test/deploy-local.test.ts checks the pricing rule against `priceFor`: leases at varied prices and deposits, time
 * moved with evm_increaseTime + evm_mine, then the market's views (`withdrawable`, `leaseRunsOutAt`) and the tokens
 * that `withdraw`, `closeLease` and `topUp` actually move (provider's net, accrued fee, publisher's refund), each
 * compared with escrow.ts's prediction to the base unit. Predictions for a transaction start from the state of the
 * block before it and the timestamp of the block that mined it; views are read at a given block.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clients, devAccount, fund, type LocalChain, startLocalChain, walletClient } from "@podnet/devnet";
import {
  bidReservation,
  collateralFor,
  encodeAttribute,
  isExhausted,
  type LeaseEscrow,
  leaseRunsOutAt,
  leaseStatus,
  leaseWithdrawable,
  podnetMarketAbi,
  podnetTestTokenAbi,
  providerRegistryAbi,
  type Quote,
  quoteTypedData,
  runsOutAt,
  settle,
  splitWithdrawal,
} from "@podnet/sdk";
import {
  type Address,
  getContract,
  type Hex,
  keccak256,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
} from "viem";
import type { HDAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let chain: LocalChain;
beforeAll(async () => {
  chain = await startLocalChain(mkdtempSync(join(tmpdir(), "podnet-escrow-")));
}, 120_000);
afterAll(() => chain?.stop());

/** `LeaseClosed.reason` values (CloseReason in contracts/src/types/MarketTypes.sol). */
const closeReason = { publisher: 1, provider: 2, outOfFunds: 3, providerDark: 4 } as const;

const provider = devAccount(1).account;
/** A second provider, reported dark halfway: its lease accrues only up to its last heartbeat. */
const darkProvider = devAccount(2).account;
const publisher = devAccount(3).account;
const stranger = devAccount(4).account;

/** Prices and deposits chosen for the roundings: exact multiples, one base unit over, just short, huge. */
const leaseTerms: { price: bigint; deposit: bigint }[] = [
  { price: 1n, deposit: 3601n }, // one unit a second, for an hour
  { price: 7n, deposit: 7n * 900n + 3n }, // a partial last second
  { price: 1_000_000_007n, deposit: 1_000_000_007n * 86_400n }, // exactly a day
  { price: 3_141_592_653_589_793n, deposit: 3_141_592_653_589_793n * 1200n + 1n }, // one unit into the last second
  { price: 4n * 10n ** 23n, deposit: 4n * 10n ** 23n * 700n + 123_456_789n }, // collateral near the uint96 limit
  { price: 999_999_999_999n, deposit: 999_999_999_999n * 601n - 1n }, // one unit short of 601 seconds
];

function chainClients() {
  const { client, testClient } = clients(chain);
  const wallet = (account: HDAccount) => walletClient(chain, account);
  return { client, testClient, wallet };
}

const market = () => chain.deployment.contracts.podnetMarket.address;

/** The market's read functions, typed; pass `{ blockNumber }` to read at a block. */
const reads = () => getContract({ address: market(), abi: podnetMarketAbi, client: chainClients().client }).read;

type MarketCall =
  | { functionName: "withdraw"; args: [bigint[]] }
  | { functionName: "closeLease"; args: [bigint] }
  | { functionName: "topUp"; args: [bigint, bigint] }
  | { functionName: "reportDark"; args: [Address] }
  | { functionName: "heartbeat"; args: [] };

/** Sends a market call as `account`; returns the receipt and the timestamp of the block that mined it. */
async function send(account: HDAccount, call: MarketCall): Promise<{ receipt: TransactionReceipt; at: bigint }> {
  const { client, wallet } = chainClients();
  const hash = await wallet(account).writeContract({ address: market(), abi: podnetMarketAbi, ...call } as never);
  const receipt = await client.waitForTransactionReceipt({ hash });
  expect(receipt.status, call.functionName).toBe("success");
  const block = await client.getBlock({ blockNumber: receipt.blockNumber });
  return { receipt, at: block.timestamp };
}

/** The market's `_accruesUntil`: the block time, or `darkAt` when the lease's provider went dark since it started. */
async function accruesUntil(lease: { provider: Address; epoch: number }, blockNumber: bigint, at: bigint) {
  const stake = await reads().stakeOf([lease.provider], { blockNumber });
  if (stake.epoch === lease.epoch) return at;
  const record = await reads().darkRecord([lease.provider, BigInt(lease.epoch)], { blockNumber });
  return BigInt(record.darkAt);
}

/** Moves chain time forward `seconds` and mines a block; returns that block's number and timestamp. */
async function warp(seconds: number) {
  const { client, testClient } = chainClients();
  await testClient.increaseTime({ seconds });
  await testClient.mine({ blocks: 1 });
  const block = await client.getBlock();
  return { blockNumber: block.number, at: block.timestamp };
}

/** The market's views of each lease at a block equal escrow.ts's prediction from the lease read at that block. */
async function expectViewsAgree(leaseIds: bigint[], point: { blockNumber: bigint; at: bigint }) {
  for (const leaseId of leaseIds) {
    const lease = await reads().getLease([leaseId], { blockNumber: point.blockNumber });
    const [amount, outOfFunds] = await reads().withdrawable([leaseId], { blockNumber: point.blockNumber });
    const until = await accruesUntil(lease, point.blockNumber, point.at);
    const context = `lease ${leaseId} at ${point.at}`;
    expect({ amount, outOfFunds }, context).toEqual(leaseWithdrawable(lease, until));
    expect(await reads().leaseRunsOutAt([leaseId], { blockNumber: point.blockNumber }), context).toBe(
      leaseRunsOutAt(lease),
    );
  }
}

async function balanceAt(who: Address, blockNumber: bigint) {
  const { client } = chainClients();
  return client.readContract({
    address: chain.deployment.contracts.paymentToken.address,
    abi: podnetTestTokenAbi,
    functionName: "balanceOf",
    args: [who],
    blockNumber,
  });
}

/** What `withdraw` pays for one lease, from its state before the call: a closed lease all it holds. */
function predictedSettlement(lease: LeaseEscrow, until: bigint) {
  if (lease.status === leaseStatus.closed) return { earned: lease.balance, settledUntil: BigInt(lease.endedAt) };
  return settle(lease.balance, lease.pricePerSecond, BigInt(lease.settledAt), until);
}

/**
 * `withdraw(leaseIds)` as `account`, checked against escrow.ts: each lease's settlement (event and new state), the
 * gross, the fee added to the market's accrued fees and the net the provider received.
 */
async function withdrawAndCheck(account: HDAccount, leaseIds: bigint[]) {
  const { receipt, at } = await send(account, { functionName: "withdraw", args: [leaseIds] });
  const before = receipt.blockNumber - 1n;
  let gross = 0n;
  const settledEvents = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseSettled", logs: receipt.logs });
  for (const leaseId of leaseIds) {
    const lease = await reads().getLease([leaseId], { blockNumber: before });
    const { earned, settledUntil } = predictedSettlement(lease, await accruesUntil(lease, before, at));
    gross += earned;
    const event = settledEvents.find((e) => e.args.leaseId === leaseId);
    if (earned === 0n) {
      expect(event, `lease ${leaseId}: nothing to settle`).toBeUndefined();
      continue;
    }
    expect(event?.args, `lease ${leaseId}`).toEqual({ leaseId, amount: earned, settledAt: settledUntil });
    const after = await reads().getLease([leaseId], { blockNumber: receipt.blockNumber });
    expect({ balance: after.balance, settledAt: BigInt(after.settledAt) }, `lease ${leaseId}`).toEqual({
      balance: lease.balance - earned,
      settledAt: settledUntil,
    });
  }
  const { fee, net } = splitWithdrawal(gross, BigInt((await reads().params({ blockNumber: before })).feeBps));
  const [withdrew] = parseEventLogs({ abi: podnetMarketAbi, eventName: "ProviderWithdrew", logs: receipt.logs });
  if (gross === 0n) {
    expect(withdrew).toBeUndefined();
  } else {
    expect(withdrew?.args).toEqual({ provider: account.address, gross, fee, net });
  }
  expect((await balanceAt(account.address, receipt.blockNumber)) - (await balanceAt(account.address, before))).toBe(
    net,
  );
  expect(
    (await reads().accruedFees({ blockNumber: receipt.blockNumber })) -
      (await reads().accruedFees({ blockNumber: before })),
  ).toBe(fee);
  return { gross, fee, net };
}

/**
 * `closeLease(leaseId)` as `account`, checked against escrow.ts: what stays owed to the provider, the refund (plus
 * a dark provider's compensation, which is not escrow arithmetic) the publisher received, and when the lease ended.
 */
async function closeAndCheck(account: HDAccount, leaseId: bigint) {
  const { receipt, at } = await send(account, { functionName: "closeLease", args: [leaseId] });
  const before = receipt.blockNumber - 1n;
  const lease = await reads().getLease([leaseId], { blockNumber: before });
  const { earned, settledUntil } = settle(
    lease.balance,
    lease.pricePerSecond,
    BigInt(lease.settledAt),
    await accruesUntil(lease, before, at),
  );
  const refund = lease.balance - earned;
  const [closed] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseClosed", logs: receipt.logs });
  expect(closed?.args).toMatchObject({ leaseId, owed: earned, refund, endedAt: settledUntil });
  const [compensation] = parseEventLogs({ abi: podnetMarketAbi, eventName: "CompensationPaid", logs: receipt.logs });
  const received = (await balanceAt(lease.publisher, receipt.blockNumber)) - (await balanceAt(lease.publisher, before));
  expect(received).toBe(refund + (compensation?.args.amount ?? 0n));
  const after = await reads().getLease([leaseId], { blockNumber: receipt.blockNumber });
  expect({ status: after.status, balance: after.balance, endedAt: BigInt(after.endedAt) }).toEqual({
    status: leaseStatus.closed,
    balance: earned,
    endedAt: settledUntil,
  });
  return { earned, refund, reason: closed?.args.reason };
}

const leaseIds: bigint[] = [];
let darkLeaseId: bigint;

describe("escrow.ts against the deployed market", () => {
  it("locks the collateral escrow.ts predicts and reports the run-out time it predicts", async () => {
    const { client, wallet } = chainClients();
    const registry = chain.deployment.contracts.providerRegistry.address;
    const podnetMarket = market();
    const resources = { cpuMillis: 500, memoryMiB: 512, storageMiB: 1024 };
    await fund(chain, publisher, 10n ** 28n);
    for (const [account, stake] of [
      [provider, 5n * 10n ** 28n],
      [darkProvider, 10n ** 24n],
    ] as const) {
      await fund(chain, account, stake);
      const register = await wallet(account).writeContract({
        address: registry,
        abi: providerRegistryAbi,
        functionName: "register",
        args: [
          {
            endpoint: `https://${account.address}.example:8443`,
            metadataURI: "",
            encryptionKey: keccak256(stringToHex(`x25519:${account.address}`)),
            pricing: { perCpuMilli: 1n, perMemoryMiB: 1n, perStorageMiB: 1n, flat: 1n },
            capacity: { cpuMillis: 64_000, memoryMiB: 65_536, storageMiB: 1_000_000 },
            attributes: [encodeAttribute("region", "local")],
          },
        ],
      });
      await client.waitForTransactionReceipt({ hash: register });
      const staked = await wallet(account).writeContract({
        address: podnetMarket,
        abi: podnetMarketAbi,
        functionName: "stake",
        args: [stake],
      });
      await client.waitForTransactionReceipt({ hash: staked });
    }
    const { collateralSeconds } = await client.readContract({
      address: podnetMarket,
      abi: podnetMarketAbi,
      functionName: "params",
    });

    let nonce = 0n;
    const lease = async (from: HDAccount, price: bigint, deposit: bigint) => {
      const block = await client.getBlock();
      const quote: Quote = {
        provider: from.address,
        publisher: publisher.address,
        specHash: keccak256(stringToHex(`escrow pod ${++nonce}`)),
        resources,
        pricePerSecond: price,
        validUntil: Number(block.timestamp) + 600,
        attestationHash: keccak256(stringToHex("attestation")),
        nonce,
      };
      const signature = await wallet(from).signTypedData(quoteTypedData(quote, 31337, podnetMarket));
      const hash = await wallet(publisher).writeContract({
        address: podnetMarket,
        abi: podnetMarketAbi,
        functionName: "createLease",
        args: [quote, signature as Hex, deposit],
      });
      const receipt = await client.waitForTransactionReceipt({ hash });
      const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseCreated", logs: receipt.logs });
      const leaseId = created?.args.leaseId as bigint;
      const { timestamp } = await client.getBlock({ blockNumber: receipt.blockNumber });
      const onChain = await reads().getLease([leaseId], { blockNumber: receipt.blockNumber });
      expect(onChain.collateral).toBe(collateralFor(price, BigInt(collateralSeconds)));
      expect(await reads().leaseRunsOutAt([leaseId], { blockNumber: receipt.blockNumber })).toBe(
        runsOutAt(deposit, price, timestamp),
      );
      return leaseId;
    };
    for (const { price, deposit } of leaseTerms) leaseIds.push(await lease(provider, price, deposit));
    darkLeaseId = await lease(darkProvider, 1_000_000n, 1_000_000n * 7200n + 999_999n);
  });

  it("agrees with withdrawable, leaseRunsOutAt and withdraw as time passes", async () => {
    const all = [...leaseIds, darkLeaseId];
    await expectViewsAgree(all, await warp(1));
    await expectViewsAgree(all, await warp(58));
    const first = await withdrawAndCheck(provider, leaseIds);
    expect(first.gross).toBeGreaterThan(0n);
    // The dark provider's last heartbeat: its lease will have accrued up to here and no further.
    await send(darkProvider, { functionName: "heartbeat", args: [] });
    // Past the minimum lease duration: the leases funded for about ten minutes run out around here.
    for (const seconds of [540, 1, 1, 59]) await expectViewsAgree(all, await warp(seconds));
    await withdrawAndCheck(provider, leaseIds);
    // The lease funded for 601 seconds ran out and was paid in full above: withdrawing it again moves nothing.
    const again = await withdrawAndCheck(provider, [leaseIds[5] as bigint]);
    expect(again.gross).toBe(0n);
  });

  it("predicts the run-out time after a top-up", async () => {
    const leaseId = leaseIds[2] as bigint;
    const amount = 1_000_000_007n * 100n + 5n;
    const { receipt } = await send(publisher, { functionName: "topUp", args: [leaseId, amount] });
    const before = await reads().getLease([leaseId], { blockNumber: receipt.blockNumber - 1n });
    expect(await reads().leaseRunsOutAt([leaseId], { blockNumber: receipt.blockNumber })).toBe(
      runsOutAt(before.balance + amount, before.pricePerSecond, BigInt(before.settledAt)),
    );
    await expectViewsAgree(leaseIds, await warp(3));
  });

  it("agrees with the amounts closeLease moves: what stays owed, the refund, the end", async () => {
    // The publisher closes a lease that still runs (funded for an hour, about 11 minutes ago).
    const running = await closeAndCheck(publisher, leaseIds[0] as bigint);
    expect(running).toMatchObject({ reason: closeReason.publisher });
    expect(running.refund).toBeGreaterThan(0n);
    // Anyone may close a lease whose funds ran out.
    const point = await warp(300);
    const exhaustedId = leaseIds[5] as bigint;
    const exhausted = await reads().getLease([exhaustedId], { blockNumber: point.blockNumber });
    expect(isExhausted(exhausted.balance, exhausted.pricePerSecond, BigInt(exhausted.settledAt), point.at)).toBe(true);
    const out = await closeAndCheck(stranger, exhaustedId);
    expect(out).toMatchObject({ reason: closeReason.outOfFunds, refund: 0n });
    await expectViewsAgree(leaseIds, await warp(86_400));
    expect(await closeAndCheck(provider, leaseIds[1] as bigint)).toMatchObject({ reason: closeReason.outOfFunds });
    // A withdrawal of closed leases pays what they still owe, with the fee of the whole batch rounded down once.
    await withdrawAndCheck(provider, leaseIds);
    await expectViewsAgree(leaseIds, await warp(100_000));
  });

  it("accrues a dark provider's lease only up to its last heartbeat", async () => {
    // The dark provider's last heartbeat is a day old by now.
    await send(stranger, { functionName: "reportDark", args: [darkProvider.address] });
    for (const seconds of [1, 3600]) await expectViewsAgree([darkLeaseId], await warp(seconds));
    const paid = await withdrawAndCheck(darkProvider, [darkLeaseId]);
    expect(paid.gross).toBeGreaterThan(0n);
    const closed = await closeAndCheck(stranger, darkLeaseId);
    expect(closed.reason).toBe(closeReason.providerDark);
    expect(closed.refund).toBeGreaterThan(0n);
  });

  it("reserves for each bid the stake bidReservation predicts: at least the floor of the order's maximum", async () => {
    const { client, wallet } = chainClients();
    const params = await reads().params();
    await send(provider, { functionName: "heartbeat", args: [] });
    const maxPrice = 1_000_000_000_000n;
    // Below the floor (1 wei/s), one unit under it, at it, above it, the maximum.
    const floor = (maxPrice * BigInt(params.minBidCollateralBps)) / 10_000n;
    for (const price of [1n, floor - 1n, floor, floor + 1n, maxPrice]) {
      const block = await client.getBlock();
      const created = await wallet(publisher).writeContract({
        address: market(),
        abi: podnetMarketAbi,
        functionName: "createOrder",
        args: [
          keccak256(stringToHex(`escrow order ${price}`)),
          { cpuMillis: 500, memoryMiB: 512, storageMiB: 0 },
          maxPrice,
          maxPrice * BigInt(params.minLeaseDuration),
          Number(block.timestamp) + 600,
          { minStake: 0n, attributes: [] },
          false,
        ],
      });
      await client.waitForTransactionReceipt({ hash: created });
      const orderId = await reads().orderCount();
      const bid = await wallet(provider).writeContract({
        address: market(),
        abi: podnetMarketAbi,
        functionName: "placeBid",
        args: [orderId, price, []],
      });
      await client.waitForTransactionReceipt({ hash: bid });
      const { reserved } = await reads().getBid([orderId, provider.address]);
      expect(reserved, `bid at ${price}`).toBe(
        bidReservation(price, maxPrice, BigInt(params.minBidCollateralBps), BigInt(params.collateralSeconds)),
      );
    }
  });
});
