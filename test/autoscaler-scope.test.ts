/**
 * The autoscaler's scope beyond failover, end to end on real parts (anvil with the real contracts, the indexer,
 * provider workers on a real Docker Engine, the `podnet-autoscaler` daemon as a child process):
 * - a rolling spec update after the owner's setSpec: both instances serve the new pod.yaml, leases unchanged;
 * - a clearSlot that lost its compare-and-swap to another controller: refused, the lease closed once;
 * - scale-down from 2 to 1 (app.yaml + setConfig): the highest slot cleared, its lease closed, the money exact;
 * - the reverse-market fallback: a provider that signs no quote (its worker's quote budget is 0.0001 a second) but
 *   bids on orders wins the slot through the vault's order; a cheaper bid from a provider app.yaml denies is passed
 *   over; the autoscaler is SIGKILLed while the order is open and its successor follows the same order; an order
 *   nobody may win is cancelled and its deposit comes back.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AutoscalerProcess,
  Devnet,
  devAccount,
  ensureGas,
  localDocker,
  mint,
  type RunningProvider,
  startAutoscalerProcess,
  testImageTarball,
  waitFor,
  webAppManifest,
} from "@podnet/devnet";
import { type PodnetClientWithActions, parseAppYaml } from "@podnet/sdk";
import {
  appConfigHash,
  appConfigLimits,
  appVaultAbi,
  manifestHash,
  type PodManifestInput,
  parseAppConfig,
  parseManifest,
  podnetMarketAbi,
} from "@podnet/sdk/protocol";
import { type Address, erc20Abi, keccak256, stringToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../autoscaler/src/log.js";
import { clearSurplus } from "../autoscaler/src/slot-writes.js";

const PAGE = "scope v1";
const PAGE2 = "scope v2: the new spec";
const CHEAP = { perCpuMilli: 3n, perMemoryMiB: 2n, perStorageMiB: 0n, flat: 0n }; // 878/s
const CHEAPEST = { perCpuMilli: 2n, perMemoryMiB: 2n, perStorageMiB: 0n, flat: 0n }; // 628/s
const FUNDED = 50_000_000n;

const owner = devAccount(43).account;
const controller = devAccount(44);
const rival = devAccount(45);

let devnet: Devnet;
let dir: string;
let A: RunningProvider;
let B: RunningProvider;
/** Signs no quote, bids on orders. */
let C: RunningProvider;
/** The cheapest bidder, denied by the fallback app's app.yaml. */
let D: RunningProvider;
let ownerClient: PodnetClientWithActions;
let controllerClient: PodnetClientWithActions;
let vault: Address;
let autoscaler: AutoscalerProcess | undefined;
let env: Record<string, string>;
let manifest: PodManifestInput;
let manifest2: PodManifestInput;

type Status = {
  desired: number;
  lastPass: string | null;
  problems: string[];
  instances: { slot: number; leaseId: string; provider: Address; health: string }[];
};

async function status(of = autoscaler): Promise<Status> {
  return (await (await fetch(`${of?.statusUrl}/status`)).json()) as Status;
}

function waitHealthy(count: number, check: (s: Status) => boolean = () => true, of = () => autoscaler) {
  return waitFor(
    `${count} healthy instances`,
    async () => {
      const s = await status(of()).catch(() => undefined);
      const healthy = s?.instances.filter((i) => i.health === "healthy") ?? [];
      return s && healthy.length === count && s.instances.length === count && check(s) ? s : undefined;
    },
    { timeoutMs: 150_000, intervalMs: 500 },
  );
}

const appYaml = (over: { target: number; placement?: Record<string, unknown>; maxPerInstance?: string }) => ({
  version: 1,
  instances: { min: 1, target: over.target, maxPerProvider: 1 },
  price: { maxPerInstance: over.maxPerInstance ?? "1000" },
  placement: { topK: 1, ...over.placement },
  funding: { depositPerLease: "600000", keepFunded: "600s" },
  health: { type: "http", path: "/", interval: 1, timeout: 1, failuresBeforeReplace: 3 },
});

async function slotsOf(of: Address): Promise<bigint[]> {
  return (await ownerClient.getApp({ vault: of })).slots.map((s) => s.leaseId);
}

async function events(of: Address) {
  const { publicClient, deployment } = ownerClient;
  const market = deployment.contracts.podnetMarket;
  const fromBlock = BigInt(market.blockNumber);
  const [funded, created, toppedUp, closed, orders, cancelled] = await Promise.all([
    publicClient.getContractEvents({ address: of, abi: appVaultAbi, eventName: "Funded", fromBlock }),
    publicClient.getContractEvents({
      address: market.address,
      abi: podnetMarketAbi,
      eventName: "LeaseCreated",
      args: { publisher: of },
      fromBlock,
    }),
    publicClient.getContractEvents({
      address: market.address,
      abi: podnetMarketAbi,
      eventName: "LeaseToppedUp",
      args: { payer: of },
      fromBlock,
    }),
    publicClient.getContractEvents({
      address: market.address,
      abi: podnetMarketAbi,
      eventName: "LeaseClosed",
      fromBlock,
    }),
    publicClient.getContractEvents({
      address: market.address,
      abi: podnetMarketAbi,
      eventName: "OrderCreated",
      args: { publisher: of },
      fromBlock,
    }),
    publicClient.getContractEvents({
      address: market.address,
      abi: podnetMarketAbi,
      eventName: "OrderCancelled",
      fromBlock,
    }),
  ]);
  const ours = new Set(created.map((l) => l.args.leaseId as bigint));
  const ourOrders = new Set(orders.map((l) => l.args.orderId as bigint));
  return {
    funded,
    created,
    toppedUp,
    closed: closed.filter((l) => ours.has(l.args.leaseId as bigint)),
    orders,
    cancelled: cancelled.filter((l) => ourOrders.has(l.args.orderId as bigint)),
  };
}

/**
 * The vault's token balance equals funded − lease deposits − top-ups + lease refunds − deposits of orders still open
 * (a matched order's deposit is its lease's; a cancelled one's came back), from the chain's own events.
 */
async function moneyExact(of: Address): Promise<void> {
  const e = await events(of);
  const sum = (values: (bigint | undefined)[]) => values.reduce<bigint>((t, v) => t + (v ?? 0n), 0n);
  const market = ownerClient.deployment.contracts.podnetMarket.address;
  const open = await Promise.all(
    e.orders.map((l) =>
      ownerClient.publicClient.readContract({
        address: market,
        abi: podnetMarketAbi,
        functionName: "getOrder",
        args: [l.args.orderId as bigint],
      }),
    ),
  );
  const held = sum(open.filter((o) => o.status === 1).map((o) => o.deposit));
  // Orders matched into leases: their deposit is counted by LeaseCreated; orders not matched and not open came back.
  const onChain = await ownerClient.publicClient.readContract({
    address: ownerClient.deployment.contracts.paymentToken.address,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [of],
  });
  expect(onChain).toBe(
    sum(e.funded.map((l) => l.args.amount)) -
      sum(e.created.map((l) => l.args.deposit)) -
      sum(e.toppedUp.map((l) => l.args.amount)) +
      sum(e.closed.map((l) => l.args.refund)) -
      held,
  );
}

async function writeConfig(file: string, of: Address, config: ReturnType<typeof appYaml>) {
  writeFileSync(file, JSON.stringify(config, null, 2));
  await ownerClient.setAppConfig({ vault: of, configHash: appConfigHash(parseAppYaml(readFileSync(file, "utf8"))) });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-autoscaler-scope-"));
  const docker = localDocker();
  const tarballs: string[] = [];
  await Promise.all([
    Devnet.start({ dir }).then((started) => {
      devnet = started;
    }),
    testImageTarball(docker, "podnet-test/autoscaler-scope:1", join(dir, "v1.tar"), { page: PAGE }).then((p) => {
      tarballs[0] = p;
    }),
    testImageTarball(docker, "podnet-test/autoscaler-scope:2", join(dir, "v2.tar"), { page: PAGE2 }).then((p) => {
      tarballs[1] = p;
    }),
  ]);
  [A, B, C, D] = await Promise.all([
    devnet.startProvider({ index: 102, pricing: CHEAP }),
    devnet.startProvider({ index: 103, pricing: CHEAP }),
    // A real worker that never signs a quote: its quote bucket holds 0.0001 of a token and never reaches one.
    devnet.startProvider({
      index: 104,
      pricing: CHEAP,
      env: { PODNET_API_RATE_LIMIT: JSON.stringify({ perSecond: 10, burst: 100, quotesPerSecond: 0.0001 }) },
    }),
    devnet.startProvider({ index: 105, pricing: CHEAPEST }),
  ]);
  await devnet.startIndexer({ schema: "autoscaler_scope" });

  const dataDir = join(dir, "autoscaler");
  mkdirSync(dataDir, { recursive: true });
  controllerClient = devnet.publisherClient(controller.account, { blobCacheDir: join(dataDir, "blobs") });
  const [v1, v2] = [
    await controllerClient.prepareImage({ tarball: tarballs[0] as string }),
    await controllerClient.prepareImage({ tarball: tarballs[1] as string }),
  ];
  devnet.untagBlobOnStop(v1.cid);
  devnet.untagBlobOnStop(v2.cid);
  manifest = webAppManifest(v1.image);
  manifest2 = webAppManifest(v2.image);
  writeFileSync(join(dir, "pod.yaml"), JSON.stringify(manifest, null, 2));
  // Only the cheap pair A, B is placed on directly: C signs no quote and D is kept for the fallback app.
  const config = appYaml({ target: 2, placement: { denyProviders: [C.address, D.address] } });
  writeFileSync(join(dir, "app.yaml"), JSON.stringify(config, null, 2));

  await mint(devnet.chain, owner, 2n * FUNDED);
  await Promise.all([
    ensureGas(devnet.chain, controller.account.address),
    ensureGas(devnet.chain, rival.account.address),
  ]);
  ownerClient = devnet.publisherClient(owner);
  ({ vault } = await ownerClient.createApp({
    salt: keccak256(stringToHex("autoscaler scope")),
    specHash: manifestHash(parseManifest(manifest)),
    configHash: appConfigHash(parseAppConfig(config)),
    limits: appConfigLimits(parseAppConfig(config)),
    controllers: [controller.account.address, rival.account.address],
  }));
  await ownerClient.fundApp({ vault, amount: FUNDED });
  const keyFile = join(dir, "controller.key");
  writeFileSync(keyFile, `${controller.privateKey}\n`, { mode: 0o600 });
  env = {
    PODNET_AUTOSCALER_RPC_URL: devnet.chain.rpcUrl,
    PODNET_AUTOSCALER_DEPLOYMENTS_FILE: devnet.chain.deploymentsFile,
    PODNET_AUTOSCALER_INDEXER_URL: devnet.indexer?.url as string,
    PODNET_AUTOSCALER_CONTROLLER_KEY_FILE: keyFile,
    PODNET_AUTOSCALER_VAULT: vault,
    PODNET_AUTOSCALER_APP_YAML: join(dir, "app.yaml"),
    PODNET_AUTOSCALER_POD_YAML: join(dir, "pod.yaml"),
    PODNET_AUTOSCALER_DATA_DIR: dataDir,
    PODNET_AUTOSCALER_RECONCILE_INTERVAL_SEC: "1",
    PODNET_AUTOSCALER_STARTUP_GRACE_SEC: "120",
  };
  autoscaler = await startAutoscalerProcess(env);
}, 400_000);

afterAll(async () => {
  await autoscaler?.stop();
  await devnet?.stop();
});

const providerOf = (address: Address) => [A, B, C, D].find((p) => p.address === address) as RunningProvider;

describe("autoscaler scope", () => {
  let up: Status;

  it("rolls a spec change out over both instances, one at a time, in their own leases", async () => {
    up = await waitHealthy(2);
    expect(new Set(up.instances.map((i) => i.provider))).toEqual(new Set([A.address, B.address]));
    const leasesBefore = (await events(vault)).created.length;
    writeFileSync(join(dir, "pod.yaml"), JSON.stringify(manifest2, null, 2));
    await ownerClient.setAppSpec({ vault, specHash: manifestHash(parseManifest(manifest2)) });
    for (const instance of up.instances) {
      await providerOf(instance.provider).worker.waitForPage(BigInt(instance.leaseId), PAGE2, 120_000);
    }
    const after = await waitHealthy(2);
    expect(after.instances.map((i) => i.leaseId).sort()).toEqual(up.instances.map((i) => i.leaseId).sort());
    for (const instance of after.instances) {
      const lease = await ownerClient.getLease({ leaseId: BigInt(instance.leaseId) });
      expect(lease.specHash).toBe(manifestHash(parseManifest(manifest2)));
    }
    expect((await events(vault)).created.length).toBe(leasesBefore);
    // One at a time: the second updateLeaseSpec went out only after the first instance answered on the new spec.
    const moved = readFileSync(autoscaler?.logFile as string, "utf8")
      .split("\n")
      .filter((l) => l.includes('"lease moved to the new spec"'));
    expect(moved).toHaveLength(2);
    expect(after.problems).toEqual([]);
  }, 300_000);

  it("a clearSlot that lost its compare-and-swap to another controller is refused; the lease closes once", async () => {
    await autoscaler?.stop();
    const [slot0, slot1] = await slotsOf(vault);
    // Another controller clears slot 1 first; this controller's clear, from what it read before, must not act.
    const rivalClient = devnet.publisherClient(rival.account);
    await rivalClient.clearAppSlot({ vault, slot: 1, leaseId: slot1 as bigint });
    const outcomes = await clearSurplus(
      controllerClient,
      vault,
      [
        { slot: 1, leaseId: slot1 as bigint },
        { slot: 0, leaseId: slot0 as bigint },
      ],
      createLogger("error"),
    );
    expect(outcomes.map((o) => o.result)).toEqual(["raced"]);
    expect((await events(vault)).closed.filter((l) => l.args.leaseId === slot1)).toHaveLength(1);
    expect(await slotsOf(vault)).toEqual([slot0, 0n]);
    await moneyExact(vault);
  }, 60_000);

  it("scales 2 → 1 (app.yaml + setConfig): clears the highest slot, closes its lease, keeps slot 0", async () => {
    autoscaler = await startAutoscalerProcess(env, "autoscaler-2.log");
    const refilled = await waitHealthy(2);
    const [slot0, slot1] = await slotsOf(vault);
    expect(refilled.instances.map((i) => BigInt(i.leaseId)).sort()).toEqual([slot0, slot1].sort());
    await writeConfig(
      join(dir, "app.yaml"),
      vault,
      appYaml({ target: 1, placement: { denyProviders: [C.address, D.address] } }),
    );
    const after = await waitHealthy(1, (s) => s.desired === 1);
    expect(after.instances.map((i) => i.leaseId)).toEqual([String(slot0)]);
    expect(await slotsOf(vault)).toEqual([slot0, 0n]);
    expect((await ownerClient.getLease({ leaseId: slot1 as bigint })).status).toBe("closed");
    expect((await events(vault)).closed.filter((l) => l.args.leaseId === slot1)).toHaveLength(1);
    await autoscaler?.stop();
    await moneyExact(vault);
    autoscaler = undefined;
  }, 240_000);

  it("falls back to an order when no provider quotes: passes over a denied cheaper bid, survives kill -9", async () => {
    const file = join(dir, "app-fallback.yaml");
    // Direct quotes: only C may take it, and C signs none. Bids: A, B, D (cheapest) and C; only C is allowed.
    const config = appYaml({
      target: 1,
      placement: { denyProviders: [A.address, B.address, D.address], bidWindow: "15s" },
    });
    writeFileSync(file, JSON.stringify(config, null, 2));
    const { vault: fallback } = await ownerClient.createApp({
      salt: keccak256(stringToHex("autoscaler scope fallback")),
      specHash: manifestHash(parseManifest(manifest2)),
      configHash: appConfigHash(parseAppConfig(config)),
      limits: appConfigLimits(parseAppConfig(config)),
      controllers: [controller.account.address],
    });
    await ownerClient.fundApp({ vault: fallback, amount: FUNDED });
    const fallbackEnv = {
      ...env,
      PODNET_AUTOSCALER_VAULT: fallback,
      PODNET_AUTOSCALER_APP_YAML: file,
      PODNET_AUTOSCALER_DATA_DIR: join(dir, "autoscaler-fallback"),
    };
    mkdirSync(join(dir, "autoscaler-fallback"), { recursive: true });
    // The same content keys: the fallback autoscaler shares the controller's blob cache.
    fallbackEnv.PODNET_AUTOSCALER_DATA_DIR = join(dir, "autoscaler-fallback");
    writeFileSync(join(dir, "autoscaler-fallback", ".keep"), "");
    const { cpSync } = await import("node:fs");
    cpSync(join(dir, "autoscaler", "blobs"), join(dir, "autoscaler-fallback", "blobs"), { recursive: true });
    let scaler = await startAutoscalerProcess(fallbackEnv, "autoscaler-fallback.log");
    const waiting = await waitFor(
      "an open order",
      async () => {
        const s = await status(scaler).catch(() => undefined);
        return s?.problems.some((p) => p.includes("open for bids")) ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(waiting.problems.join("\n")).toMatch(/no quote: .*signs at most 0\.0001/);
    const [order] = (await events(fallback)).orders;
    const orderId = order?.args.orderId as bigint;
    // kill -9 while the order is open: the state file holds it, the successor follows it (no second order).
    await scaler.stop("SIGKILL");
    const saved = JSON.parse(readFileSync(join(dir, "autoscaler-fallback", "state.json"), "utf8"));
    expect(Object.keys(saved.orders)).toEqual([String(orderId)]);
    scaler = await startAutoscalerProcess(fallbackEnv, "autoscaler-fallback-2.log");
    try {
      const placed = await waitHealthy(
        1,
        () => true,
        () => scaler,
      );
      expect(placed.instances[0]?.provider).toBe(C.address);
      await C.worker.waitForPage(BigInt(placed.instances[0]?.leaseId as string), PAGE2);
      const e = await events(fallback);
      expect(e.orders).toHaveLength(1);
      const bids = await ownerClient.getBids({ orderId });
      // D bid cheapest and lost: app.yaml denies it.
      const dBid = bids.find((b) => b.provider === D.address);
      expect(dBid).toBeDefined();
      expect(dBid?.pricePerSecond).toBeLessThan(bids.find((b) => b.provider === C.address)?.pricePerSecond as bigint);
      expect(dBid?.status).not.toBe("won");
      expect(bids.find((b) => b.provider === C.address)?.status).toBe("won");
      expect(await slotsOf(fallback)).toEqual([BigInt(placed.instances[0]?.leaseId as string)]);
    } finally {
      await scaler.stop();
    }
    await moneyExact(fallback);
  }, 300_000);

  it("cancels an order no provider may win and gives its deposit back", async () => {
    const file = join(dir, "app-nobid.yaml");
    // A price cap below every provider's price: nobody quotes, nobody may bid.
    const config = appYaml({ target: 1, maxPerInstance: "100", placement: { bidWindow: "5s" } });
    writeFileSync(file, JSON.stringify(config, null, 2));
    const { vault: nobid } = await ownerClient.createApp({
      salt: keccak256(stringToHex("autoscaler scope no bid")),
      specHash: manifestHash(parseManifest(manifest2)),
      configHash: appConfigHash(parseAppConfig(config)),
      limits: appConfigLimits(parseAppConfig(config)),
      controllers: [controller.account.address],
    });
    await mint(devnet.chain, owner, 1_000_000n);
    await ownerClient.fundApp({ vault: nobid, amount: 1_000_000n });
    const scaler = await startAutoscalerProcess(
      {
        ...env,
        PODNET_AUTOSCALER_VAULT: nobid,
        PODNET_AUTOSCALER_APP_YAML: file,
        PODNET_AUTOSCALER_DATA_DIR: join(dir, "autoscaler-nobid"),
      },
      "autoscaler-nobid.log",
    );
    try {
      const reported = await waitFor(
        "a cancelled order",
        async () => {
          const s = await status(scaler).catch(() => undefined);
          return s?.problems.some((p) => p.includes("no bid: order")) ? s : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      expect(reported.instances).toEqual([]);
      const e = await events(nobid);
      expect(e.cancelled.length).toBeGreaterThanOrEqual(1);
      expect(e.cancelled.every((l) => l.args.refund === 600_000n)).toBe(true);
    } finally {
      await scaler.stop();
    }
    // Stopped: every order it opened is cancelled, the balance is whole again.
    expect((await ownerClient.getApp({ vault: nobid })).balance).toBe(1_000_000n);
    await moneyExact(nobid);
  }, 120_000);
});
