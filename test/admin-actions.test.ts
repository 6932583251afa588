/**
 * The admin API's money and listing actions on a real chain (anvil and the deployed contracts, no Docker): a token
 * with the `money` scope withdraws a lease's earnings (the provider's token balance grows by the net, the withdrawal
 * lands on the earnings page), stakes and unstakes (stakeOf changes), a `listing` token changes the prices in the
 * registry, and a `leases:stop` token ends a lease on chain with its reason in the journal. Hostile input first: each
 * refusal is checked to have sent no transaction (the provider's nonce) and changed nothing on chain. The input checks
 * in detail are worker/src/admin/console-data.test.ts's. Pausing and resuming the listing is the last describe.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  clients,
  devAccount,
  fund,
  type LocalChain,
  listProvider,
  mint,
  signedQuote,
  startLocalChain,
  TOKEN,
  tokenBalance,
  walletClient,
} from "@podnet/devnet";
import { type ApiErrorBody, podnetMarketAbi, providerRegistryAbi } from "@podnet/sdk/protocol";
import { keccak256, parseEventLogs, stringToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminApi } from "../worker/src/admin/app.js";
import { consoleLink } from "../worker/src/admin/console-command.js";
import { tokenInfo } from "../worker/src/admin/token-info.js";
import { stubContextBase, stubReconciler } from "../worker/src/api/stub-context.js";
import { connectChain } from "../worker/src/chain/connect.js";
import { TxQueue } from "../worker/src/chain/tx-queue.js";
import { loadConfig } from "../worker/src/config.js";
import type { WorkerContext } from "../worker/src/context.js";
import { readProfile } from "../worker/src/market/provider-profile.js";
import { RouteTable } from "../worker/src/pods/routes.js";
import { WorkerState } from "../worker/src/store/worker-state.js";

const ORIGIN = "http://127.0.0.1:7071";
const provider = devAccount(64);
const publisher = devAccount(65).account;
const PRICE = 1_000_000_007n;
const dir = mkdtempSync(join(tmpdir(), "podnet-admin-actions-"));
let chain: LocalChain;
let ctx: WorkerContext;
let admin: ReturnType<typeof createAdminApi>;
let leaseId: string;
const reconciled: string[] = [];
let session: Record<string, string>;

const market = () => chain.deployment.contracts.podnetMarket.address;
const read = () => clients(chain).client;
const stakeOf = () =>
  read().readContract({
    address: market(),
    abi: podnetMarketAbi,
    functionName: "stakeOf",
    args: [provider.account.address],
  });
const nonce = () => read().getTransactionCount({ address: provider.account.address });

beforeAll(async () => {
  chain = await startLocalChain(join(dir, "chain"));
  await listProvider(chain, provider.account, {
    stake: 1000n * TOKEN,
    encryptionKey: keccak256(stringToHex("x25519")),
    pricing: { perCpuMilli: 1n, perMemoryMiB: 1n, perStorageMiB: 1n, flat: 1n },
  });
  await mint(chain, provider.account, 500n * TOKEN);
  // A lease from a quote, as a publisher makes one.
  await fund(chain, publisher, PRICE * 100_000n);
  const { quote, signature } = await signedQuote(chain, provider.account, {
    publisher: publisher.address,
    specHash: keccak256(stringToHex("admin actions pod")),
    resources: { cpuMillis: 100, memoryMiB: 64, storageMiB: 10 },
    pricePerSecond: PRICE,
    nonce: 1n,
  });
  const hash = await walletClient(chain, publisher).writeContract({
    address: market(),
    abi: podnetMarketAbi,
    functionName: "createLease",
    args: [quote, signature, PRICE * 100_000n],
  });
  const receipt = await read().waitForTransactionReceipt({ hash });
  const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseCreated", logs: receipt.logs });
  leaseId = String(created?.args.leaseId);

  const config = loadConfig({
    env: {
      PODNET_PROVIDER_KEY: provider.privateKey,
      PODNET_RPC_URL: chain.rpcUrl,
      PODNET_DEPLOYMENTS_FILE: chain.deploymentsFile,
      PODNET_DATA_DIR: join(dir, "data"),
    },
  });
  const connected = await connectChain(config);
  const base = stubContextBase();
  const state = WorkerState.open(
    config.dataDir,
    { chainId: connected.chainId, provider: provider.account.address, market: market() },
    0,
  );
  const { timestamp } = await read().getBlock({ blockNumber: receipt.blockNumber });
  state.data.leases[leaseId] = {
    id: leaseId,
    publisher: publisher.address,
    orderId: "0",
    specHash: quote.specHash,
    resources: quote.resources,
    pricePerSecond: PRICE.toString(),
    startedAt: Number(timestamp),
    status: "active",
  };
  ctx = {
    ...base,
    config,
    chain: connected,
    state,
    txs: new TxQueue(connected, base.log),
    profile: await readProfile(connected),
    refreshProfile: async () => {
      ctx.profile = await readProfile(connected);
    },
    chainNow: () => Math.floor(Date.now() / 1000),
    reconcileLease: async (id: string) => {
      reconciled.push(id);
    },
  } as unknown as WorkerContext;
  admin = createAdminApi({
    ctx,
    reconciler: stubReconciler(),
    ingressRoutes: new RouteTable("pods.localhost"),
    origins: () => [ORIGIN],
  });
  const token = /#token=([\w-]+)/.exec(consoleLink(ctx.config))?.[1] as string;
  const signIn = await send("POST", "/admin/v1/sign-in/link", {}, { token });
  const cookie = `podnet_admin=${/podnet_admin=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")?.[1]}`;
  session = { cookie, "x-csrf-token": ((await signIn.json()) as { csrfToken: string }).csrfToken };
}, 240_000);

afterAll(() => {
  chain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function send(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  return admin.request(`${ORIGIN}${path}`, {
    method,
    headers: { origin: ORIGIN, "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function bearerWith(...scopes: string[]) {
  const res = await send("POST", "/admin/v1/tokens", session, { name: scopes.join(" "), scopes, expiresIn: 600 });
  return { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
}

async function message(res: Response, status: number) {
  expect(res.status).toBe(status);
  return ((await res.json()) as ApiErrorBody).error.message;
}

async function warp(seconds: number) {
  await clients(chain).testClient.increaseTime({ seconds });
  await clients(chain).testClient.mine({ blocks: 1 });
}

describe("admin API: money actions on chain", () => {
  it("withdraws with a money token only: the balance grows by the net, the earnings page shows it", async () => {
    await warp(120);
    const reader = await bearerWith("read", "listing", "leases:stop");
    const [balance0, nonce0] = await Promise.all([tokenBalance(chain, provider.account.address), nonce()]);
    expect(await message(await send("POST", "/admin/v1/withdraw", reader), 403)).toBe(
      "authorization: the token lacks the scope money",
    );
    expect(await tokenBalance(chain, provider.account.address)).toBe(balance0);
    expect(await nonce()).toBe(nonce0);

    const money = await bearerWith("money", "read");
    // What the overview answers as `token` (its other parts need Docker: admin-worker.test.ts reads it whole).
    expect(await tokenInfo(ctx)).toEqual({
      address: chain.deployment.contracts.paymentToken.address,
      symbol: expect.any(String),
      decimals: 18,
    });
    const events: string[] = [];
    ctx.adminEvents.subscribe((e) => events.push(e.topic));
    const res = await send("POST", "/admin/v1/withdraw", money);
    expect(res.status).toBe(200);
    const paid = (await res.json()) as { tx: string; gross: string; fee: string; net: string };
    expect(paid.tx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(BigInt(paid.gross)).toBeGreaterThanOrEqual(PRICE * 120n);
    expect(BigInt(paid.fee) + BigInt(paid.net)).toBe(BigInt(paid.gross));
    expect(await tokenBalance(chain, provider.account.address)).toBe(balance0 + BigInt(paid.net));
    expect(events).toContain("earnings");

    const earnings = await send("GET", "/admin/v1/earnings?period=month", money);
    const report = (await earnings.json()) as { total: unknown; buckets: { withdrawals: number }[] };
    expect(report.total).toEqual({ gross: paid.gross, fee: paid.fee, net: paid.net });
    expect(report.buckets.at(-1)?.withdrawals).toBe(1);
  });

  it("stakes and unstakes with a money token; bad amounts and what the market refuses change nothing", async () => {
    const money = await bearerWith("money");
    const before = await stakeOf();
    const [balance0, nonce0] = await Promise.all([tokenBalance(chain, provider.account.address), nonce()]);
    for (const amount of ["-5", "1.5", "1e21", "abc", (2n ** 96n).toString(), 100]) {
      expect(await message(await send("POST", "/admin/v1/stake", money, { amount }), 400)).toMatch(/^amount: /);
      expect(await message(await send("POST", "/admin/v1/unstake", money, { amount }), 400)).toMatch(/^amount: /);
    }
    expect(
      await message(await send("POST", "/admin/v1/stake", money, { amount: (balance0 + 1n).toString() }), 409),
    ).toBe(`amount: ${balance0 + 1n} wanted, the provider's wallet holds ${balance0}`);
    expect(
      await message(await send("POST", "/admin/v1/unstake", money, { amount: (before.free + 1n).toString() }), 409),
    ).toBe("unstake: MarketInsufficientFreeStake");
    expect(await stakeOf()).toEqual(before);
    expect(await nonce()).toBe(nonce0);
    expect(await tokenBalance(chain, provider.account.address)).toBe(balance0);

    const staked = await send("POST", "/admin/v1/stake", money, { amount: (200n * TOKEN).toString() });
    expect(staked.status).toBe(200);
    expect(await staked.json()).toMatchObject({
      amount: (200n * TOKEN).toString(),
      stake: { free: (before.free + 200n * TOKEN).toString() },
    });
    expect((await stakeOf()).free).toBe(before.free + 200n * TOKEN);
    expect(await tokenBalance(chain, provider.account.address)).toBe(balance0 - 200n * TOKEN);

    const unstaked = await send("POST", "/admin/v1/unstake", money, { amount: (50n * TOKEN).toString() });
    expect(unstaked.status).toBe(200);
    expect(await unstaked.json()).toMatchObject({ unbonding: (before.unbonding + 50n * TOKEN).toString() });
    const after = await stakeOf();
    expect(after.free).toBe(before.free + 150n * TOKEN);
    expect(after.unbonding).toBe(before.unbonding + 50n * TOKEN);
  });
});

describe("admin API: listing edits and stopping a lease on chain", () => {
  const registered = async () =>
    (
      await read().readContract({
        address: chain.deployment.contracts.providerRegistry.address,
        abi: providerRegistryAbi,
        functionName: "getProvider",
        args: [provider.account.address],
      })
    )[0];

  it("changes prices and capacity in the registry, keeping the rest; a bad change sends nothing", async () => {
    const listing = await bearerWith("listing");
    const before = await registered();
    const nonce0 = await nonce();
    expect(
      await message(await send("PUT", "/admin/v1/listing", listing, { pricing: { perCpuMilli: "-3" } }), 400),
    ).toMatch(/^pricing\.perCpuMilli: /);
    expect(await message(await send("PUT", "/admin/v1/listing", await bearerWith("money"), { pricing: {} }), 403)).toBe(
      "authorization: the token lacks the scope listing",
    );
    expect(await nonce()).toBe(nonce0);

    const res = await send("PUT", "/admin/v1/listing", listing, {
      pricing: { perCpuMilli: "5", flat: (10n ** 20n).toString() },
      capacity: { cpuMillis: 3000 },
      attributes: ["region=eu-west"],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      pricing: { perCpuMilli: "5", perMemoryMiB: "1", flat: (10n ** 20n).toString() },
      capacity: { cpuMillis: 3000 },
      attributes: ["region=eu-west"],
    });
    const after = await registered();
    expect(after.pricing).toEqual({ ...before.pricing, perCpuMilli: 5n, flat: 10n ** 20n });
    expect(after.capacity).toEqual({ ...before.capacity, cpuMillis: 3000 });
    expect(after.endpoint).toBe(before.endpoint);
    expect(after.metadataURI).toBe(before.metadataURI);
    expect(after.encryptionKey).toBe(before.encryptionKey);
    expect(ctx.profile.pricing.perCpuMilli).toBe(5n);
  });

  it("stops a lease with a leases:stop token: torn down, closed on chain, the reason in its journal", async () => {
    const stopper = await bearerWith("leases:stop", "read");
    const nonce0 = await nonce();
    expect(await message(await send("POST", `/admin/v1/leases/${leaseId}/stop`, stopper, {}), 400)).toMatch(
      /^reason: /,
    );
    expect(await message(await send("POST", "/admin/v1/leases/999/stop", stopper, { reason: "x" }), 404)).toBe(
      "lease 999: not a lease of this provider",
    );
    expect(await nonce()).toBe(nonce0);
    expect(reconciled).toEqual([]);

    const res = await send("POST", `/admin/v1/leases/${leaseId}/stop`, stopper, { reason: "abuse report #12" });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ leaseId, reason: "abuse report #12", tx: expect.stringMatching(/^0x/) });
    expect(reconciled).toEqual([leaseId]);
    const onChain = await read().readContract({
      address: market(),
      abi: podnetMarketAbi,
      functionName: "getLease",
      args: [BigInt(leaseId)],
    });
    expect(onChain.status).toBe(2);
    const detail = await send("GET", `/admin/v1/leases/${leaseId}`, stopper);
    const { events } = (await detail.json()) as { events: { type: string; message: string }[] };
    expect(events.at(-1)).toMatchObject({
      type: "stopped-by-provider",
      message: "the provider stopped this lease: abuse report #12",
    });
    expect(
      await message(await send("POST", `/admin/v1/leases/${leaseId}/stop`, stopper, { reason: "again" }), 409),
    ).toBe(`lease ${leaseId}: already ending (stopped-by-provider)`);
  });
});

describe("admin API: pausing and resuming the listing on chain", () => {
  const registryStatus = () =>
    read().readContract({
      address: chain.deployment.contracts.providerRegistry.address,
      abi: providerRegistryAbi,
      functionName: "statusOf",
      args: [provider.account.address],
    });

  it("a session pauses and resumes; pausing twice answers the registry's revert; a listing token does it too", async () => {
    expect(await registryStatus()).toBe(1);
    const paused = await send("POST", "/admin/v1/listing/pause", session);
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ status: "paused", tx: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    expect(await registryStatus()).toBe(2);

    expect(await message(await send("POST", "/admin/v1/listing/pause", session), 409)).toBe(
      "pause: RegistryWrongStatus",
    );
    expect(await registryStatus()).toBe(2);

    const resumed = await send("POST", "/admin/v1/listing/resume", await bearerWith("listing"));
    expect(resumed.status).toBe(200);
    expect(await resumed.json()).toMatchObject({ status: "active" });
    expect(await registryStatus()).toBe(1);
  });
});
