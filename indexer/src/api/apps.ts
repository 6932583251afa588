// GET /apps/:address: an app vault with its enabled controllers and the leases its slots hold, in the wire format of
// @podnet/sdk/protocol (AppResponse). The autoscaler and App DNS read it.
import type { AppResponse, AppSlotJson } from "@podnet/sdk/protocol";

type AppRow = {
  vault: `0x${string}`;
  owner: `0x${string}`;
  pendingOwner: `0x${string}` | null;
  salt: `0x${string}`;
  specHash: `0x${string}`;
  configHash: `0x${string}`;
  maxPricePerSecond: bigint;
  maxDepositPerLease: bigint;
  maxInstances: number;
  balance: bigint;
  balanceBlock: bigint;
  fundedTotal: bigint;
  withdrawnTotal: bigint;
  spentTotal: bigint;
  returnedTotal: bigint;
  networkEnabled: boolean;
  feePerReplacement: bigint;
  maxFeesPerDay: bigint;
  nodeFeesTotal: bigint;
  createdBlock: bigint;
  createdAt: bigint;
};
type SlotRow = {
  slot: number;
  leaseId: bigint | null;
  updatedBy: `0x${string}`;
  updatedBlock: bigint;
  updatedAt: bigint;
};
type LeaseRow = {
  id: bigint;
  provider: `0x${string}`;
  status: string;
  closeReason: string | null;
  specHash: `0x${string}`;
  pricePerSecond: bigint;
  balance: bigint;
  settledAt: bigint;
  startedAt: bigint;
  endedAt: bigint | null;
};

/** The response body from the indexed rows; a slot whose lease is not indexed (cannot happen) is left out. */
export function appResponse(
  row: AppRow,
  controllers: readonly `0x${string}`[],
  slots: readonly SlotRow[],
  leases: readonly LeaseRow[],
): AppResponse {
  const leaseById = new Map(leases.map((lease) => [lease.id, lease]));
  const slotJson: AppSlotJson[] = [];
  for (const slot of [...slots].sort((a, b) => a.slot - b.slot)) {
    const lease = slot.leaseId === null ? undefined : leaseById.get(slot.leaseId);
    if (!lease) continue;
    slotJson.push({
      slot: slot.slot,
      updatedBy: slot.updatedBy,
      updatedBlock: slot.updatedBlock.toString(),
      updatedAt: slot.updatedAt.toString(),
      lease: {
        leaseId: lease.id.toString(),
        provider: lease.provider,
        status: lease.status === "active" ? "active" : "closed",
        closeReason: lease.closeReason,
        specHash: lease.specHash,
        pricePerSecond: lease.pricePerSecond.toString(),
        balance: lease.balance.toString(),
        settledAt: lease.settledAt.toString(),
        startedAt: lease.startedAt.toString(),
        endedAt: lease.endedAt === null ? null : lease.endedAt.toString(),
      },
    });
  }
  return {
    vault: row.vault,
    owner: row.owner,
    pendingOwner: row.pendingOwner,
    salt: row.salt,
    specHash: row.specHash,
    configHash: row.configHash,
    limits: {
      maxPricePerSecond: row.maxPricePerSecond.toString(),
      maxDepositPerLease: row.maxDepositPerLease.toString(),
      maxInstances: row.maxInstances,
    },
    controllers: [...controllers].sort(),
    balance: row.balance.toString(),
    balanceBlock: row.balanceBlock.toString(),
    fundedTotal: row.fundedTotal.toString(),
    withdrawnTotal: row.withdrawnTotal.toString(),
    spentTotal: row.spentTotal.toString(),
    returnedTotal: row.returnedTotal.toString(),
    network: {
      enabled: row.networkEnabled,
      feePerReplacement: row.feePerReplacement.toString(),
      maxFeesPerDay: row.maxFeesPerDay.toString(),
    },
    nodeFeesTotal: row.nodeFeesTotal.toString(),
    createdBlock: row.createdBlock.toString(),
    createdAt: row.createdAt.toString(),
    slots: slotJson,
  };
}
