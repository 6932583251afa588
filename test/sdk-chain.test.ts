/**
 * SDK actions against the market on real anvil chains, without workers. The SDK pays the market with one transaction
 * when the token takes EIP-2612 permits, and with an exact approval otherwise, on two chains: one with the test token (ERC20Permit), one whose payment token is a plain ERC-20
 * (contracts/src/dev/PlainToken.sol, deployed from forge's output). Providers are registered and
 * staked on chain and sign their quotes (and place their bids) here: no worker, no Docker. finalizeOrder brings the
 * order's standing-bidder list, so an order whose best bidder went silent is matched to the next bid.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  clients,
  deployContracts,
  devAccount,
  freePort,
  type LocalChain,
  listProvider,
  mint,
  publisherClient,
  repoRoot,
  signedQuote,
  startAnvil,
  startLocalChain,
  TOKEN,
  walletClient,
} from "@podnet/devnet";
import { contentId, erc20PermitAbi, podnetMarketAbi, readPermitDomain, readStandingBidders } from "@podnet/sdk";
import { type Address, decodeFunctionData, erc20Abi, type Hash, type Hex, keccak256, stringToHex } from "viem";
import type { HDAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const provider = devAccount(1).account;
const resources = { cpuMillis: 250, memoryMiB: 128, storageMiB: 0 };
const manifest = {
  version: 1,
  containers: [
    {
      name: "web",
      image: `blob:${contentId(new Uint8Array([1, 2, 3]))}`,
      resources: { cpuMillis: 250, memoryMiB: 128 },
    },
  ],
};
const price = 1_000_000n;
const deposit = price * 3600n + 7n;

let permitChain: LocalChain;
let plainChain: LocalChain;
const dir = mkdtempSync(join(tmpdir(), "podnet-permit-"));

/** A chain whose payment token is PlainToken (no permit): anvil, the token, then Deploy.s.sol with PAYMENT_TOKEN. */
async function startPlainTokenChain(): Promise<LocalChain> {
  const chainDir = join(dir, "plain");
  const anvil = await startAnvil({ port: await freePort(), logFile: join(chainDir, "anvil.log") });
  try {
    const artifact = JSON.parse(
      readFileSync(join(repoRoot, "contracts/out/PlainToken.sol/PlainToken.json"), "utf8"),
    ) as { bytecode: { object: Hex } };
    const deployer = devAccount(0).account;
    const { client } = clients({ rpcUrl: anvil.rpcUrl });
    const hash = await walletClient({ rpcUrl: anvil.rpcUrl }, deployer).deployContract({
      abi: erc20Abi,
      bytecode: artifact.bytecode.object,
    });
    const token = (await client.waitForTransactionReceipt({ hash })).contractAddress as Address;
    const { deployment, file } = await deployContracts({
      rpcUrl: anvil.rpcUrl,
      deploymentsDir: chainDir,
      broadcastDir: join(chainDir, "broadcast"),
      env: { ...process.env, TIMELOCK_DELAY: "60", PAYMENT_TOKEN: token },
    });
    return { rpcUrl: anvil.rpcUrl, deployment, deploymentsFile: file, stop: () => anvil.process.kill() };
  } catch (error) {
    anvil.process.kill();
    throw error;
  }
}

/** Registers and stakes `provider` on `chain`. */
async function listTestProvider(chain: LocalChain, account: HDAccount = provider) {
  await listProvider(chain, account, {
    stake: 1000n * TOKEN,
    encryptionKey: keccak256(stringToHex("x25519")),
    pricing: { perCpuMilli: 1n, perMemoryMiB: 1n, perStorageMiB: 1n, flat: 1n },
  });
}

let quoteNonce = 0n;
/** A quote from `provider` for `publisher`, signed as the worker signs it. */
async function signedQuoteFor(chain: LocalChain, publisher: Address) {
  return signedQuote(chain, provider, {
    publisher,
    specHash: keccak256(stringToHex(`permit pod ${++quoteNonce}`)),
    resources,
    pricePerSecond: price,
    nonce: quoteNonce,
  });
}

/** A publisher holding `tokens` and no allowance, with its SDK client. */
async function newPublisher(chain: LocalChain, index: number, tokens = 1000n * TOKEN) {
  const account = devAccount(index).account;
  await mint(chain, account, tokens);
  const sdk = publisherClient(chain, account, { blobCacheDir: join(dir, `blobs-${index}`) });
  return { account, sdk };
}

/** The market function a mined transaction called. */
async function calledFunction(chain: LocalChain, hash: Hash) {
  const tx = await clients(chain).client.getTransaction({ hash });
  return decodeFunctionData({ abi: [...podnetMarketAbi, ...erc20Abi], data: tx.input }).functionName;
}

function reads(chain: LocalChain) {
  const { client } = clients(chain);
  const token = chain.deployment.contracts.paymentToken.address;
  const market = chain.deployment.contracts.podnetMarket.address;
  return {
    nonce: (account: HDAccount) => client.getTransactionCount({ address: account.address }),
    balance: (who: Address) =>
      client.readContract({ address: token, abi: erc20Abi, functionName: "balanceOf", args: [who] }),
    allowance: (owner: Address) =>
      client.readContract({ address: token, abi: erc20Abi, functionName: "allowance", args: [owner, market] }),
  };
}

beforeAll(async () => {
  [permitChain, plainChain] = await Promise.all([startLocalChain(join(dir, "permit")), startPlainTokenChain()]);
  await Promise.all([listTestProvider(permitChain), listTestProvider(plainChain)]);
}, 180_000);
afterAll(() => {
  permitChain?.stop();
  plainChain?.stop();
});

describe("readPermitDomain on chain", () => {
  it("reads the test token's EIP-712 domain, and null for a plain ERC-20 and a contract without nonces()", async () => {
    const owner = devAccount(2).account.address;
    expect(
      await readPermitDomain(clients(permitChain).client, {
        token: permitChain.deployment.contracts.paymentToken.address,
        owner,
        chainId: 31337,
      }),
    ).toEqual({
      name: "Podnet Test Token",
      version: "1",
      chainId: 31337,
      verifyingContract: permitChain.deployment.contracts.paymentToken.address,
    });
    expect(
      await readPermitDomain(clients(plainChain).client, {
        token: plainChain.deployment.contracts.paymentToken.address,
        owner,
        chainId: 31337,
      }),
    ).toBeNull();
    expect(
      await readPermitDomain(clients(permitChain).client, {
        token: permitChain.deployment.contracts.providerRegistry.address,
        owner,
        chainId: 31337,
      }),
    ).toBeNull();
  });
});

describe("the SDK with a permit token", () => {
  it("createLease without an allowance: one transaction, createLeaseWithPermit, exactly the deposit taken", async () => {
    const chain = permitChain;
    const { account, sdk } = await newPublisher(chain, 2);
    const r = reads(chain);
    const market = chain.deployment.contracts.podnetMarket.address;
    const [nonceBefore, balanceBefore, marketBefore] = [
      await r.nonce(account),
      await r.balance(account.address),
      await r.balance(market),
    ];
    const { quote, signature } = await signedQuoteFor(chain, account.address);
    const created = await sdk.createLease({ quote, signature, deposit });
    expect(created.funding).toBe("permit");
    expect(created.approveTxHash).toBeUndefined();
    expect(created.deposit).toBe(deposit);
    expect((await r.nonce(account)) - nonceBefore).toBe(1);
    expect(await calledFunction(chain, created.txHash)).toBe("createLeaseWithPermit");
    expect(balanceBefore - (await r.balance(account.address))).toBe(deposit);
    expect((await r.balance(market)) - marketBefore).toBe(deposit);
    expect(await r.allowance(account.address)).toBe(0n);
  });

  it("topUp and createOrder without an allowance: one transaction each, with a permit", async () => {
    const chain = permitChain;
    const { account, sdk } = await newPublisher(chain, 3);
    const r = reads(chain);
    const { quote, signature } = await signedQuoteFor(chain, account.address);
    const { leaseId } = await sdk.createLease({ quote, signature, deposit });

    const amount = price * 600n + 1n;
    let nonce = await r.nonce(account);
    let balance = await r.balance(account.address);
    const topped = await sdk.topUp({ leaseId, amount });
    expect(topped.funding).toBe("permit");
    expect(topped.balance).toBe(deposit + amount);
    expect((await r.nonce(account)) - nonce).toBe(1);
    expect(await calledFunction(chain, topped.txHash)).toBe("topUpWithPermit");
    expect(balance - (await r.balance(account.address))).toBe(amount);

    const orderDeposit = 2n * price * 3600n;
    nonce = await r.nonce(account);
    balance = await r.balance(account.address);
    const order = await sdk.createOrder({
      manifest,
      maxPricePerSecond: 2n * price,
      deposit: orderDeposit,
      bidWindowSeconds: 60,
    });
    expect(order.funding).toBe("permit");
    expect((await r.nonce(account)) - nonce).toBe(1);
    expect(await calledFunction(chain, order.txHash)).toBe("createOrderWithPermit");
    expect(balance - (await r.balance(account.address))).toBe(orderDeposit);
    expect(await r.allowance(account.address)).toBe(0n);
  });

  it("createOrder with a short bid window on a chain that mined nothing for a while (permit: no block before it)", async () => {
    const chain = permitChain;
    const { sdk } = await newPublisher(chain, 8);
    // anvil mines only on transactions: the newest block is now seconds old, the next one will carry the clock's time.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const order = await sdk.createOrder({
      manifest,
      maxPricePerSecond: price,
      deposit: price * 3600n,
      bidWindowSeconds: 2,
    });
    expect(order.funding).toBe("permit");
    const block = await clients(chain).client.getBlock({
      blockNumber: (await clients(chain).client.getTransactionReceipt({ hash: order.txHash })).blockNumber,
    });
    expect(order.bidDeadline).toBeGreaterThan(Number(block.timestamp));
  });

  it("uses the plain function when the allowance already covers the amount, and detects permit once per client", async () => {
    const chain = permitChain;
    const { account, sdk } = await newPublisher(chain, 4);
    const r = reads(chain);
    const market = chain.deployment.contracts.podnetMarket.address;
    const { client } = clients(chain);
    const approved = await walletClient(chain, account).writeContract({
      address: chain.deployment.contracts.paymentToken.address,
      abi: erc20Abi,
      functionName: "approve",
      args: [market, deposit + 5n],
    });
    await client.waitForTransactionReceipt({ hash: approved });
    const readSpy = vi.spyOn(sdk.publicClient, "readContract");

    const nonce = await r.nonce(account);
    const { quote, signature } = await signedQuoteFor(chain, account.address);
    const created = await sdk.createLease({ quote, signature, deposit });
    expect(created.funding).toBe("allowance");
    expect((await r.nonce(account)) - nonce).toBe(1);
    expect(await calledFunction(chain, created.txHash)).toBe("createLease");
    expect(await r.allowance(account.address)).toBe(5n);

    // Short now (5 left): two more permits, and the token's permit support is read only once.
    const second = await signedQuoteFor(chain, account.address);
    expect((await sdk.createLease({ ...second, deposit })).funding).toBe("permit");
    expect((await sdk.topUp({ leaseId: created.leaseId, amount: price * 60n })).funding).toBe("permit");
    const separatorReads = readSpy.mock.calls.filter(
      ([call]) => (call as { functionName: string }).functionName === "DOMAIN_SEPARATOR",
    );
    expect(separatorReads).toHaveLength(1);
    readSpy.mockRestore();
  });

  it("approves exactly the deposit when asked not to use a permit (permit: false)", async () => {
    const chain = permitChain;
    const { account, sdk } = await newPublisher(chain, 5);
    const r = reads(chain);
    const nonce = await r.nonce(account);
    const { quote, signature } = await signedQuoteFor(chain, account.address);
    const created = await sdk.createLease({ quote, signature, deposit, permit: false });
    expect(created.funding).toBe("approve");
    expect(created.approveTxHash).toBeDefined();
    expect((await r.nonce(account)) - nonce).toBe(2);
    expect(await calledFunction(chain, created.txHash)).toBe("createLease");
    expect(await r.allowance(account.address)).toBe(0n);
  });
});

describe("finalizeOrder", () => {
  it("passes the standing bidders, so an order whose best bidder went silent is matched to the next bid", async () => {
    const chain = permitChain;
    const { client, testClient } = clients(chain);
    const market = chain.deployment.contracts.podnetMarket.address;
    const second = devAccount(6).account;
    await listTestProvider(chain, second);
    const { account, sdk } = await newPublisher(chain, 7);
    const maxPrice = 2n * price;
    const order = await sdk.createOrder({
      manifest,
      maxPricePerSecond: maxPrice,
      deposit: maxPrice * 3600n,
      bidWindowSeconds: 60,
      autoAccept: true,
    });
    const bid = async (from: HDAccount, bidPrice: bigint) => {
      const standing = await readStandingBidders(client, {
        market,
        orderId: order.orderId,
        fromBlock: BigInt(chain.deployment.contracts.podnetMarket.blockNumber),
      });
      const hash = await walletClient(chain, from).writeContract({
        address: market,
        abi: podnetMarketAbi,
        functionName: "placeBid",
        args: [order.orderId, bidPrice, standing],
      });
      expect((await client.waitForTransactionReceipt({ hash })).status).toBe("success");
    };
    await bid(provider, price); // the best bid
    await bid(second, price + 1n);
    // The best bidder goes silent past the heartbeat threshold; the second heartbeats just before the match.
    const { heartbeatThreshold } = await client.readContract({
      address: market,
      abi: podnetMarketAbi,
      functionName: "params",
    });
    await testClient.increaseTime({ seconds: Number(heartbeatThreshold) + 60 });
    await testClient.mine({ blocks: 1 });
    const beat = await walletClient(chain, second).writeContract({
      address: market,
      abi: podnetMarketAbi,
      functionName: "heartbeat",
    });
    await client.waitForTransactionReceipt({ hash: beat });

    const matched = await sdk.finalizeOrder({ orderId: order.orderId });
    expect(matched.provider).toBe(second.address);
    expect(matched.pricePerSecond).toBe(price + 1n);
    const lease = await sdk.getLease({ leaseId: matched.leaseId });
    expect(lease.provider).toBe(second.address);
    expect(lease.publisher).toBe(account.address);
  });
});

describe("the SDK with a token without permit", () => {
  it("approves exactly the amount, then calls the plain function", async () => {
    const chain = plainChain;
    const { account, sdk } = await newPublisher(chain, 2);
    const r = reads(chain);
    const market = chain.deployment.contracts.podnetMarket.address;
    let nonce = await r.nonce(account);
    const balance = await r.balance(account.address);
    const marketBefore = await r.balance(market);
    const { quote, signature } = await signedQuoteFor(chain, account.address);
    const created = await sdk.createLease({ quote, signature, deposit });
    expect(created.funding).toBe("approve");
    expect(await calledFunction(chain, created.approveTxHash as Hash)).toBe("approve");
    expect(await calledFunction(chain, created.txHash)).toBe("createLease");
    expect((await r.nonce(account)) - nonce).toBe(2);
    expect(balance - (await r.balance(account.address))).toBe(deposit);
    expect((await r.balance(market)) - marketBefore).toBe(deposit);
    expect(await r.allowance(account.address)).toBe(0n);

    const amount = price * 60n;
    nonce = await r.nonce(account);
    const topped = await sdk.topUp({ leaseId: created.leaseId, amount });
    expect(topped.funding).toBe("approve");
    expect(topped.balance).toBe(deposit + amount);
    expect((await r.nonce(account)) - nonce).toBe(2);
    expect(await calledFunction(chain, topped.txHash)).toBe("topUp");
    expect(await r.allowance(account.address)).toBe(0n);
  });

  it("reads the plain token's answer to nonces() as no permit (it reverts)", async () => {
    const { client } = clients(plainChain);
    await expect(
      client.readContract({
        address: plainChain.deployment.contracts.paymentToken.address,
        abi: erc20PermitAbi,
        functionName: "nonces",
        args: [devAccount(2).account.address],
      }),
    ).rejects.toThrow();
  });
});
