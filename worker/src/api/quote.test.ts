import { type AttestationDocument, quoteFromResponse, quoteTypedData } from "@podnet/sdk/protocol";
import { getAddress, recoverTypedDataAddress, zeroAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { beforeEach, describe, expect, it } from "vitest";
import type { WorkerContext } from "../context.js";
import { QUOTE_NONCE_BLOCK, QuoteNonces } from "../store/quote-nonces.js";
import { freshStateData } from "../store/worker-state.js";
import { HttpError } from "./http-error.js";
import { signQuote } from "./quote.js";

// signQuote against a stub worker (no chain, no Docker): who a quote is bound to, and what a refused request leaves.

const provider = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const publisher = getAddress("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
const market = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const chainId = 31337;
const now = 1_800_000_000;
const attestation = { version: 1, provider: provider.address, issuedAt: now } as unknown as AttestationDocument;
const resources = { cpuMillis: 250, memoryMiB: 64, storageMiB: 0 };
const specHash = `0x${"ab".repeat(32)}`;

let ctx: WorkerContext;
let nonces: QuoteNonces;
let saves: number;

function stubWorker(config: { openQuotes?: boolean } = {}) {
  saves = 0;
  const data = freshStateData({ chainId, provider: provider.address, market }, 1);
  return {
    config: { quoteTtlSec: 300, openQuotes: false, ...config },
    chain: { account: provider, chainId, deployment: { contracts: { podnetMarket: { address: market } } } },
    profile: {
      active: true,
      capacity: { cpuMillis: 1000, memoryMiB: 1024, storageMiB: 1024 },
      pricing: { perCpuMilli: 3n, perMemoryMiB: 2n, perStorageMiB: 1n, flat: 5n },
    },
    state: {
      data,
      saveNow: () => {
        saves++;
      },
    },
    params: { heartbeatThreshold: 600 },
    chainNow: () => now,
  } as unknown as WorkerContext;
}

beforeEach(() => {
  ctx = stubWorker();
  nonces = new QuoteNonces(ctx.state);
});

const quoteFor = (body: unknown) => signQuote(ctx, body, attestation, { nonces });

describe("signQuote", () => {
  it("binds the quote to the publisher that asked, signed by the provider", async () => {
    const response = await quoteFor({ specHash, resources, publisher });
    const quote = quoteFromResponse(response);
    expect(quote.publisher).toBe(publisher);
    expect(quote.pricePerSecond).toBe(250n * 3n + 64n * 2n + 5n);
    expect(quote.validUntil).toBe(now + 300);
    const signer = await recoverTypedDataAddress({
      ...quoteTypedData(quote, chainId, market),
      signature: response.signature,
    });
    expect(signer).toBe(provider.address);
  });

  it("reserves no capacity: quotes for the whole capacity go to anyone who asks, leases and bids still count", async () => {
    const whole = { ...ctx.profile.capacity };
    for (let i = 0; i < 3; i++)
      expect((await quoteFor({ specHash, resources: whole, publisher })).quote.nonce).toBe(String(i + 1));
    ctx.state.data.leases["1"] = {
      id: "1",
      publisher,
      orderId: "0",
      specHash: specHash as `0x${string}`,
      resources: { cpuMillis: 800, memoryMiB: 64, storageMiB: 0 },
      pricePerSecond: "1",
      startedAt: now,
      status: "active",
    };
    const error = await quoteFor({ specHash, resources: whole, publisher }).catch((e) => e);
    expect([error.status, error.message]).toEqual([409, "resources: cpuMillis: 1000 wanted, 200 free"]);
  });

  it("reserves nonces on disk a block at a time, and continues after the block when restarted", async () => {
    for (let i = 1; i <= 3; i++)
      expect((await quoteFor({ specHash, resources, publisher })).quote.nonce).toBe(String(i));
    // One write for the block, not one per quote; the state names the first nonce after the block.
    expect(saves).toBe(1);
    expect(ctx.state.data.nextQuoteNonce).toBe(String(1n + QUOTE_NONCE_BLOCK));
    nonces = new QuoteNonces(ctx.state);
    expect((await quoteFor({ specHash, resources, publisher })).quote.nonce).toBe(String(1n + QUOTE_NONCE_BLOCK));
    expect(saves).toBe(2);
  });

  it("refuses an open quote by default: anyone could front-run it and burn the provider's nonce", async () => {
    const error = await quoteFor({ specHash, resources }).catch((e) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(400);
    expect(error.issues).toEqual([
      {
        path: "publisher",
        message:
          "required: this provider signs quotes bound to the publisher that will create the lease (open quotes are off)",
      },
    ]);
    // No nonce was spent for the refused request.
    expect(ctx.state.data.nextQuoteNonce).toBe("1");
    expect(saves).toBe(0);
  });

  it("signs open quotes when the operator turned them on", async () => {
    ctx = stubWorker({ openQuotes: true });
    const response = await quoteFor({ specHash, resources });
    expect(response.quote.publisher).toBe(zeroAddress);
    expect(response.quote.nonce).toBe("1");
  });

  it("refuses to quote (503, naming the dark gap) while a dark gap of its own is still reportable", async () => {
    // A late heartbeat 100 s ago ended a silence; with a 600 s threshold the gap is reportable for 500 s more.
    ctx.state.data.liveness.darkGap = { from: now - 2000, until: now - 100 };
    const error = await quoteFor({ specHash, resources, publisher }).catch((e) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/dark gap/);
    expect(error.message).toContain(String(now - 100 + 600));
    expect(ctx.state.data.nextQuoteNonce).toBe("1");
    // A gap past the window (until + threshold < now) no longer stops quotes.
    ctx.state.data.liveness.darkGap = { from: now - 2000, until: now - 601 };
    const response = await quoteFor({ specHash, resources, publisher });
    expect(response.quote.nonce).toBe("1");
  });

  it("refuses to quote (503) while jailed after a dark report", async () => {
    ctx.state.data.liveness.jailedUntil = now + 3600;
    const error = await quoteFor({ specHash, resources, publisher }).catch((e) => e);
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/jailed/);
  });
});
