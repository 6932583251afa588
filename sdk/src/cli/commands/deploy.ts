import { setTimeout as sleep } from "node:timers/promises";
import type { Address, Hash } from "viem";
import type { PodnetClientWithActions } from "../../create-podnet-client.js";
import { contractError } from "../../errors.js";
import { fundedSeconds, type PodManifest, podnetMarketAbi } from "../../protocol/index.js";
import { type OptionSpec, type ParsedArgs, UsageError } from "../args.js";
import type { Context, TokenInfo } from "../config.js";
import { CliError } from "../errors.js";
import { fields } from "../output.js";
import { sendPod } from "../send-pod.js";
import { formatAmount, formatDuration, formatTime, parseDuration } from "../units.js";
import {
  addressOption,
  amountOption,
  attributesOption,
  durationOption,
  fundingLine,
  nextSteps,
  podArgument,
  podEndpoints,
  podJson,
  stringOption,
  tokenOrUndefined,
  topProvider,
} from "./shared.js";

export const options: OptionSpec = {
  provider: { type: "string", value: "address", description: "lease this provider (default: the cheapest found)" },
  duration: { type: "string", value: "duration", description: "fund the lease for this long (default 1h)" },
  deposit: { type: "string", value: "base units", description: "or escrow exactly this much" },
  market: { type: "boolean", description: "ask providers to bid (reverse market) instead of leasing directly" },
  "bid-window": { type: "string", value: "duration", description: "with --market: how long providers may bid" },
  "max-price": {
    type: "string",
    value: "base units/s",
    description: "most you pay per second (--market default: highest list price found)",
  },
  "auto-accept": { type: "boolean", description: "with --market: the order matches the lowest bid by itself" },
  attr: { type: "list", value: "key=value", description: "required provider attribute (repeatable)" },
  wait: { type: "boolean", negatable: true, description: "wait until the pod runs (default; --no-wait returns)" },
  timeout: { type: "string", value: "duration", description: "how long to wait for the pod (default 5m)" },
};

export const help = `Direct (default): picks the provider (--provider, or the cheapest the indexer finds), gets and
verifies its quote, creates the lease with the deposit (--duration x price, or --deposit), sends the pod (uploading
the blobs the provider lacks, with their keys wrapped to it) and waits until it runs. Prints the lease id, the pod's
URLs and what to run next.

--market: creates an order (spec hash, resources, --max-price, deposit) and prints bids as they arrive; after
--bid-window it accepts the lowest bid (--auto-accept: the order is matched to the lowest bid by the market, finalized
by podnet if nobody else did), then sends the pod like a direct deploy. No bid: the order is cancelled and the deposit
refunded.

examples:
  podnet deploy pod.yaml --duration 1h
  podnet deploy pod.yaml --provider 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --deposit 5000000000
  podnet deploy pod.yaml --market --bid-window 60s --max-price 2000000 --attr region=eu`;

interface Leased {
  leaseId: bigint;
  provider: Address;
  pricePerSecond: bigint;
  deposit: bigint;
  txHash: Hash;
  /** How the deposit was paid for (createLease or createOrder): allowance, permit or approve. */
  funding: "allowance" | "permit" | "approve";
  orderId?: bigint;
}

/** What a deploy is asked for, read from its options before anything is spent. */
export interface DeployPlan {
  market: boolean;
  seconds: bigint;
  deposit?: bigint;
  maxPrice?: bigint;
  attributes: string[];
  provider?: Address;
  bidWindow: bigint;
  autoAccept: boolean;
  wait: boolean;
  timeoutMs: number;
}

/** Reads and checks the deploy options (shared by `podnet up`): every refusal comes before a blob or a token moves. */
export function deployPlan(args: ParsedArgs): DeployPlan {
  const market = args.options.market === true;
  if (stringOption(args, "duration") !== undefined && stringOption(args, "deposit") !== undefined) {
    throw new UsageError("--deposit: give either --duration or --deposit, not both");
  }
  if (!market) {
    for (const flag of ["bid-window", "auto-accept"]) {
      if (args.options[flag] !== undefined) throw new UsageError(`--${flag}: only with --market`);
    }
  } else if (stringOption(args, "provider") !== undefined) {
    throw new UsageError("--provider: not with --market (providers bid; the lowest bid wins)");
  }
  const deposit = amountOption(args, "deposit");
  const maxPrice = amountOption(args, "max-price");
  const provider = addressOption(stringOption(args, "provider"), "--provider");
  return {
    market,
    seconds: durationOption(args, "duration", "1h") as bigint,
    ...(deposit !== undefined ? { deposit } : {}),
    ...(maxPrice !== undefined ? { maxPrice } : {}),
    attributes: attributesOption(args),
    ...(provider !== undefined ? { provider } : {}),
    bidWindow: parseDuration(stringOption(args, "bid-window") ?? "60s", "--bid-window"),
    autoAccept: args.options["auto-accept"] === true,
    wait: args.options.wait !== false,
    timeoutMs: Number(durationOption(args, "timeout", "5m")) * 1000,
  };
}

export async function run(ctx: Context, args: ParsedArgs): Promise<void> {
  const [file, ...extra] = args.positionals;
  if (extra.length > 0) throw new UsageError(`deploy: unexpected argument ${extra[0]}`);
  const plan = deployPlan(args);
  const { manifest } = podArgument(ctx, file, "deploy");
  await deployManifest(ctx, plan, manifest, file as string);
}

/**
 * Leases a provider (directly or through the market), sends the pod, waits for it and prints the result. `file` is
 * the pod.yaml the next steps name (podnet update <lease> <file>); `extra` joins the --json result.
 */
export async function deployManifest(
  ctx: Context,
  plan: DeployPlan,
  manifest: PodManifest,
  file: string,
  extra: Record<string, unknown> = {},
): Promise<void> {
  const client = await ctx.client("required");
  const token = await tokenOrUndefined(ctx);
  const leased = plan.market
    ? await viaMarket(ctx, client, manifest, token, plan)
    : await direct(ctx, client, manifest, token, plan);

  const { deployed, status } = await sendPod(ctx, client, leased.leaseId, manifest, file, {
    wait: plan.wait,
    timeoutMs: plan.timeoutMs,
  });
  const lease = await client.getLease({ leaseId: leased.leaseId });
  const endpoints = status ? podEndpoints(status) : { urls: [], tcp: [] };
  ctx.out.result(
    {
      ...extra,
      leaseId: leased.leaseId,
      ...(leased.orderId !== undefined ? { orderId: leased.orderId } : {}),
      provider: leased.provider,
      pricePerSecond: leased.pricePerSecond,
      deposit: leased.deposit,
      runsOutAt: lease.runsOutAt,
      txHash: leased.txHash,
      funding: leased.funding,
      specHash: deployed.specHash,
      blobs: deployed.blobs,
      uploads: deployed.uploads,
      phase: status?.pod.phase ?? "deployed",
      urls: endpoints.urls,
      tcp: status?.tcp ?? [],
      ...(status ? { status: podJson(status) } : {}),
    },
    () =>
      [
        fields([
          ["lease", leased.leaseId.toString()],
          ["order", leased.orderId?.toString()],
          ["provider", leased.provider],
          ["price", `${formatAmount(leased.pricePerSecond, token)} per second`],
          ["deposit", formatAmount(leased.deposit, token)],
          ["runs out", formatTime(lease.runsOutAt)],
          ["pod", status ? status.pod.phase : "sent (not waited for)"],
          ...endpoints.urls.map((url) => ["url", url] as const),
          ...endpoints.tcp.map((tcp) => ["tcp", tcp] as const),
        ]),
        "",
        ...nextSteps(leased.leaseId, file),
      ].join("\n"),
  );
}

async function direct(
  ctx: Context,
  client: PodnetClientWithActions,
  manifest: PodManifest,
  token: TokenInfo | undefined,
  opts: { seconds: bigint; deposit?: bigint; maxPrice?: bigint; attributes: string[]; provider?: Address },
): Promise<Leased> {
  const provider =
    opts.provider ??
    (
      await topProvider(ctx, client, manifest, {
        attributes: opts.attributes,
        ...(opts.maxPrice !== undefined ? { maxPricePerSecond: opts.maxPrice } : {}),
      })
    ).address;
  const quoted = await client.getQuote({
    provider,
    manifest,
    ...(opts.maxPrice !== undefined ? { policy: { maxPricePerSecond: opts.maxPrice } } : {}),
  });
  const price = quoted.quote.pricePerSecond;
  ctx.out.progress(`quote ✓ ${price} base units/s from ${provider}`);
  const deposit = opts.deposit ?? (await client.estimateCost({ pricePerSecond: price, seconds: opts.seconds })).total;
  const created = await client.createLease({ quote: quoted.quote, signature: quoted.signature, deposit });
  const funded = fundingLine(created, deposit, token);
  if (funded) ctx.out.progress(funded);
  ctx.out.progress(
    `lease ${created.leaseId} created (tx ${created.txHash}): ${formatAmount(deposit, token)} escrowed, about ${formatDuration(fundedSeconds(deposit, price))}`,
  );
  return {
    leaseId: created.leaseId,
    provider,
    pricePerSecond: price,
    deposit,
    txHash: created.txHash,
    funding: created.funding,
  };
}

async function viaMarket(
  ctx: Context,
  client: PodnetClientWithActions,
  manifest: PodManifest,
  token: TokenInfo | undefined,
  opts: {
    seconds: bigint;
    deposit?: bigint;
    maxPrice?: bigint;
    attributes: string[];
    bidWindow: bigint;
    autoAccept: boolean;
  },
): Promise<Leased> {
  let maxPrice = opts.maxPrice;
  if (maxPrice === undefined) {
    const found = await client.findProviders({ manifest, attributes: opts.attributes, limit: 20 });
    if (found.length === 0) {
      throw new CliError("--max-price: no provider found to derive a price cap from; give --max-price <base units/s>");
    }
    // bigints: Math.max does not take them.
    maxPrice = 0n;
    for (const p of found) if (p.pricePerSecond > maxPrice) maxPrice = p.pricePerSecond;
    ctx.out.progress(
      `max price ${maxPrice} base units/s (the highest list price of ${found.length} matching providers)`,
    );
  }
  const deposit = opts.deposit ?? maxPrice * opts.seconds;
  const order = await client.createOrder({
    manifest,
    maxPricePerSecond: maxPrice,
    deposit,
    bidWindowSeconds: Number(opts.bidWindow),
    requirements: { attributes: opts.attributes },
    autoAccept: opts.autoAccept,
  });
  const { orderId } = order;
  const funded = fundingLine(order, deposit, token);
  if (funded) ctx.out.progress(funded);
  ctx.out.progress(
    `order ${orderId} created (tx ${order.txHash}): ${formatAmount(deposit, token)} escrowed, bids until ${formatTime(order.bidDeadline)}`,
  );

  const market = client.deployment.contracts.podnetMarket.address;
  const readOrder = () =>
    client.publicClient.readContract({
      address: market,
      abi: podnetMarketAbi,
      functionName: "getOrder",
      args: [orderId],
    });
  const write = async (action: "cancelOrder" | "finalizeOrder") => {
    try {
      return (await client[action]({ orderId })).txHash;
    } catch (error) {
      throw contractError(action, error);
    }
  };
  const cancel = async (why: string): Promise<never> => {
    const hash = await write("cancelOrder");
    throw new CliError(`${why}; order ${orderId} cancelled (tx ${hash}), the deposit ${deposit} is refunded`);
  };

  // Watch bids until the window closes (Ctrl-C cancels the order and refunds it).
  const seen = new Set<string>();
  let matched = false;
  ctx.graceful = true;
  try {
    for (;;) {
      const bids = await client.getBids({ orderId });
      for (const bid of bids) {
        if (seen.has(bid.provider)) continue;
        seen.add(bid.provider);
        ctx.out.progress(`bid from ${bid.provider}: ${bid.pricePerSecond} base units/s`);
      }
      if (opts.autoAccept && (await readOrder()).status === 2) {
        matched = true;
        break;
      }
      if (Date.now() / 1000 > order.bidDeadline + 1) break;
      await sleep(1000, undefined, { signal: ctx.signal });
    }
  } catch (error) {
    if (ctx.signal.aborted) await cancel("interrupted");
    throw error;
  } finally {
    ctx.graceful = false;
  }

  let leased: { leaseId: bigint; provider: Address; pricePerSecond: bigint; txHash?: Hash };
  if (opts.autoAccept) {
    if (!matched) {
      const current = await readOrder();
      if (current.status === 1) {
        if (current.bidCount === 0) await cancel(`no bids within ${formatDuration(opts.bidWindow)}`);
        // Anyone may finalize an auto-accept order after its deadline; nobody has yet, so podnet does.
        const hash = await write("finalizeOrder");
        ctx.out.progress(`order ${orderId} finalized (tx ${hash})`);
      }
    }
    const lease = await client.waitForLease({ orderId, timeoutMs: 60_000 });
    leased = lease;
    ctx.out.progress(
      `order matched: ${lease.provider} at ${lease.pricePerSecond} base units/s → lease ${lease.leaseId}`,
    );
  } else {
    const active = (await client.getBids({ orderId })).filter((b) => b.status === "active");
    if (active.length === 0) await cancel(`no bids within ${formatDuration(opts.bidWindow)}`);
    const accepted = await client.acceptBid({ orderId });
    leased = accepted;
    ctx.out.progress(
      `accepted ${accepted.provider} at ${accepted.pricePerSecond} base units/s → lease ${accepted.leaseId} (tx ${accepted.txHash})`,
    );
  }
  return {
    leaseId: leased.leaseId,
    provider: leased.provider,
    pricePerSecond: leased.pricePerSecond,
    deposit,
    txHash: leased.txHash ?? order.txHash,
    funding: order.funding,
    orderId,
  };
}
