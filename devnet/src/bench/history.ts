/**
 * A seeded marketplace history for the indexer benchmark (npm run bench:indexer): providers registering and staking,
 * then leases created from signed quotes, topped up, withdrawn from and closed, thousands of transactions per block.
 */
import { podnetMarketAbi, pricePerSecond, quoteTypedData, type Resources } from "@podnet/sdk/protocol";
import { decodeEventLog, encodePacked, keccak256 } from "viem";
import { LOCAL_CHAIN_ID } from "../anvil.js";
import {
  type Call,
  data,
  eventNames,
  fundCalls,
  type Mined,
  mineBlock,
  profileOf,
  type SeedChain,
  seedProviders,
  type Wallet,
  wallet,
} from "./seed.js";
import { fmt, Progress } from "./stats.js";

const LEASES_PER_COHORT = 400;
const PUBLISHERS = 500;

/** How much history {@link seedHistory} seeds. */
export type HistoryOptions = { providers: number; leases: number; minutes: number };

/**
 * Empty blocks after the seeded history, more than Ponder's finality depth for chain 31337 (30 blocks): a seeded
 * history is history, so the catch-up measures Ponder's historical sync. The live path (one block at a time) is
 * what the lag measurement times.
 */
const FINALITY_BLOCKS = 64;

/** Mines the empty blocks that make the seeded history final for Ponder. */
export async function finalizeHistory(chain: SeedChain) {
  for (let i = 0; i < FINALITY_BLOCKS; i++) {
    chain.time += 1;
    await chain.rpc.call("evm_mine", [{ timestamp: chain.time, blocks: 1 }]);
    chain.blockNumber += 1;
  }
}

/** What {@link seedHistory} made: the providers, the counts, and whether the time budget cut it short. */
export type Seeded = {
  providers: Wallet[];
  providersWanted: number;
  leases: number;
  events: number;
  lifecycleEvents: number;
  byName: Map<string, number>;
  transactions: number;
  blocks: number;
  seconds: number;
  stoppedByTime: boolean;
};

function addCounts(target: Map<string, number>, source: Map<string, number>) {
  for (const [name, n] of source) target.set(name, (target.get(name) ?? 0) + n);
}

async function seedAllProviders(chain: SeedChain, count: number, deadline: number, seeded: Seeded, progress: Progress) {
  await seedProviders(chain, count, {
    deadline,
    onBlock: (mined, transactions, batch) => {
      record(seeded, mined, transactions);
      seeded.providers.push(...batch);
      progress.log(`providers ${fmt(seeded.providers.length)}/${fmt(count)}, events ${fmt(seeded.events)}`);
    },
  });
}

function record(seeded: Seeded, mined: Mined, transactions: number) {
  seeded.events += mined.events;
  seeded.transactions += transactions;
  seeded.blocks += 1;
  addCounts(seeded.byName, mined.byName);
}

type Lease = { id: bigint; provider: Wallet; publisher: Wallet; close: boolean };

/** Signs a quote with the provider's key, priced by its listed prices (as a real provider would). */
async function createLeaseCall(chain: SeedChain, provider: Wallet, publisher: Wallet, i: number): Promise<Call> {
  const profile = profileOf(Number(BigInt.asUintN(32, BigInt(i))));
  const resources: Resources = { cpuMillis: 500 + (i % 4) * 250, memoryMiB: 512 * (1 + (i % 4)), storageMiB: 1024 };
  const quote = {
    provider: provider.address,
    publisher: publisher.address,
    specHash: keccak256(encodePacked(["string", "uint256"], ["podnet-bench-spec", BigInt(i)])),
    resources,
    pricePerSecond: pricePerSecond(profile.pricing, resources),
    validUntil: chain.time + 86_400,
    attestationHash: keccak256(encodePacked(["string", "uint256"], ["podnet-bench-attestation", BigInt(i)])),
    nonce: provider.quoteNonce++,
  };
  const signature = await provider.account.signTypedData(
    quoteTypedData(quote, LOCAL_CHAIN_ID, chain.deployment.contracts.podnetMarket.address),
  );
  // A day of funds: well above the market's 10-minute minimum, and it never runs out during the bench.
  const deposit = quote.pricePerSecond * 86_400n;
  return {
    from: publisher,
    to: chain.deployment.contracts.podnetMarket.address,
    data: data.market("createLease", [quote, signature, deposit]),
  };
}

/**
 * Leases in cohorts through a four-stage pipeline, one stage per block: cohort c is created while c-1 is topped
 * up, c-2's providers withdraw, and half of c-3 is closed by its publishers. Every block thus mixes the lease
 * events an indexer sees in production.
 */
async function seedLeases(chain: SeedChain, aim: number, deadline: number, seeded: Seeded, progress: Progress) {
  const market = chain.deployment.contracts.podnetMarket.address;
  const publishers = Array.from({ length: PUBLISHERS }, (_, i) => wallet("publisher", i));
  const funding = await fundCalls(chain, publishers);
  record(seeded, await mineBlock(chain, funding), funding.length);

  const providers = seeded.providers;
  const cohortSize = Math.min(LEASES_PER_COHORT, providers.length);
  const cohorts: Lease[][] = [];
  const startEvents = seeded.events;
  let leaseIndex = 0;
  for (let c = 0; Date.now() < deadline; c++) {
    const creating = seeded.lifecycleEvents < aim;
    if (!creating && c - cohorts.length >= 3) break;
    const calls: Call[] = [];
    const newLeases: { provider: Wallet; publisher: Wallet }[] = [];
    if (creating) {
      for (let j = 0; j < cohortSize; j++, leaseIndex++) {
        const provider = providers[leaseIndex % providers.length] as Wallet;
        const publisher = publishers[leaseIndex % publishers.length] as Wallet;
        calls.push(await createLeaseCall(chain, provider, publisher, leaseIndex));
        newLeases.push({ provider, publisher });
      }
    }
    const topUps = cohorts[c - 1] ?? [];
    for (const l of topUps) calls.push({ from: l.publisher, to: market, data: data.market("topUp", [l.id, 1_000n]) });
    for (const l of cohorts[c - 2] ?? []) {
      calls.push({ from: l.provider, to: market, data: data.market("withdraw", [[l.id]]) });
    }
    for (const l of (cohorts[c - 3] ?? []).filter((l) => l.close)) {
      calls.push({ from: l.publisher, to: market, data: data.market("closeLease", [l.id]) });
    }
    if (calls.length === 0) break;
    const mined = await mineBlock(chain, calls);
    if (creating) cohorts.push(leasesFrom(mined, newLeases));
    record(seeded, mined, calls.length);
    seeded.lifecycleEvents = seeded.events - startEvents;
    seeded.leases = leaseIndex;
    progress.log(
      `leases ${fmt(leaseIndex)}, lease events ${fmt(seeded.lifecycleEvents)}/${fmt(aim)}, block ${chain.blockNumber}`,
    );
  }
}

/** Lease ids come from the LeaseCreated logs; a cohort has one lease per provider, so the provider names it. */
function leasesFrom(mined: Mined, created: { provider: Wallet; publisher: Wallet }[]): Lease[] {
  const byProvider = new Map(created.map((l) => [l.provider.address.toLowerCase(), l]));
  const leases: Lease[] = [];
  for (const receipt of mined.receipts.values()) {
    for (const log of receipt.logs) {
      if (eventNames.get(log.topics[0]) !== "LeaseCreated") continue;
      const { args } = decodeEventLog({ abi: podnetMarketAbi, eventName: "LeaseCreated", ...log });
      const match = byProvider.get(args.provider.toLowerCase());
      if (match) leases.push({ id: args.leaseId, ...match, close: leases.length % 2 === 0 });
    }
  }
  if (leases.length !== created.length) throw new Error(`${leases.length} of ${created.length} leases created`);
  return leases;
}

/**
 * Seeds `providers` providers (registered and staked), then leases until about `leases` lease events, within
 * `minutes`: the history the indexer benchmark catches up on.
 */
export async function seedHistory(chain: SeedChain, options: HistoryOptions): Promise<Seeded> {
  const start = Date.now();
  const deadline = start + options.minutes * 60_000;
  const progress = new Progress(start);
  const seeded: Seeded = {
    providers: [],
    providersWanted: options.providers,
    leases: 0,
    events: 0,
    lifecycleEvents: 0,
    byName: new Map(),
    transactions: 0,
    blocks: 0,
    seconds: 0,
    stoppedByTime: false,
  };
  console.log(`Seeding ${fmt(options.providers)} providers, then ~${fmt(options.leases)} lease events`);
  await seedAllProviders(chain, options.providers, deadline, seeded, progress);
  progress.log(`providers done: ${fmt(seeded.providers.length)}, events ${fmt(seeded.events)}`, true);
  if (seeded.providers.length > 0 && Date.now() < deadline) {
    await seedLeases(chain, options.leases, deadline, seeded, progress);
  }
  seeded.stoppedByTime = Date.now() >= deadline;
  seeded.seconds = (Date.now() - start) / 1000;
  progress.log(
    `seeded ${fmt(seeded.events)} events in ${fmt(seeded.transactions)} transactions, ${seeded.blocks} blocks` +
      (seeded.stoppedByTime ? " (stopped by the time budget)" : ""),
    true,
  );
  return seeded;
}
