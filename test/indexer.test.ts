/**
 * The Ponder indexer end to end: a scripted marketplace history on a real anvil (devnet/src/scenario.ts), then the
 * indexer started as a child process on each database (PGlite always, Postgres when PODNET_TEST_DATABASE_URL is
 * set). Every indexed row is cross-checked against the contracts' own view of the same object, the protocol's
 * token accounting is rebuilt from the indexed rows, and the HTTP API (search, eligible orders, validation) is
 * checked against the chain.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  contractHandles,
  contracts,
  createScratchDatabase,
  devAccount,
  graphql,
  type Indexer,
  type LocalChain,
  runScenario,
  type ScenarioResult,
  startIndexer,
  startLocalChain,
  waitForIndexedBlock,
  walletClient,
} from "@podnet/devnet";
import {
  type ApiErrorBody,
  decodeAttribute,
  type EligibleOrdersResponse,
  encodeAttribute,
  indexerApiRoutes,
  type Resources,
  type SearchResponse,
} from "@podnet/sdk";
import { type Address, getAddress } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const providerStatuses = ["none", "active", "paused"] as const;
const leaseStatuses = ["none", "active", "closed"] as const;
const orderStatuses = ["none", "open", "matched", "cancelled"] as const;
const bidStatuses = ["none", "active", "won", "released", "evicted"] as const;
const disputeStatuses = ["none", "open", "slashed", "dismissed", "lapsed"] as const;

const addr = (value: string | null | undefined) => (value ? getAddress(value) : null);
const big = (value: string | number | null | undefined) =>
  value === null || value === undefined ? null : BigInt(value);
const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
const ZERO = "0x0000000000000000000000000000000000000000";

let localChain: LocalChain;
let scenario: ScenarioResult;

beforeAll(async () => {
  localChain = await startLocalChain(mkdtempSync(join(tmpdir(), "podnet-indexer-e2e-")));
  scenario = await runScenario(localChain);
}, 180_000);

afterAll(() => localChain?.stop());

// ---------------------------------------------------------------- GraphQL row shapes (bigints come back as strings)

type ProviderGql = {
  address: string;
  endpoint: string;
  metadataUri: string;
  encryptionKey: string;
  pricePerCpuMilli: string;
  pricePerMemoryMiB: string;
  pricePerStorageMiB: string;
  priceFlat: string;
  capacityCpuMillis: number;
  capacityMemoryMiB: number;
  capacityStorageMiB: number;
  attributes: string[];
  status: string;
  registeredAt: string;
  updatedAt: string;
  stakeFree: string;
  stakeLocked: string;
  stakeUnbonding: string;
  unbondingReleaseAt: string;
  lastHeartbeat: string | null;
  epoch: number;
  jailed: boolean;
  jailedUntil: string | null;
  darkGaps: number;
  lastDarkGapFrom: string | null;
  lastDarkGapUntil: string | null;
  leasesTotal: number;
  leasesActive: number;
  darkReports: number;
  disputesTotal: number;
  disputesLost: number;
};
type LeaseGql = {
  id: string;
  publisher: string;
  provider: string;
  orderId: string | null;
  specHash: string;
  pricePerSecond: string;
  deposited: string;
  paid: string;
  refunded: string;
  compensation: string;
  balance: string;
  collateral: string;
  epoch: number;
  status: string;
  closeReason: string | null;
  startedAt: string;
  endedAt: string | null;
  settledAt: string;
  disputed: boolean;
  collateralReleasableAt: string | null;
  collateralReleasedAt: string | null;
};
type OrderGql = {
  id: string;
  publisher: string;
  specHash: string;
  cpuMillis: number;
  memoryMiB: number;
  storageMiB: number;
  maxPricePerSecond: string;
  deposit: string;
  bidDeadline: string;
  autoAccept: boolean;
  minStake: string;
  attributes: string[];
  status: string;
  bidCount: number;
  bestBidder: string | null;
  bestPrice: string | null;
  worstPrice: string | null;
  leaseId: string | null;
};
type BidGql = {
  orderId: string;
  provider: string;
  pricePerSecond: string;
  reserved: string;
  status: string;
  placedAt: string;
  evictedBy: string | null;
};
type DarkGapGql = { provider: string; from: string; until: string; reportableUntil: string; reported: boolean };
type DarkReportGql = {
  id: string;
  provider: string;
  reporter: string;
  epoch: number;
  darkAt: string;
  slashed: string;
  reward: string;
  returned: string;
  compensationPaid: string;
  swept: string;
};
type DisputeGql = {
  id: string;
  leaseId: string;
  publisher: string;
  provider: string;
  bond: string;
  status: string;
  answerBy: string;
  ruleBy: string;
  evidenceUri: string;
  answerUri: string | null;
  slashRequested: string | null;
  slashed: string | null;
  arbiter: string | null;
};
type ProtocolGql = {
  providers: number;
  leases: number;
  orders: number;
  feesAccrued: string;
  feesWithdrawn: string;
  treasury: string | null;
  feeBps: number;
  collateralSeconds: string;
  heartbeatThreshold: string;
  minProviderStake: string;
  maxBidsPerOrder: number;
  jailCooldown: string;
  disputeWindow: string;
  minBidCollateralBps: number;
};
type Snapshot = {
  providers: { items: ProviderGql[] };
  leases: { items: LeaseGql[] };
  orders: { items: OrderGql[] };
  bids: { items: BidGql[] };
  darkReports: { items: DarkReportGql[] };
  darkGaps: { items: DarkGapGql[] };
  disputes: { items: DisputeGql[] };
  protocol: ProtocolGql | null;
};

const snapshotQuery = `{
  providers(limit: 1000) { items {
    address endpoint metadataUri encryptionKey pricePerCpuMilli pricePerMemoryMiB pricePerStorageMiB priceFlat
    capacityCpuMillis capacityMemoryMiB capacityStorageMiB attributes status registeredAt updatedAt
    stakeFree stakeLocked stakeUnbonding unbondingReleaseAt lastHeartbeat epoch jailed jailedUntil
    darkGaps lastDarkGapFrom lastDarkGapUntil leasesTotal leasesActive darkReports disputesTotal disputesLost
  } }
  leases(limit: 1000) { items {
    id publisher provider orderId specHash pricePerSecond deposited paid refunded compensation balance collateral
    epoch status closeReason startedAt endedAt settledAt disputed collateralReleasableAt collateralReleasedAt
  } }
  orders(limit: 1000) { items {
    id publisher specHash cpuMillis memoryMiB storageMiB maxPricePerSecond deposit bidDeadline autoAccept minStake
    attributes status bidCount bestBidder bestPrice worstPrice leaseId
  } }
  bids(limit: 1000) { items { orderId provider pricePerSecond reserved status placedAt evictedBy } }
  darkGaps(limit: 1000) { items { provider from until reportableUntil reported } }
  darkReports(limit: 1000) { items {
    id provider reporter epoch darkAt slashed reward returned compensationPaid swept
  } }
  disputes(limit: 1000) { items {
    id leaseId publisher provider bond status answerBy ruleBy evidenceUri answerUri slashRequested slashed arbiter
  } }
  protocol(id: "podnet") {
    providers leases orders feesAccrued feesWithdrawn treasury feeBps collateralSeconds heartbeatThreshold
    minProviderStake maxBidsPerOrder jailCooldown disputeWindow minBidCollateralBps
  }
}`;

/** The snapshot as text, independent of the order of fields and rows (which varies between answers). */
function canonical(snapshot: Snapshot): string {
  return JSON.stringify(
    Object.entries(snapshot)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, value]) =>
        value && "items" in value
          ? [key, (value.items as unknown[]).map((item) => JSON.stringify(item)).sort()]
          : [key, value],
      ),
  );
}

// ---------------------------------------------------------------- one suite per database

const postgresUrl = process.env.PODNET_TEST_DATABASE_URL;
const databases = [
  { name: "PGlite", databaseUrl: undefined, skip: false },
  // Skipped only when no Postgres is configured (local runs); `npm test` sets the variable in CI.
  { name: "Postgres", databaseUrl: postgresUrl, skip: !postgresUrl },
];

for (const database of databases) {
  describe.skipIf(database.skip)(`indexer on ${database.name}`, () => {
    let indexer: Indexer | undefined;
    let dropDatabase: (() => Promise<unknown>) | undefined;
    let snapshot: Snapshot;
    let chain: ReturnType<typeof contracts>;

    const api = async (path: string) => {
      const response = await fetch(`${(indexer as Indexer).url}${path}`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    beforeAll(async () => {
      chain = contracts(localChain);
      // A unique schema per run, in a scratch database per run (see devnet/src/postgres.ts: Ponder's sync data is
      // per database, and anvil reuses block numbers).
      const schema = `podnet_e2e_${process.pid}_${Date.now().toString(36)}`;
      let databaseUrl: string | undefined;
      if (database.databaseUrl) {
        const scratch = await createScratchDatabase(database.databaseUrl, schema);
        dropDatabase = scratch.drop;
        databaseUrl = scratch.url;
      }
      indexer = await startIndexer({ chain: localChain, databaseUrl, schema });
      await waitForIndexedBlock(indexer, scenario.latestBlock);
      snapshot = await graphql<Snapshot>(indexer, snapshotQuery);
      // Settled: a second read a moment later must agree (guards against reads racing the last block's commit).
      for (let attempt = 0; ; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        const again = await graphql<Snapshot>(indexer, snapshotQuery);
        if (canonical(again) === canonical(snapshot)) break;
        snapshot = again;
        if (attempt > 20) throw new Error("the indexer's GraphQL answers did not settle");
      }
    }, 180_000);

    afterAll(async () => {
      await indexer?.stop();
      await dropDatabase?.();
    });

    it("indexes every provider's registry profile and market stake as the contracts hold them", async () => {
      const count = await chain.registry.read.providerCount();
      const onChain = await Promise.all(
        Array.from({ length: Number(count) }, (_, i) => chain.registry.read.providerAt([BigInt(i)])),
      );
      expect(snapshot.providers.items.map((p) => addr(p.address)).sort()).toEqual([...onChain].sort());
      expect(onChain.sort()).toEqual([...scenario.providers].sort());

      const leaseRows = await Promise.all(
        Array.from({ length: Number(await chain.market.read.leaseCount()) }, (_, i) =>
          chain.market.read.getLease([BigInt(i + 1)]),
        ),
      );
      for (const row of snapshot.providers.items) {
        const address = getAddress(row.address);
        const [profile, status, registeredAt, updatedAt] = await chain.registry.read.getProvider([address]);
        const stake = await chain.market.read.stakeOf([address]);
        const context = `provider ${address}`;
        expect(row.endpoint, context).toBe(profile.endpoint);
        expect(row.metadataUri, context).toBe(profile.metadataURI);
        expect(row.encryptionKey, context).toBe(profile.encryptionKey.toLowerCase());
        expect(big(row.pricePerCpuMilli), context).toBe(profile.pricing.perCpuMilli);
        expect(big(row.pricePerMemoryMiB), context).toBe(profile.pricing.perMemoryMiB);
        expect(big(row.pricePerStorageMiB), context).toBe(profile.pricing.perStorageMiB);
        expect(big(row.priceFlat), context).toBe(profile.pricing.flat);
        expect(row.capacityCpuMillis, context).toBe(profile.capacity.cpuMillis);
        expect(row.capacityMemoryMiB, context).toBe(profile.capacity.memoryMiB);
        expect(row.capacityStorageMiB, context).toBe(profile.capacity.storageMiB);
        expect(row.attributes, context).toEqual(
          profile.attributes.map((a) => {
            const { key, value } = decodeAttribute(a);
            return `${key}=${value}`;
          }),
        );
        expect(row.status, context).toBe(providerStatuses[status]);
        expect(big(row.registeredAt), context).toBe(BigInt(registeredAt));
        expect(big(row.updatedAt), context).toBe(BigInt(updatedAt));

        expect(big(row.stakeFree), context).toBe(stake.free);
        expect(big(row.stakeLocked), context).toBe(stake.locked);
        expect(big(row.stakeUnbonding), context).toBe(stake.unbonding);
        expect(big(row.unbondingReleaseAt), context).toBe(BigInt(stake.unbondingReleaseAt));
        expect(big(row.lastHeartbeat), context).toBe(BigInt(stake.lastHeartbeat));
        expect(row.epoch, context).toBe(stake.epoch);
        expect(row.jailed, context).toBe(stake.jailed);

        const own = leaseRows.filter((l) => l.provider === address);
        expect(row.leasesTotal, context).toBe(own.length);
        expect(row.leasesActive, context).toBe(own.filter((l) => leaseStatuses[l.status] === "active").length);
        expect(row.darkReports, context).toBe(stake.epoch);
      }
      // The scenario's history shows up: a provider reported dark that left jail with unjail after its cooldown, and
      // two that heartbeated late after the dispute window (a dark gap each, as the market recorded it).
      const p3 = snapshot.providers.items.find((p) => addr(p.address) === scenario.providers[2]);
      expect(p3?.jailed).toBe(false);
      expect(p3?.epoch).toBe(1);
      expect(p3?.jailedUntil).toBeNull();
      for (const address of scenario.providers.slice(0, 2)) {
        const row = snapshot.providers.items.find((p) => addr(p.address) === address);
        const stake = await chain.market.read.stakeOf([address]);
        expect(row?.darkGaps, address).toBeGreaterThan(0);
        expect(big(row?.lastDarkGapFrom), address).toBe(BigInt(stake.darkGapFrom));
        expect(big(row?.lastDarkGapUntil), address).toBe(BigInt(stake.darkGapUntil));
        const gaps = snapshot.darkGaps.items.filter((g) => addr(g.provider) === address);
        expect(
          gaps.map((g) => big(g.until)),
          address,
        ).toContain(BigInt(stake.darkGapUntil));
      }
    });

    it("indexes every lease as getLease reports it", async () => {
      const count = Number(await chain.market.read.leaseCount());
      expect(count).toBe(Object.keys(scenario.leases).length);
      expect(snapshot.leases.items.map((l) => Number(l.id)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: count }, (_, i) => i + 1),
      );
      for (let id = 1n; id <= BigInt(count); id++) {
        const onChain = await chain.market.read.getLease([id]);
        const row = snapshot.leases.items.find((l) => BigInt(l.id) === id);
        const context = `lease ${id}`;
        expect(row, context).toBeDefined();
        if (!row) continue;
        expect(addr(row.publisher), context).toBe(onChain.publisher);
        expect(addr(row.provider), context).toBe(onChain.provider);
        expect(row.specHash, context).toBe(onChain.specHash.toLowerCase());
        expect(big(row.pricePerSecond), context).toBe(onChain.pricePerSecond);
        expect(big(row.balance), context).toBe(onChain.balance);
        expect(big(row.collateral), context).toBe(onChain.collateral);
        expect(row.status, context).toBe(leaseStatuses[onChain.status]);
        expect(big(row.startedAt), context).toBe(BigInt(onChain.startedAt));
        expect(big(row.settledAt), context).toBe(BigInt(onChain.settledAt));
        expect(big(row.endedAt), context).toBe(row.status === "closed" ? BigInt(onChain.endedAt) : null);
        expect(row.epoch, context).toBe(onChain.epoch);
        expect(row.disputed, context).toBe(onChain.disputed);
        // The row's own ledger adds up to what the market holds for the lease.
        expect(BigInt(row.deposited) - BigInt(row.paid) - BigInt(row.refunded), context).toBe(onChain.balance);
      }
      const closeReasons = Object.fromEntries(snapshot.leases.items.map((l) => [l.id, l.closeReason]));
      const { lease2, lease3, lease4, lease5, shortLease, darkDisputed } = scenario.leases;
      expect([lease2, lease3, lease4, lease5, shortLease].map((id) => closeReasons[String(id)])).toEqual([
        "publisher",
        "provider_dark",
        "provider",
        "publisher",
        "out_of_funds",
      ]);
      // The dark provider's disputed lease still runs, its collateral awaiting the dark close.
      const running = snapshot.leases.items.find((l) => BigInt(l.id) === darkDisputed);
      expect(running?.status).toBe("active");
      expect(big(running?.collateral)).toBeGreaterThan(0n);
      // Closed leases held their collateral for the dispute window: released by a ruling (lease2, disputed after its
      // close) or by releaseCollateral once the window was over (lease4, shortLease).
      for (const id of [lease2, lease4, shortLease]) {
        const row = snapshot.leases.items.find((l) => BigInt(l.id) === id);
        expect(big(row?.collateral), `lease ${id}`).toBe(0n);
        expect(row?.collateralReleasableAt, `lease ${id}`).toBeNull();
        expect(big(row?.collateralReleasedAt), `lease ${id}`).toBeGreaterThan(0n);
      }
    });

    it("indexes every order and bid as getOrder and getBid report them", async () => {
      const count = Number(await chain.market.read.orderCount());
      expect(snapshot.orders.items.length).toBe(count);
      const bidsSeen = new Set<string>();
      for (let id = 1n; id <= BigInt(count); id++) {
        const onChain = await chain.market.read.getOrder([id]);
        const attributes = await chain.market.read.orderAttributes([id]);
        const row = snapshot.orders.items.find((o) => BigInt(o.id) === id);
        const context = `order ${id}`;
        expect(row, context).toBeDefined();
        if (!row) continue;
        expect(addr(row.publisher), context).toBe(onChain.publisher);
        expect(row.specHash, context).toBe(onChain.specHash.toLowerCase());
        expect([row.cpuMillis, row.memoryMiB, row.storageMiB], context).toEqual([
          onChain.resources.cpuMillis,
          onChain.resources.memoryMiB,
          onChain.resources.storageMiB,
        ]);
        expect(big(row.maxPricePerSecond), context).toBe(onChain.maxPricePerSecond);
        expect(big(row.deposit), context).toBe(onChain.deposit);
        expect(big(row.bidDeadline), context).toBe(BigInt(onChain.bidDeadline));
        expect(row.autoAccept, context).toBe(onChain.autoAccept);
        expect(big(row.minStake), context).toBe(onChain.minStake);
        expect(row.attributes, context).toEqual(
          attributes.map((a) => {
            const { key, value } = decodeAttribute(a);
            return `${key}=${value}`;
          }),
        );
        expect(row.status, context).toBe(orderStatuses[onChain.status]);
        expect(row.bidCount, context).toBe(onChain.bidCount);
        expect(addr(row.bestBidder) ?? ZERO, context).toBe(onChain.bestBidder);
        expect(big(row.bestPrice) ?? 0n, context).toBe(onChain.bestPrice);
        expect(big(row.leaseId) ?? 0n, context).toBe(onChain.leaseId);

        // Every bid the market holds for the order is indexed, with its status.
        for (const provider of scenario.providers) {
          const onChainBid = await chain.market.read.getBid([id, provider]);
          const bidRow = snapshot.bids.items.find((b) => BigInt(b.orderId) === id && addr(b.provider) === provider);
          const bidContext = `bid of ${provider} on order ${id}`;
          if (onChainBid.status === 0) {
            expect(bidRow, bidContext).toBeUndefined();
            continue;
          }
          bidsSeen.add(`${id}-${provider}`);
          expect(bidRow, bidContext).toBeDefined();
          expect(bidRow?.status, bidContext).toBe(bidStatuses[onChainBid.status]);
          expect(big(bidRow?.pricePerSecond), bidContext).toBe(onChainBid.pricePerSecond);
          expect(big(bidRow?.reserved), bidContext).toBe(onChainBid.reserved);
          expect(big(bidRow?.placedAt), bidContext).toBe(BigInt(onChainBid.placedAt));
        }
        // bidCount counts standing bids: evicted ones stay as rows.
        const standing = snapshot.bids.items.filter((b) => BigInt(b.orderId) === id && b.status !== "evicted");
        expect(standing.length, context).toBe(onChain.bidCount);
      }
      expect(snapshot.bids.items.length).toBe(bidsSeen.size);
      // The scenario's mix: matched by acceptBid and by finalizeOrder, cancelled, and one still open.
      const status = Object.fromEntries(snapshot.orders.items.map((o) => [o.id, o.status]));
      const { order1, order2, order3, fullOrder, openOrder } = scenario.orders;
      expect([order1, order2, order3, fullOrder, openOrder].map((id) => status[String(id)])).toEqual([
        "matched",
        "matched",
        "cancelled",
        "cancelled",
        "open",
      ]);
      // The full order's worst bid (p1's) was evicted by p3's better one.
      const [p1, , p3] = scenario.providers;
      const evicted = snapshot.bids.items.find((b) => BigInt(b.orderId) === fullOrder && addr(b.provider) === p1);
      expect(evicted?.status).toBe("evicted");
      expect(addr(evicted?.evictedBy)).toBe(p3);
    });

    it("indexes dark reports whose pools match the market's dark records", async () => {
      let expected = 0;
      for (const provider of scenario.providers) {
        const { epoch } = await chain.market.read.stakeOf([provider]);
        expected += epoch;
        for (let e = 0; e < epoch; e++) {
          const record = await chain.market.read.darkRecord([provider, BigInt(e)]);
          const row = snapshot.darkReports.items.find((r) => addr(r.provider) === provider && r.epoch === e);
          const context = `dark report of ${provider} epoch ${e}`;
          expect(row, context).toBeDefined();
          if (!row) continue;
          expect(big(row.darkAt), context).toBe(BigInt(record.darkAt));
          const pool = BigInt(row.slashed) - BigInt(row.reward) - BigInt(row.compensationPaid) - BigInt(row.swept);
          expect(pool, context).toBe(record.pool);
        }
      }
      expect(expected).toBeGreaterThan(0);
      expect(snapshot.darkReports.items.length).toBe(expected);
      const [report] = snapshot.darkReports.items;
      expect(addr(report?.reporter)).toBe(scenario.stranger);
      expect(big(report?.compensationPaid)).toBeGreaterThan(0n);
      expect(big(report?.swept)).toBeGreaterThan(0n);
    });

    it("indexes disputes with the court's status, bond and deadlines", async () => {
      const count = Number(await chain.court.read.disputeCount());
      expect(count).toBe(Object.keys(scenario.disputes).length);
      expect(snapshot.disputes.items.length).toBe(count);
      for (let id = 1n; id <= BigInt(count); id++) {
        const onChain = await chain.court.read.getDispute([id]);
        const row = snapshot.disputes.items.find((d) => BigInt(d.id) === id);
        const context = `dispute ${id}`;
        expect(row, context).toBeDefined();
        if (!row) continue;
        const lease = await chain.market.read.getLease([onChain.leaseId]);
        expect(row.status, context).toBe(disputeStatuses[onChain.status]);
        expect(big(row.leaseId), context).toBe(onChain.leaseId);
        expect(addr(row.publisher), context).toBe(lease.publisher);
        expect(addr(row.provider), context).toBe(lease.provider);
        expect(big(row.bond), context).toBe(onChain.bond);
        expect(big(row.answerBy), context).toBe(BigInt(onChain.answerBy));
        expect(big(row.ruleBy), context).toBe(BigInt(onChain.ruleBy));
        expect(row.answerUri !== null, context).toBe(onChain.answered);
      }
      // The court holds exactly the bonds of open disputes.
      const openBonds = sum(snapshot.disputes.items.filter((d) => d.status === "open").map((d) => BigInt(d.bond)));
      expect(await chain.token.read.balanceOf([localChain.deployment.contracts.disputeCourt.address])).toBe(openBonds);
      const slashedRow = snapshot.disputes.items.find((d) => BigInt(d.id) === scenario.disputes.dispute1);
      expect(big(slashedRow?.slashed)).toBeGreaterThan(0n);
    });

    it("keeps protocol totals and the market's token balance consistent with the chain", async () => {
      const row = snapshot.protocol;
      expect(row).not.toBeNull();
      if (!row) return;
      const params = await chain.market.read.params();
      expect(row.providers).toBe(Number(await chain.registry.read.providerCount()));
      expect(row.leases).toBe(Number(await chain.market.read.leaseCount()));
      expect(row.orders).toBe(Number(await chain.market.read.orderCount()));
      expect(addr(row.treasury)).toBe(await chain.market.read.treasury());
      expect(row.feeBps).toBe(params.feeBps);
      expect(big(row.collateralSeconds)).toBe(BigInt(params.collateralSeconds));
      expect(big(row.heartbeatThreshold)).toBe(BigInt(params.heartbeatThreshold));
      expect(big(row.minProviderStake)).toBe(params.minProviderStake);
      expect(row.maxBidsPerOrder).toBe(params.maxBidsPerOrder);
      expect(big(row.jailCooldown)).toBe(BigInt(params.jailCooldown));
      expect(big(row.disputeWindow)).toBe(BigInt(params.disputeWindow));
      expect(row.minBidCollateralBps).toBe(params.minBidCollateralBps);

      const accrued = BigInt(row.feesAccrued) - BigInt(row.feesWithdrawn);
      expect(accrued).toBe(await chain.market.read.accruedFees());
      expect(big(row.feesWithdrawn)).toBeGreaterThan(0n);

      // The market's balance is the sum of everything it holds, rebuilt from the indexed rows alone.
      const leaseBalances = sum(snapshot.leases.items.map((l) => BigInt(l.balance)));
      const openDeposits = sum(snapshot.orders.items.filter((o) => o.status === "open").map((o) => BigInt(o.deposit)));
      const stake = sum(
        snapshot.providers.items.map((p) => BigInt(p.stakeFree) + BigInt(p.stakeLocked) + BigInt(p.stakeUnbonding)),
      );
      const darkPools = sum(
        snapshot.darkReports.items.map(
          (r) => BigInt(r.slashed) - BigInt(r.reward) - BigInt(r.compensationPaid) - BigInt(r.swept),
        ),
      );
      const marketBalance = await chain.token.read.balanceOf([localChain.deployment.contracts.podnetMarket.address]);
      expect(leaseBalances + openDeposits + stake + accrued + darkPools).toBe(marketBalance);
    });

    it("/search returns only eligible providers, cheapest first, priced by the registry", async () => {
      const resources: Resources = { cpuMillis: 500, memoryMiB: 512, storageMiB: 0 };
      for (const [key, value] of [
        ["region", "eu-west"],
        ["region", "us-east"],
      ] as const) {
        const { status, body } = await api(
          `/search?cpu=${resources.cpuMillis}&memory=${resources.memoryMiB}&attr=${key}=${value}`,
        );
        expect(status).toBe(200);
        const results = (body as unknown as SearchResponse).providers;
        // Eligible by the chain's own view: active in the registry, not jailed, the attribute, the capacity.
        const expected: { address: Address; price: bigint }[] = [];
        for (const provider of scenario.providers) {
          const [profile] = await chain.registry.read.getProvider([provider]);
          const [hasAll] = await chain.registry.read.hasAttributes([provider, [encodeAttribute(key, value)]]);
          const fits =
            profile.capacity.cpuMillis >= resources.cpuMillis &&
            profile.capacity.memoryMiB >= resources.memoryMiB &&
            profile.capacity.storageMiB >= resources.storageMiB;
          const eligible =
            (await chain.registry.read.isActive([provider])) &&
            !(await chain.market.read.stakeOf([provider])).jailed &&
            hasAll &&
            fits;
          if (eligible) {
            expected.push({ address: provider, price: await chain.registry.read.priceFor([provider, resources]) });
          }
        }
        expected.sort((a, b) => (a.price < b.price ? -1 : a.price > b.price ? 1 : 0));
        expect(results.map((r) => addr(r.address))).toEqual(expected.map((e) => e.address));
        for (const result of results) {
          const address = getAddress(result.address);
          expect(BigInt(result.pricePerSecond)).toBe(await chain.registry.read.priceFor([address, resources]));
          expect(result.attributes).toContain(`${key}=${value}`);
        }
        const prices = results.map((r) => BigInt(r.pricePerSecond));
        expect(prices).toEqual([...prices].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        if (value === "eu-west") expect(results.length).toBeGreaterThanOrEqual(2);
      }
    });

    it("/providers/:address/eligible-orders lists the open order a provider can bid on", async () => {
      const [p1, , p3] = scenario.providers as [Address, Address, Address];
      const openOrder = await chain.market.read.getOrder([scenario.orders.openOrder]);
      expect(orderStatuses[openOrder.status]).toBe("open");
      for (const address of [p1, p1.toLowerCase()]) {
        const { status, body } = await api(indexerApiRoutes.eligibleOrders.path(address));
        expect(status).toBe(200);
        const { orders } = body as unknown as EligibleOrdersResponse;
        expect(orders.map((o) => BigInt(o.orderId))).toEqual([scenario.orders.openOrder]);
        expect(BigInt(orders[0]?.pricePerSecond ?? -1)).toBe(
          await chain.registry.read.priceFor([p1, openOrder.resources]),
        );
        expect(BigInt(orders[0]?.maxPricePerSecond ?? -1)).toBe(openOrder.maxPricePerSecond);
      }
      // A provider that already bid on the order no longer sees it; one outside the region gets nothing.
      const p2 = scenario.providers[1] as Address;
      expect(bidStatuses[(await chain.market.read.getBid([scenario.orders.openOrder, p2])).status]).toBe("active");
      for (const address of [p2, p3]) {
        const { status, body } = await api(indexerApiRoutes.eligibleOrders.path(address));
        expect(status).toBe(200);
        expect(body).toEqual({ orders: [] });
      }
      const unknown = await api(indexerApiRoutes.eligibleOrders.path(scenario.stranger));
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({
        error: { status: 404, message: `provider ${getAddress(scenario.stranger)} is not registered` },
      });
    });

    it("rejects bad queries with 400 naming the field", async () => {
      const cases: [string, string][] = [
        ["/search?cpu=500&memory=512&colour=blue", "colour"],
        ["/search?cpu=abc&memory=512", "cpu"],
        ["/search?cpu=500", "memory"],
        ["/search?cpu=500&memory=512&limit=100000", "limit"],
        ["/search?cpu=500&memory=512&maxPrice=-1", "maxPrice"],
        ["/search?cpu=500&memory=512&maxPrice=1.5", "maxPrice"],
        ["/search?cpu=500&memory=512&attr=bad", "attr"],
        ["/search?cpu=500&memory=512&minUptimeBps=10001", "minUptimeBps"],
        ["/providers/0x1234/eligible-orders", "address"],
        ["/providers/not-an-address/eligible-orders", "address"],
      ];
      for (const [path, field] of cases) {
        const { status, body } = await api(path);
        expect(status, path).toBe(400);
        // The protocol's error body, the provider API's shape.
        const { error } = body as ApiErrorBody;
        expect(error.status, path).toBe(400);
        expect(error.message, path).toMatch(new RegExp(`^${field}\\b`));
        expect(Object.keys(error), path).toEqual(["status", "message"]);
      }
    });

    it("answers an unknown route with a 404 error body and leaves Ponder's own routes answering", async () => {
      expect(await api("/no-such-route")).toEqual({
        status: 404,
        body: { error: { status: 404, message: "GET /no-such-route: no such route" } },
      });
      for (const path of ["/health", "/status", "/metrics"]) {
        expect((await fetch(`${(indexer as Indexer).url}${path}`)).status, path).toBe(200);
      }
    });

    it("answers an unknown GraphQL field with an error", async () => {
      const response = await fetch(`${(indexer as Indexer).url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ providers { items { address noSuchField } } }" }),
      });
      const body = (await response.json()) as { errors?: { message: string }[]; data?: unknown };
      const failed = (response.status >= 400 && response.status < 500) || (body.errors?.length ?? 0) > 0;
      expect(failed).toBe(true);
      expect(JSON.stringify(body.errors)).toContain("noSuchField");
      expect(response.status).toBeLessThan(500);
    });

    // Last in the suite: it changes a provider on chain (the other database's suite indexes the result afresh).
    it("/search follows changes after it first answered: a paused provider leaves, a repriced one moves", async () => {
      const path = "/search?cpu=500&memory=512&attr=region=eu-west";
      const search = async () => ((await api(path)).body as unknown as SearchResponse).providers;
      const before = await search();
      expect(before.length).toBeGreaterThanOrEqual(2);
      const dearest = getAddress((before.at(-1) as { address: string }).address);
      const index = scenario.providers.indexOf(dearest);
      expect(index).toBeGreaterThanOrEqual(0);
      // The scenario's providers are dev accounts 1, 2 and 3, in that order.
      const wallet = walletClient(localChain, devAccount(index + 1).account);
      const registry = contractHandles(localChain.deployment, { public: chain.client, wallet }).registry;
      const send = async (hash: Promise<`0x${string}`>) => {
        const receipt = await chain.client.waitForTransactionReceipt({ hash: await hash });
        expect(receipt.status).toBe("success");
        await waitForIndexedBlock(indexer as Indexer, receipt.blockNumber);
      };

      await send(registry.write.pause());
      expect((await search()).map((p) => getAddress(p.address))).not.toContain(dearest);

      const [profile] = await chain.registry.read.getProvider([dearest]);
      // A flat price under the cheapest listed one (this runs once per database, on the same chain).
      const lowest = BigInt((before[0] as { pricePerSecond: string }).pricePerSecond);
      const cheapest = { perCpuMilli: 0n, perMemoryMiB: 0n, perStorageMiB: 0n, flat: lowest - 1n };
      await send(registry.write.resume());
      await send(registry.write.updateProfile([{ ...profile, pricing: cheapest }]));
      const after = await search();
      expect(getAddress((after[0] as { address: string }).address)).toBe(dearest);
      expect(BigInt((after[0] as { pricePerSecond: string }).pricePerSecond)).toBe(
        await chain.registry.read.priceFor([dearest, { cpuMillis: 500, memoryMiB: 512, storageMiB: 0 }]),
      );
      expect(after.map((p) => p.address).sort()).toEqual(before.map((p) => p.address).sort());
    });
  });
}
