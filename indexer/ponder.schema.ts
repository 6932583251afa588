// Every Podnet contract event, as tables. Amounts are exact integers (token base units, as bigint/numeric),
// times are unix seconds. Table names are snake_case, exports camelCase (Ponder convention).
import { index, onchainTable, primaryKey, relations } from "ponder";

/** A provider: its registry profile, its stake as the market holds it, and its liveness and history. */
export const provider = onchainTable(
  "provider",
  (t) => ({
    address: t.hex().primaryKey(),
    endpoint: t.text().notNull(),
    metadataUri: t.text().notNull(),
    encryptionKey: t.hex().notNull(),
    pricePerCpuMilli: t.bigint().notNull(),
    pricePerMemoryMiB: t.bigint().notNull(),
    pricePerStorageMiB: t.bigint().notNull(),
    priceFlat: t.bigint().notNull(),
    capacityCpuMillis: t.integer().notNull(),
    capacityMemoryMiB: t.integer().notNull(),
    capacityStorageMiB: t.integer().notNull(),
    /** Attributes as "key=value" strings. */
    attributes: t.text().array().notNull(),
    /** Where the provider's HTTP ingress listens (`setIngress`): IPv4/IPv6 text, empty when it published none. */
    ingressAddresses: t.text().array().notNull(),
    /** The ingress port; 0 when it published none. */
    ingressPort: t.integer().notNull(),
    /** "active" or "paused" in the registry. */
    status: t.text().notNull(),
    registeredAt: t.bigint().notNull(),
    updatedAt: t.bigint().notNull(),
    stakeFree: t.bigint().notNull(),
    stakeLocked: t.bigint().notNull(),
    stakeUnbonding: t.bigint().notNull(),
    unbondingReleaseAt: t.bigint().notNull(),
    /** First stake: uptime counts from here. */
    firstStakedAt: t.bigint(),
    lastHeartbeat: t.bigint(),
    heartbeatCount: t.integer().notNull(),
    epoch: t.integer().notNull(),
    jailed: t.boolean().notNull(),
    /** While jailed: the second from which the provider may unjail (report time plus the jail cooldown). */
    jailedUntil: t.bigint(),
    /** Seconds spent dark, closed periods only: from a last heartbeat to the unjail that ended the jail, and recorded
     *  dark gaps that were not reported. */
    darkSeconds: t.bigint().notNull(),
    /** When the current dark period began (the reported last heartbeat), while jailed. */
    darkSince: t.bigint(),
    darkReports: t.integer().notNull(),
    /** Dark gaps recorded by late heartbeats (silent past the threshold, back before anyone reported it). */
    darkGaps: t.integer().notNull(),
    /** The last recorded gap, from the heartbeat before it to the late heartbeat (cleared by an unjail, as on chain). */
    lastDarkGapId: t.text(),
    lastDarkGapFrom: t.bigint(),
    lastDarkGapUntil: t.bigint(),
    leasesTotal: t.integer().notNull(),
    leasesActive: t.integer().notNull(),
    disputesTotal: t.integer().notNull(),
    disputesLost: t.integer().notNull(),
    earnedGross: t.bigint().notNull(),
    /** The block of the row's last change (every handler writes it through `updateProvider`): the search index
     *  reads only the rows changed since the block it last saw. */
    changedBlock: t.bigint().notNull(),
  }),
  (table) => ({ statusIdx: index().on(table.status), changedBlockIdx: index().on(table.changedBlock) }),
);

export const order = onchainTable(
  "order",
  (t) => ({
    id: t.bigint().primaryKey(),
    publisher: t.hex().notNull(),
    specHash: t.hex().notNull(),
    cpuMillis: t.integer().notNull(),
    memoryMiB: t.integer().notNull(),
    storageMiB: t.integer().notNull(),
    maxPricePerSecond: t.bigint().notNull(),
    deposit: t.bigint().notNull(),
    bidDeadline: t.bigint().notNull(),
    autoAccept: t.boolean().notNull(),
    minStake: t.bigint().notNull(),
    attributes: t.text().array().notNull(),
    /** "open", "matched" or "cancelled". */
    status: t.text().notNull(),
    bidCount: t.integer().notNull(),
    bestBidder: t.hex(),
    bestPrice: t.bigint(),
    /** The highest standing bid price: once the order is full, a bid must beat it and evicts that bid. */
    worstPrice: t.bigint(),
    leaseId: t.bigint(),
    createdAt: t.bigint().notNull(),
    /** The app (vault address) whose order this is, when the publisher is an indexed app vault. */
    app: t.hex(),
  }),
  (table) => ({
    statusIdx: index().on(table.status),
    publisherIdx: index().on(table.publisher),
    appIdx: index().on(table.app),
  }),
);

export const bid = onchainTable(
  "bid",
  (t) => ({
    orderId: t.bigint().notNull(),
    provider: t.hex().notNull(),
    pricePerSecond: t.bigint().notNull(),
    reserved: t.bigint().notNull(),
    /** "active", "won", "released" or "evicted" (replaced by a better bid on a full order). */
    status: t.text().notNull(),
    placedAt: t.bigint().notNull(),
    /** Whose better bid evicted this one, and when (its provider may bid again: the row is then overwritten). */
    evictedBy: t.hex(),
    evictedAt: t.bigint(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.orderId, table.provider] }),
    providerIdx: index().on(table.provider),
  }),
);

export const lease = onchainTable(
  "lease",
  (t) => ({
    id: t.bigint().primaryKey(),
    publisher: t.hex().notNull(),
    provider: t.hex().notNull(),
    orderId: t.bigint(),
    specHash: t.hex().notNull(),
    cpuMillis: t.integer().notNull(),
    memoryMiB: t.integer().notNull(),
    storageMiB: t.integer().notNull(),
    pricePerSecond: t.bigint().notNull(),
    /** Initial deposit plus every top-up. */
    deposited: t.bigint().notNull(),
    /** Paid out to the provider (gross, before the protocol fee). */
    paid: t.bigint().notNull(),
    /** Returned to the publisher on close. */
    refunded: t.bigint().notNull(),
    /** Slashed stake paid to the publisher (dark provider or dispute ruling). */
    compensation: t.bigint().notNull(),
    /** Tokens held for the lease now: deposited - paid - refunded. */
    balance: t.bigint().notNull(),
    /** Stake locked for the lease: while it runs, then held for disputes after the close until released. */
    collateral: t.bigint().notNull(),
    /** After the close, while collateral is held: the end of the dispute window (endedAt + disputeWindow); anyone
     *  may release the collateral from then on unless a dispute holds it. */
    collateralReleasableAt: t.bigint(),
    /** When the held collateral went back to the provider (or, for a provider gone dark, was paid out). */
    collateralReleasedAt: t.bigint(),
    epoch: t.integer().notNull(),
    /** "active" or "closed". */
    status: t.text().notNull(),
    /** "publisher", "provider", "out_of_funds" or "provider_dark" once closed. */
    closeReason: t.text(),
    closedBy: t.hex(),
    startedAt: t.bigint().notNull(),
    endedAt: t.bigint(),
    settledAt: t.bigint().notNull(),
    attestationHash: t.hex().notNull(),
    disputed: t.boolean().notNull(),
    /** The app (vault address) this lease belongs to, when the publisher is an indexed app vault. */
    app: t.hex(),
  }),
  (table) => ({
    providerIdx: index().on(table.provider),
    publisherIdx: index().on(table.publisher),
    statusIdx: index().on(table.status),
    appIdx: index().on(table.app),
  }),
);

/** One provider withdrawal (a batch of lease settlements). */
export const withdrawal = onchainTable("withdrawal", (t) => ({
  id: t.text().primaryKey(),
  provider: t.hex().notNull(),
  gross: t.bigint().notNull(),
  fee: t.bigint().notNull(),
  net: t.bigint().notNull(),
  blockNumber: t.bigint().notNull(),
  timestamp: t.bigint().notNull(),
  transactionHash: t.hex().notNull(),
}));

/** Every movement of a provider's stake. */
export const stakeChange = onchainTable(
  "stake_change",
  (t) => ({
    id: t.text().primaryKey(),
    provider: t.hex().notNull(),
    /** staked, unstake_requested, withdrawn, locked, released, slashed, returned */
    kind: t.text().notNull(),
    amount: t.bigint().notNull(),
    leaseId: t.bigint(),
    orderId: t.bigint(),
    timestamp: t.bigint().notNull(),
  }),
  (table) => ({ providerIdx: index().on(table.provider) }),
);

/** A dark gap: a provider heartbeated later than the threshold after its previous heartbeat. It stays reportable for
 *  the gap (its leases then end at `from`) until `reportableUntil`. */
export const darkGap = onchainTable(
  "dark_gap",
  (t) => ({
    id: t.text().primaryKey(),
    provider: t.hex().notNull(),
    from: t.bigint().notNull(),
    until: t.bigint().notNull(),
    reportableUntil: t.bigint().notNull(),
    /** Whether a dark report then used this gap (its darkAt is `from`). */
    reported: t.boolean().notNull(),
  }),
  (table) => ({ providerIdx: index().on(table.provider) }),
);

/** A dark-provider report: the slash and where it went. */
export const darkReport = onchainTable("dark_report", (t) => ({
  id: t.text().primaryKey(),
  provider: t.hex().notNull(),
  reporter: t.hex().notNull(),
  epoch: t.integer().notNull(),
  darkAt: t.bigint().notNull(),
  slashed: t.bigint().notNull(),
  reward: t.bigint().notNull(),
  returned: t.bigint().notNull(),
  compensationPaid: t.bigint().notNull(),
  swept: t.bigint().notNull(),
  reportedAt: t.bigint().notNull(),
  /** The provider may unjail from this second on. */
  jailedUntil: t.bigint().notNull(),
}));

export const dispute = onchainTable(
  "dispute",
  (t) => ({
    id: t.bigint().primaryKey(),
    leaseId: t.bigint().notNull(),
    publisher: t.hex().notNull(),
    provider: t.hex().notNull(),
    bond: t.bigint().notNull(),
    evidenceUri: t.text().notNull(),
    answerUri: t.text(),
    answerBy: t.bigint().notNull(),
    ruleBy: t.bigint().notNull(),
    /** "open", "slashed", "dismissed" or "lapsed". */
    status: t.text().notNull(),
    slashRequested: t.bigint(),
    slashed: t.bigint(),
    arbiter: t.hex(),
    openedAt: t.bigint().notNull(),
    closedAt: t.bigint(),
  }),
  (table) => ({ providerIdx: index().on(table.provider) }),
);

/** Heartbeats aggregated per provider per UTC day (a row per heartbeat would dwarf everything else). */
export const heartbeatDay = onchainTable(
  "heartbeat_day",
  (t) => ({
    provider: t.hex().notNull(),
    day: t.integer().notNull(),
    count: t.integer().notNull(),
    first: t.bigint().notNull(),
    last: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.provider, table.day] }) }),
);

/** Protocol-wide totals and parameters: one row, id "podnet". */
export const protocol = onchainTable("protocol", (t) => ({
  id: t.text().primaryKey(),
  providers: t.integer().notNull(),
  leases: t.integer().notNull(),
  orders: t.integer().notNull(),
  totalStaked: t.bigint().notNull(),
  totalDeposited: t.bigint().notNull(),
  totalPaidToProviders: t.bigint().notNull(),
  totalRefunded: t.bigint().notNull(),
  feesAccrued: t.bigint().notNull(),
  feesWithdrawn: t.bigint().notNull(),
  totalSlashed: t.bigint().notNull(),
  totalCompensation: t.bigint().notNull(),
  treasury: t.hex(),
  feeBps: t.integer().notNull(),
  collateralSeconds: t.bigint().notNull(),
  heartbeatThreshold: t.bigint().notNull(),
  minProviderStake: t.bigint().notNull(),
  maxBidsPerOrder: t.integer().notNull(),
  jailCooldown: t.bigint().notNull(),
  disputeWindow: t.bigint().notNull(),
  minBidCollateralBps: t.integer().notNull(),
  disputeBond: t.bigint().notNull(),
  disputeAnswerWindow: t.bigint().notNull(),
  disputeRulingWindow: t.bigint().notNull(),
  /** The AccessManager governing the market and the court (only changes through governance). */
  marketAuthority: t.hex(),
  courtAuthority: t.hex(),
}));

/** Quote nonces a provider cancelled (bits set in `mask` within word `wordPos`). */
export const quoteNonceInvalidation = onchainTable("quote_nonce_invalidation", (t) => ({
  id: t.text().primaryKey(),
  provider: t.hex().notNull(),
  wordPos: t.bigint().notNull(),
  mask: t.bigint().notNull(),
  timestamp: t.bigint().notNull(),
}));

// ---------------------------------------------------------------- app vaults (the autoscaler's apps)

/** An app: an AppVault created by the deployment's AppVaultFactory (vaults of any other factory are not indexed). */
export const app = onchainTable(
  "app",
  (t) => ({
    /** The vault's address (as indexed: lowercase). */
    vault: t.hex().primaryKey(),
    owner: t.hex().notNull(),
    /** Named by transferOwnership until it accepts (or another transfer replaces it). */
    pendingOwner: t.hex(),
    salt: t.hex().notNull(),
    specHash: t.hex().notNull(),
    configHash: t.hex().notNull(),
    maxPricePerSecond: t.bigint().notNull(),
    maxDepositPerLease: t.bigint().notNull(),
    maxInstances: t.integer().notNull(),
    /** The payment token (the vault's token()), read once when the app is created. */
    token: t.hex().notNull(),
    /** The payment token's balanceOf(vault) at the end of `balanceBlock`: read from the chain, not summed from
     *  flows, because tokens sent to a vault directly count too and no event of ours announces them. */
    balance: t.bigint().notNull(),
    /** The block the balance was last read at: the last block in which an event moved the app's money. */
    balanceBlock: t.bigint().notNull(),
    /** Sum of Funded amounts. */
    fundedTotal: t.bigint().notNull(),
    /** Sum of Withdrawn amounts. */
    withdrawnTotal: t.bigint().notNull(),
    /** Paid into the market and the court: lease deposits and top-ups, order deposits, dispute bonds. */
    spentTotal: t.bigint().notNull(),
    /** Paid back by the market: refunds of closed leases and cancelled orders, compensation. */
    returnedTotal: t.bigint().notNull(),
    /** Network mode (NetworkTermsSet): live autoscaler nodes act as controllers, paid per replacement. */
    networkEnabled: t.boolean().notNull().default(false),
    feePerReplacement: t.bigint().notNull().default(0n),
    maxFeesPerDay: t.bigint().notNull().default(0n),
    /** Sum of NodeFeePaid amounts: what the app paid autoscaler nodes. */
    nodeFeesTotal: t.bigint().notNull().default(0n),
    createdBlock: t.bigint().notNull(),
    createdAt: t.bigint().notNull(),
    createdTransaction: t.hex().notNull(),
  }),
  (table) => ({ ownerIdx: index().on(table.owner) }),
);

/** A controller of an app (an autoscaler's key) as last set; a removed one stays with enabled = false. */
export const appController = onchainTable(
  "app_controller",
  (t) => ({
    app: t.hex().notNull(),
    controller: t.hex().notNull(),
    enabled: t.boolean().notNull(),
    updatedBlock: t.bigint().notNull(),
    updatedAt: t.bigint().notNull(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.app, table.controller] }),
    controllerIdx: index().on(table.controller),
  }),
);

/** An instance slot of an app that was ever filled: the lease it holds now (null once cleared). */
export const appSlot = onchainTable(
  "app_slot",
  (t) => ({
    app: t.hex().notNull(),
    slot: t.integer().notNull(),
    leaseId: t.bigint(),
    /** The controller (or owner) of the last replaceSlot, acceptBid or clearSlot. */
    updatedBy: t.hex().notNull(),
    updatedBlock: t.bigint().notNull(),
    updatedAt: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.app, table.slot] }) }),
);

/** Everything that happened to an app, in chain order (`id` is Ponder's event id, which sorts so). */
export const appEvent = onchainTable(
  "app_event",
  (t) => ({
    id: t.text().primaryKey(),
    app: t.hex().notNull(),
    /** created, funded, withdrawn, slot_replaced, slot_cleared, controller_set, limits_set, spec_updated,
     *  config_updated, ownership_transfer_started, ownership_transferred, network_terms_set, node_fee (amount to
     *  `account`, the node, for `leaseId` in `slot`); and from the market and the court:
     *  lease_deposit (a direct lease), lease_matched (a lease from an order: no money moves), lease_top_up,
     *  lease_refund, compensation, order_deposit, order_refund, dispute_bond, dispute_bond_returned. */
    kind: t.text().notNull(),
    /** Token base units that moved, for the money kinds; null otherwise. */
    amount: t.bigint(),
    /** The other party: funder, withdrawal recipient, controller, new owner, slot updater. */
    account: t.hex(),
    slot: t.integer(),
    leaseId: t.bigint(),
    /** The lease a replaceSlot closed or the slot held before. */
    previousLeaseId: t.bigint(),
    orderId: t.bigint(),
    blockNumber: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    transactionHash: t.hex().notNull(),
  }),
  (table) => ({ appIdx: index().on(table.app) }),
);

/** An autoscaler node of the AutoscalerNetwork. A node that withdrew its stake keeps its row (status "withdrawn"). */
export const autoscalerNode = onchainTable("autoscaler_node", (t) => ({
  /** The node's address (its key: the one that heartbeats and acts on vaults). */
  address: t.hex().primaryKey(),
  /** active, exiting or withdrawn. */
  status: t.text().notNull(),
  endpoint: t.text().notNull(),
  encryptionKey: t.hex().notNull(),
  /** Its DNS server's addresses (0x00000000 / 0x0…0: none), raw as on chain. */
  dnsIpv4: t.hex().notNull(),
  dnsIpv6: t.hex().notNull(),
  stake: t.bigint().notNull(),
  registeredAt: t.bigint().notNull(),
  /** Unix seconds of its last heartbeat: live while within the network's livenessWindow of the chain's time. */
  lastHeartbeat: t.bigint().notNull(),
  heartbeats: t.integer().notNull(),
  /** When an exiting node may withdraw; null otherwise. */
  exitAt: t.bigint(),
  /** Sum of the fees apps paid it (NodeFeePaid). */
  feesEarned: t.bigint().notNull(),
  replacements: t.integer().notNull(),
}));

/** The AutoscalerNetwork's parameters: one row, id "network". */
export const networkParams = onchainTable("network_params", (t) => ({
  id: t.text().primaryKey(),
  minStake: t.bigint().notNull(),
  heartbeatPeriod: t.integer().notNull(),
  livenessWindow: t.integer().notNull(),
  exitDelay: t.integer().notNull(),
}));

export const appRelations = relations(app, ({ many }) => ({
  controllers: many(appController),
  slots: many(appSlot),
  events: many(appEvent),
  leases: many(lease),
  orders: many(order),
}));
export const appControllerRelations = relations(appController, ({ one }) => ({
  parentApp: one(app, { fields: [appController.app], references: [app.vault] }),
}));
export const appSlotRelations = relations(appSlot, ({ one }) => ({
  parentApp: one(app, { fields: [appSlot.app], references: [app.vault] }),
  lease: one(lease, { fields: [appSlot.leaseId], references: [lease.id] }),
}));
export const appEventRelations = relations(appEvent, ({ one }) => ({
  parentApp: one(app, { fields: [appEvent.app], references: [app.vault] }),
}));
export const leaseRelations = relations(lease, ({ one }) => ({
  parentApp: one(app, { fields: [lease.app], references: [app.vault] }),
}));
export const orderRelations = relations(order, ({ one }) => ({
  parentApp: one(app, { fields: [order.app], references: [app.vault] }),
}));
