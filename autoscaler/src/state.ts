import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { IngressAddress } from "@podnet/sdk/protocol";
import type { Address } from "viem";

/**
 * What the autoscaler remembers between passes and restarts, in `<dataDir>/state.json`: per lease it placed or
 * adopted, where it serves and how its probes went; and the providers it avoids. The chain stays the truth about
 * which lease is in which slot: a lease missing here is adopted, an entry whose lease left its slot is dropped. So a
 * lost or stale file costs probe history, never a double lease.
 */

export type ProbeResult = { at: number; ok: boolean; detail: string };

export interface InstanceRecord {
  slot: number;
  /** Decimal string (leases are uint256). */
  leaseId: string;
  provider: Address;
  /** The provider API's base URL. */
  endpoint: string;
  /** The pod's HTTP route through the provider's ingress (from its status), once known. */
  httpUrl: string | null;
  /** The provider's ingress address from the registry, when it published one (what `podnet-dns` answers). */
  ingress?: IngressAddress | null;
  /** The TCP endpoint probed for a `tcp` health check, once known. */
  tcp: { host: string; port: number } | null;
  /** The manifest reached the provider (set after deployPod returned, or seen in the pod's status). */
  manifestSent: boolean;
  /** Unix ms when it was placed or adopted: the start of its startup grace. */
  since: number;
  everHealthy: boolean;
  consecutiveFailures: number;
  lastProbe: ProbeResult | null;
  /** The spec this lease was moved to by a rollout (`updateLeaseSpec`), until it probes healthy on it. */
  specUpdate?: string;
}

/** The record of a lease just put into `slot` (placed or adopted): nothing known of it yet but where it runs. */
export function newInstanceRecord(slot: number, leaseId: bigint, provider: Address, endpoint: string): InstanceRecord {
  return {
    slot,
    leaseId: leaseId.toString(),
    provider,
    endpoint,
    httpUrl: null,
    tcp: null,
    manifestSent: false,
    since: Date.now(),
    everHealthy: false,
    consecutiveFailures: 0,
    lastProbe: null,
  };
}

/** An order the autoscaler opened through the vault for a slot no provider quoted (reverse market). */
export interface OrderRecord {
  /** Decimal string (orders are uint256). */
  orderId: string;
  slot: number;
  /** Unix seconds (chain time) when bidding closes. */
  bidDeadline: number;
  /** The deposit it holds, decimal string: refunded to the app by a cancel. */
  deposit: string;
}

export interface AutoscalerState {
  version: 1;
  vault: Address;
  /** Lease id → record. */
  instances: Record<string, InstanceRecord>;
  /** Provider (lowercase) → unix ms until which it is not picked. */
  avoid: Record<string, number>;
  /**
   * Open orders by order id. Written before anything else happens after the order's transaction mined, so a restart
   * finds it and follows it (accept a bid or cancel), never leaving its deposit in an order nobody watches.
   */
  orders: Record<string, OrderRecord>;
}

export class StateStore {
  private readonly file: string;
  state: AutoscalerState;

  constructor(dataDir: string, vault: Address) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.file = join(dataDir, "state.json");
    this.state = this.read(vault);
  }

  private read(vault: Address): AutoscalerState {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT")
        return { version: 1, vault, instances: {}, avoid: {}, orders: {} };
      throw error;
    }
    const parsed = JSON.parse(text) as AutoscalerState;
    if (parsed.version !== 1) throw new Error(`${this.file}: unknown state version ${String(parsed.version)}`);
    // One data dir per app: another app's records would be adopted into the wrong vault's slots.
    if (parsed.vault.toLowerCase() !== vault.toLowerCase()) {
      throw new Error(`${this.file} belongs to app ${parsed.vault}, not ${vault}: give each app its own dataDir`);
    }
    // Files written before orders were recorded have none.
    parsed.orders ??= {};
    return parsed;
  }

  /** Writes the state atomically: a crash leaves the old file or the new one, never half of one. */
  save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.state, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
