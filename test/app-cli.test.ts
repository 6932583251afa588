/**
 * `podnet app ...` end to end: the real CLI binary as a child process (fresh HOME, configured by environment variables
 * only) against a real anvil with the real contracts, through init --app → create → fund → status → scale → withdraw
 * → destroy, with the chain state and every balance checked to the base unit. A controller key puts a real lease into
 * slot 0 between fund and status (what an autoscaler does: replaceSlot with a provider's signed quote), so destroy
 * really closes a lease. Bad input fails with the field named and the chain unchanged (the owner's nonce and the
 * vault's balance are compared around each refusal).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  cliEnv,
  clients,
  devAccount,
  type LocalChain,
  listProvider,
  mint,
  podnetBin,
  publisherClient,
  runNodeScript,
  type ScriptRun,
  signedQuote,
  startLocalChain,
  TOKEN,
  tokenBalance,
  walletClient,
} from "@podnet/devnet";
import {
  appConfigHash,
  appVaultAbi,
  appVaultFactoryAbi,
  ContractError,
  manifestHash,
  parseAppYaml,
  parsePodSpec,
  podnetMarketAbi,
} from "@podnet/sdk";
import { type Address, type Hex, keccak256, parseEventLogs, stringToBytes } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const owner = devAccount(5);
const controller = devAccount(6).account;
const provider = devAccount(7).account;

const FUNDED = 200_000_000n;
const DEPOSIT = 86_400_000n; // the template's funding.depositPerLease
const PRICE = 500n; // the provider's quote, under the template's price.maxPerInstance (1000)
const WITHDRAWN = 1_000_000n;
const ORDER_DEPOSIT = 10_000_000n;

let chain: LocalChain;
let work: string;
let env: Record<string, string>;
let vault: Address;
let leaseId: bigint;

function podnet(args: string[]): Promise<ScriptRun> {
  return runNodeScript(podnetBin, args, { cwd: work, env });
}

// biome-ignore lint/suspicious/noExplicitAny: the JSON documents are checked field by field below.
async function podnetJson(args: string[]): Promise<any> {
  const run = await podnet([...args, "--json"]);
  if (run.code !== 0) throw new Error(`podnet ${args.join(" ")} exited ${run.code}:\n${run.stderr}\n${run.stdout}`);
  return JSON.parse(run.stdout);
}

const read = () => clients(chain).client;
const readVault = <const name extends "specHash" | "configHash" | "limits" | "owner">(functionName: name) =>
  read().readContract({ address: vault, abi: appVaultAbi, functionName });
const ownerNonce = () => read().getTransactionCount({ address: owner.account.address });

/** Runs a command that must fail; checks the exit code, the message, and that the owner sent nothing. */
async function refused(args: string[], code: number, message: RegExp): Promise<string> {
  const nonce = await ownerNonce();
  const balance = vault ? await tokenBalance(chain, vault) : 0n;
  const run = await podnet(args);
  expect(run.stderr).toMatch(message);
  expect(run.code).toBe(code);
  expect(await ownerNonce()).toBe(nonce);
  if (vault) expect(await tokenBalance(chain, vault)).toBe(balance);
  return run.stderr;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "podnet-app-cli-"));
  work = join(dir, "work");
  mkdirSync(join(dir, "home"));
  mkdirSync(work);
  chain = await startLocalChain(join(dir, "chain"));
  await mint(chain, owner.account, 1_000n * TOKEN);
  env = cliEnv(chain, { home: join(dir, "home"), extra: { PODNET_PUBLISHER_KEY: owner.privateKey } });
  // A provider registered and staked on chain, whose signed quote the controller leases from (no worker needed).
  await listProvider(chain, provider, { stake: 10n ** 24n });
}, 180_000);

afterAll(() => chain?.stop());

describe("podnet app", () => {
  it("init --app writes pod.yaml and a commented app.yaml", async () => {
    const run = await podnetJson(["init", "my-app", "--app"]);
    expect(run.files).toEqual([join(work, "my-app", "pod.yaml"), join(work, "my-app", "app.yaml")]);
    const text = readFileSync(join(work, "my-app", "app.yaml"), "utf8");
    expect(text).toContain("# How the autoscaler runs this app");
    expect(parseAppYaml(text).instances.target).toBe(2);
    // Never overwritten: a second run refuses and leaves both files as they are.
    const pod = readFileSync(join(work, "my-app", "pod.yaml"), "utf8");
    const again = await podnet(["init", "my-app", "--app"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/my-app\/app\.yaml: already exists; not overwriting it/);
    expect(readFileSync(join(work, "my-app", "app.yaml"), "utf8")).toBe(text);
    expect(readFileSync(join(work, "my-app", "pod.yaml"), "utf8")).toBe(pod);
  });

  it("create refuses an app.yaml whose limits a vault cannot hold, naming the field, sending nothing", async () => {
    mkdirSync(join(work, "bad"));
    writeFileSync(join(work, "bad", "pod.yaml"), readFileSync(join(work, "my-app", "pod.yaml")));
    const text = readFileSync(join(work, "my-app", "app.yaml"), "utf8").replace(
      'depositPerLease: "86_400_000"',
      `depositPerLease: "${1n << 96n}"`,
    );
    writeFileSync(join(work, "bad", "app.yaml"), text);
    await refused(
      ["app", "create", "--dir", "bad"],
      1,
      /bad\/app\.yaml:\d+:3 funding\.depositPerLease: must be between 1 and 79228162514264337593543950335, got 79228162514264337593543950336/,
    );
  });

  it("create makes the vault at the predicted address with the files' hashes and limits", async () => {
    const dry = await podnetJson(["app", "create", "--dir", "my-app", "--dry-run"]);
    const created = await podnetJson(["app", "create", "--dir", "my-app", "--controller", controller.address]);
    vault = created.vault;
    expect(dry.vault).toBe(vault);
    const predicted = await read().readContract({
      address: chain.deployment.contracts.appVaultFactory.address,
      abi: appVaultFactoryAbi,
      functionName: "predictApp",
      args: [owner.account.address, keccak256(stringToBytes("my-app"))],
    });
    expect(vault).toBe(predicted);
    const pod = parsePodSpec(readFileSync(join(work, "my-app", "pod.yaml"), "utf8"));
    const app = parseAppYaml(readFileSync(join(work, "my-app", "app.yaml"), "utf8"));
    expect(await readVault("owner")).toBe(owner.account.address);
    expect(await readVault("specHash")).toBe(manifestHash(pod));
    expect(await readVault("configHash")).toBe(appConfigHash(app));
    expect(await readVault("limits")).toEqual({
      maxPricePerSecond: 1000n,
      maxDepositPerLease: DEPOSIT,
      maxInstances: 2,
    });
    expect(
      await read().readContract({
        address: vault,
        abi: appVaultAbi,
        functionName: "isController",
        args: [controller.address],
      }),
    ).toBe(true);
    // The same name again: refused before sending, naming --name.
    await refused(["app", "create", "--dir", "my-app"], 1, /--name: you already have an app named my-app, at 0x/);
  });

  it("fund moves exactly the amount from the owner to the vault; 0 is a usage error", async () => {
    await refused(["app", "fund", vault, "0"], 2, /<amount>: must be more than 0/);
    await refused(["app", "fund", vault, "1.5"], 2, /<amount>: "1.5" is not a whole number of token base units/);
    const before = await tokenBalance(chain, owner.account.address);
    const funded = await podnetJson(["app", "fund", vault, FUNDED.toString()]);
    expect(funded.balance).toBe(FUNDED.toString());
    expect(await tokenBalance(chain, vault)).toBe(FUNDED);
    expect(await tokenBalance(chain, owner.account.address)).toBe(before - FUNDED);
  });

  it("status shows the balance, limits, controllers and the lease a controller placed in slot 0", async () => {
    const { client } = clients(chain);
    const { quote, signature } = await signedQuote(chain, provider, {
      publisher: vault,
      specHash: (await readVault("specHash")) as Hex,
      resources: { cpuMillis: 250, memoryMiB: 128, storageMiB: 0 },
      pricePerSecond: PRICE,
      nonce: 1n,
    });
    const hash = await walletClient(chain, controller).writeContract({
      address: vault,
      abi: appVaultAbi,
      functionName: "replaceSlot",
      args: [0n, 0n, quote, signature, DEPOSIT],
    });
    const receipt = await client.waitForTransactionReceipt({ hash });
    const [replaced] = parseEventLogs({ abi: appVaultAbi, eventName: "SlotReplaced", logs: receipt.logs });
    leaseId = replaced?.args.newLease as bigint;
    expect(leaseId).toBeGreaterThan(0n);

    const status = await podnetJson(["app", "status", vault, "--dir", "my-app"]);
    expect(status).toMatchObject({
      vault,
      owner: owner.account.address,
      balance: (FUNDED - DEPOSIT).toString(),
      limits: { maxPricePerSecond: "1000", maxDepositPerLease: DEPOSIT.toString(), maxInstances: 2 },
      controllers: [controller.address],
      openOrders: "0",
      files: { spec: true, config: true, limits: true },
    });
    expect(status.slots).toEqual([
      {
        slot: 0,
        leaseId: leaseId.toString(),
        lease: expect.objectContaining({ provider: provider.address, status: "active", pricePerSecond: "500" }),
      },
      { slot: 1, leaseId: "0", lease: null },
    ]);
    const human = await podnet(["app", "status", vault]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^app +0x/);
    expect(human.stdout).toContain("SLOT  LEASE");
  });

  it("decodes the vault's reverts for a controller: a stale compare-and-swap, an owner-only call", async () => {
    const asController = publisherClient(chain, controller, { blobCacheDir: join(work, "blobs") });
    const balance = await tokenBalance(chain, vault);
    const stale = await asController.clearAppSlot({ vault, slot: 0, leaseId: leaseId + 1n }).catch((e) => e);
    expect(stale).toBeInstanceOf(ContractError);
    expect(stale).toMatchObject({ errorName: "VaultSlotMismatch", args: [0n, leaseId + 1n, leaseId] });
    expect(stale.message).toBe(
      `clearSlot: reverted with VaultSlotMismatch(0, ${leaseId + 1n}, ${leaseId}): slot 0 holds lease ${leaseId}, not ${leaseId + 1n}: someone changed it first`,
    );
    const notOwner = await asController.withdrawFromApp({ vault, amount: 1n }).catch((e) => e);
    expect(notOwner).toMatchObject({ errorName: "VaultNotOwner", args: [controller.address] });
    expect(notOwner.message).toMatch(/: 0x[0-9a-fA-F]{40} is not the app's owner$/);
    expect(await tokenBalance(chain, vault)).toBe(balance);
    expect(await read().readContract({ address: vault, abi: appVaultAbi, functionName: "leaseOf", args: [0n] })).toBe(
      leaseId,
    );
  });

  it("scale writes the target to app.yaml, records its hash and raises maxInstances", async () => {
    await refused(["app", "scale", vault, "1001", "--dir", "my-app"], 2, /<n>: must be between 0 and 1000/);
    const scaled = await podnetJson(["app", "scale", vault, "3", "--dir", "my-app"]);
    const text = readFileSync(join(work, "my-app", "app.yaml"), "utf8");
    expect(text).toContain("target: 3 # how many instances to run");
    expect(scaled.configHash).toBe(appConfigHash(parseAppYaml(text)));
    expect(await readVault("configHash")).toBe(scaled.configHash);
    expect(await readVault("limits")).toEqual({
      maxPricePerSecond: 1000n,
      maxDepositPerLease: DEPOSIT,
      maxInstances: 3,
    });
    // Down again: the config changes, the ceiling stays.
    await podnetJson(["app", "scale", vault, "1", "--dir", "my-app"]);
    expect((await readVault("limits")).maxInstances).toBe(3);
    // update then sets every limit exactly from app.yaml.
    const updated = await podnetJson(["app", "update", vault, "--dir", "my-app"]);
    expect(updated.changed).toEqual(["limits"]);
    expect((await readVault("limits")).maxInstances).toBe(1);
    expect((await podnetJson(["app", "update", vault, "--dir", "my-app"])).changed).toEqual([]);
  });

  it("withdraw sends exactly the amount; more than the balance is refused naming the amount", async () => {
    const balance = FUNDED - DEPOSIT;
    await refused(
      ["app", "withdraw", vault, (balance + 1n).toString()],
      1,
      new RegExp(`<amount>: ${balance + 1n} is more than the app's balance ${balance}`),
    );
    const before = await tokenBalance(chain, owner.account.address);
    const done = await podnetJson(["app", "withdraw", vault, WITHDRAWN.toString()]);
    expect(done).toMatchObject({ amount: WITHDRAWN.toString(), to: owner.account.address });
    expect(await tokenBalance(chain, vault)).toBe(balance - WITHDRAWN);
    expect(await tokenBalance(chain, owner.account.address)).toBe(before + WITHDRAWN);
  });

  it("destroy closes the lease, cancels the open order, zeroes the limits and withdraws everything; again, it does nothing", async () => {
    // A controller's open order on the reverse market: its deposit sits in the market until destroy cancels it.
    const { client } = clients(chain);
    const block = await client.getBlock();
    const ordered = await walletClient(chain, controller).writeContract({
      address: vault,
      abi: appVaultAbi,
      functionName: "createOrder",
      args: [
        { cpuMillis: 250, memoryMiB: 128, storageMiB: 0 },
        PRICE,
        ORDER_DEPOSIT,
        Number(block.timestamp) + 120,
        { minStake: 0n, attributes: [] },
      ],
    });
    const orderReceipt = await client.waitForTransactionReceipt({ hash: ordered });
    const [order] = parseEventLogs({ abi: podnetMarketAbi, eventName: "OrderCreated", logs: orderReceipt.logs });
    const orderId = order?.args.orderId as bigint;
    const before = await tokenBalance(chain, owner.account.address);
    const inVault = await tokenBalance(chain, vault);
    const blockBefore = await client.getBlockNumber({ cacheTime: 0 });
    const done = await podnetJson(["app", "destroy", vault]);
    const lease = await read().readContract({
      address: chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      functionName: "getLease",
      args: [leaseId],
    });
    // What stays in the closed lease is what the provider earned; the rest of the deposit came back.
    const refund = DEPOSIT - lease.balance;
    expect(lease.endedAt).toBeGreaterThan(0);
    expect(done).toMatchObject({
      limitsZeroed: true,
      clearedSlots: [{ slot: 0, leaseId: leaseId.toString(), closed: true, refund: refund.toString() }],
      cancelledOrders: [{ orderId: orderId.toString(), refund: ORDER_DEPOSIT.toString() }],
      withdrawn: (inVault + refund + ORDER_DEPOSIT).toString(),
      to: owner.account.address,
    });
    expect(await tokenBalance(chain, vault)).toBe(0n);
    expect(await tokenBalance(chain, owner.account.address)).toBe(before + inVault + refund + ORDER_DEPOSIT);
    expect(await read().readContract({ address: vault, abi: appVaultAbi, functionName: "openOrders" })).toBe(0n);
    expect(await readVault("limits")).toEqual({ maxPricePerSecond: 0n, maxDepositPerLease: 0n, maxInstances: 0 });

    // Read at the block before the destroy, the SDK answers for that block, every field alike: slot 0 still holds the
    // active lease. (An autoscaler's pass reads a slot's lease at the block it read the slot at, so an owner's clear
    // between its reads is not taken for the lease failing.)
    const sdk = publisherClient(chain, owner.account, { blobCacheDir: join(work, "blobs") });
    const then = await sdk.getApp({ vault, blockNumber: blockBefore });
    expect(then).toMatchObject({ blockNumber: blockBefore, balance: inVault, openOrders: 1n });
    expect(then.slots[0]).toEqual({ slot: 0, leaseId });
    expect(await sdk.getLease({ leaseId, blockNumber: blockBefore })).toMatchObject({
      status: "active",
      outOfFunds: false,
      endedAt: 0,
    });
    const now = await sdk.getApp({ vault });
    expect(now.blockNumber).toBeGreaterThan(blockBefore);
    expect(now.slots).toEqual([]); // limits zeroed, slot 0 cleared
    expect((await sdk.getLease({ leaseId })).status).toBe("closed");

    const nonce = await ownerNonce();
    const again = await podnetJson(["app", "destroy", vault]);
    expect(again).toMatchObject({ limitsZeroed: false, clearedSlots: [], cancelledOrders: [], withdrawn: "0" });
    expect(await ownerNonce()).toBe(nonce);
  });

  it("an empty app: withdrawing anything is refused, all withdraws nothing", async () => {
    await refused(["app", "withdraw", vault, "1"], 1, /<amount>: 1 is more than the app's balance 0/);
    const nonce = await ownerNonce();
    expect(await podnetJson(["app", "withdraw", vault, "all"])).toMatchObject({ amount: "0", balance: "0" });
    expect(await ownerNonce()).toBe(nonce);
  });

  it("refuses an address that is not an app of this deployment", async () => {
    await refused(
      ["app", "status", chain.deployment.contracts.podnetMarket.address],
      1,
      /vault: 0x[0-9a-fA-F]{40} is not an app of this deployment/,
    );
    await refused(["app", "fund", "0x1234", "1"], 2, /<vault>: "0x1234" is not a 0x address/);
  });
});
