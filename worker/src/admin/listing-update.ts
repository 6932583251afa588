import { type Pricing, providerRegistryAbi, type Resources } from "@podnet/sdk/protocol";
import { Hono } from "hono";
import { HttpError } from "../api/http-error.js";
import { revertName, sendContract } from "../chain/tx-queue.js";
import { attributeFromText } from "../config.js";
import type { WorkerContext } from "../context.js";
import { MAX_UINT96, parseAmount } from "./amounts.js";
import type { AdminRouteDeps } from "./deps.js";
import { jsonBody } from "./json-body.js";

const PRICE_FIELDS = ["perCpuMilli", "perMemoryMiB", "perStorageMiB", "flat"] as const;
const CAPACITY_FIELDS = ["cpuMillis", "memoryMiB", "storageMiB"] as const;
const MAX_UINT32 = 2 ** 32 - 1;
/** As many attributes as the worker's config takes (the registry has its own limit, a 409 past it). */
const MAX_ATTRIBUTES = 32;

interface ListingChange {
  pricing?: Partial<Pricing>;
  capacity?: Partial<Resources>;
  attributes?: `0x${string}`[];
}

/**
 * PUT /admin/v1/listing `{ pricing?, attributes?, capacity? }` (scope `listing`): changes the registration the way
 * `podnet-worker register` does (`updateProfile` with the whole profile: what the body leaves out stays as the
 * registry has it). Prices are token base units per second as decimal strings, each optional; capacity whole
 * millicores and MiB; attributes the full new list of `key=value`. Running leases keep their price. The worker's
 * config is not rewritten: a later `podnet-worker register` makes the chain match the config again.
 */
export function listingUpdateRoutes({ ctx, guard }: AdminRouteDeps) {
  return new Hono().put("/admin/v1/listing", guard.require("listing"), async (c) => {
    const change = parseListingChange(await jsonBody(c));
    return c.json(await updateListing(ctx, change));
  });
}

/** The body's changes, or 400 naming the first bad field. */
export function parseListingChange(body: Record<string, unknown>): ListingChange {
  const unknown = Object.keys(body).filter((k) => !["pricing", "capacity", "attributes"].includes(k));
  if (unknown.length > 0) throw new HttpError(400, `${unknown[0]}: unknown field; pricing, capacity or attributes`);
  const change: ListingChange = {};
  if (body.pricing !== undefined) {
    const pricing = objectField("pricing", body.pricing, PRICE_FIELDS);
    change.pricing = {};
    for (const key of PRICE_FIELDS) {
      if (pricing[key] !== undefined) {
        change.pricing[key] = parseAmount(`pricing.${key}`, pricing[key], { min: 0n, max: MAX_UINT96 });
      }
    }
  }
  if (body.capacity !== undefined) {
    const capacity = objectField("capacity", body.capacity, CAPACITY_FIELDS);
    change.capacity = {};
    for (const key of CAPACITY_FIELDS) {
      const value = capacity[key];
      if (value === undefined) continue;
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_UINT32) {
        throw new HttpError(400, `capacity.${key}: must be a whole number from 0 to ${MAX_UINT32}`);
      }
      change.capacity[key] = value;
    }
  }
  if (body.attributes !== undefined) {
    if (!Array.isArray(body.attributes) || body.attributes.length > MAX_ATTRIBUTES) {
      throw new HttpError(400, `attributes: must be a list of at most ${MAX_ATTRIBUTES} "key=value" texts`);
    }
    change.attributes = body.attributes.map((text, i) => {
      try {
        if (typeof text !== "string") throw new Error("must be a key=value text");
        return attributeFromText(text);
      } catch (error) {
        throw new HttpError(400, `attributes[${i}]: ${(error as Error).message}`);
      }
    });
  }
  if (Object.keys(change).length === 0) {
    throw new HttpError(400, "body: name at least one of pricing, capacity, attributes");
  }
  return change;
}

function objectField(name: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, `${name}: must be an object of ${keys.join(", ")}`);
  }
  const extra = Object.keys(value).find((k) => !keys.includes(k));
  if (extra !== undefined) throw new HttpError(400, `${name}.${extra}: unknown field; one of ${keys.join(", ")}`);
  return value as Record<string, unknown>;
}

async function updateListing(ctx: WorkerContext, change: ListingChange) {
  const registry = ctx.chain.deployment.contracts.providerRegistry.address;
  if (!ctx.profile.registered) throw new HttpError(409, "listing: not registered; run `podnet-worker register` first");
  let current: Awaited<ReturnType<typeof readRegistration>>;
  try {
    current = await readRegistration(ctx);
  } catch (error) {
    throw new HttpError(503, `chain: ${(error as Error).message.split("\n")[0]}`);
  }
  const profile = {
    ...current,
    pricing: { ...current.pricing, ...change.pricing },
    capacity: { ...current.capacity, ...change.capacity },
    attributes: change.attributes ?? [...current.attributes],
  };
  try {
    const receipt = await sendContract(ctx.chain, ctx.txs, "updateProfile", {
      address: registry,
      abi: providerRegistryAbi,
      functionName: "updateProfile",
      args: [profile],
    });
    // The profile follower would catch up too (ProviderUpdated); read now so the answer shows the new listing.
    await ctx.refreshProfile().catch(() => undefined);
    ctx.log.info("listing updated from the admin API", { tx: receipt.transactionHash, fields: Object.keys(change) });
    ctx.adminEvents.publish("overview", { listing: "updated" });
    const { pricing, capacity, attributeText } = ctx.profile;
    return {
      tx: receipt.transactionHash,
      pricing: Object.fromEntries(PRICE_FIELDS.map((k) => [k, pricing[k].toString()])),
      capacity,
      attributes: attributeText,
    };
  } catch (error) {
    throw new HttpError(409, `updateProfile: ${revertName(error)}`);
  }
}

/** The whole registered profile (readProfile leaves out the metadata URI, which updateProfile must send back). */
async function readRegistration(ctx: WorkerContext) {
  const [profile] = await ctx.chain.publicClient.readContract({
    address: ctx.chain.deployment.contracts.providerRegistry.address,
    abi: providerRegistryAbi,
    functionName: "getProvider",
    args: [ctx.chain.account.address],
  });
  return {
    endpoint: profile.endpoint,
    metadataURI: profile.metadataURI,
    encryptionKey: profile.encryptionKey,
    pricing: { ...profile.pricing },
    capacity: { ...profile.capacity },
    attributes: [...profile.attributes],
  };
}
