/**
 * The autoscaler end to end on real parts: anvil with the real contracts, the indexer, three provider workers on a
 * real Docker Engine and the `podnet-autoscaler` daemon as a child process with its own controller key. An app with
 * target 2 comes up on two distinct providers; provider A dies (worker SIGKILLed, its pods stopped) and the
 * autoscaler replaces that slot on C while the healthy instance stays untouched; the old lease is closed by the
 * replacement; the vault's balance equals, to the base unit, what was funded minus deposits and top-ups plus
 * refunds, from the chain's own events.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AutoscalerProcess,
  createAutoscaledApp,
  Devnet,
  devAccount,
  ensureGas,
  killProvider,
  localDocker,
  mint,
  type RunningProvider,
  startAutoscalerProcess,
  TOKEN,
  testImageTarball,
  waitFor,
  webAppManifest,
} from "@podnet/devnet";
import { BlobCache, deriveSelfEncryptionKey, type PodnetClientWithActions, shareBlobKeys } from "@podnet/sdk";
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
import type { HDAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const PAGE = "hello from an autoscaled app";
// A and B list the same price; C costs more, so it is only picked when A or B cannot take the instance.
const CHEAP = { perCpuMilli: 3n, perMemoryMiB: 2n, perStorageMiB: 0n, flat: 0n }; // 250*3 + 64*2 = 878/s
const DEAR = { perCpuMilli: 3n, perMemoryMiB: 3n, perStorageMiB: 0n, flat: 50n }; // 992/s
const FUNDED = 50_000_000n;

const owner = devAccount(33).account;
const controller = devAccount(34);
/** A second autoscaler's key, for the race. */
const controller2 = devAccount(35);

let devnet: Devnet;
let dir: string;
let providers: RunningProvider[];
let ownerClient: PodnetClientWithActions;
let vault: Address;
let autoscaler: AutoscalerProcess | undefined;
let autoscaler2: AutoscalerProcess | undefined;
let autoscalerEnv: Record<string, string>;
let manifest: PodManifestInput;

type Status = {
  desired: number;
  lastPass: string | null;
  problems: string[];
  instances: { slot: number; leaseId: string; provider: Address; hostUrl: string | null; health: string }[];
};

async function status(of = autoscaler): Promise<Status> {
  return (await (await fetch(`${of?.statusUrl}/status`)).json()) as Status;
}

/** Waits until the autoscaler reports `count` healthy instances matching `check`. */
function waitHealthy(count: number, check: (s: Status) => boolean = () => true, timeoutMs = 150_000) {
  return waitFor(
    `${count} healthy instances`,
    async () => {
      const s = await status().catch(() => undefined);
      const healthy = s?.instances.filter((i) => i.health === "healthy") ?? [];
      return s && healthy.length === count && check(s) ? s : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

async function vaultSlots(): Promise<bigint[]> {
  const app = await ownerClient.getApp({ vault });
  return app.slots.map((s) => s.leaseId);
}

async function onChainMoneyMatches(): Promise<boolean> {
  const onChain = await ownerClient.publicClient.readContract({
    address: ownerClient.deployment.contracts.paymentToken.address,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [vault],
  });
  return onChain === (await balanceFromEvents());
}

/** The vault's balance from the chain's events: funded − deposits − top-ups + refunds + compensations − withdrawn. */
async function balanceFromEvents(): Promise<bigint> {
  const { publicClient, deployment } = ownerClient;
  const market = deployment.contracts.podnetMarket;
  const fromBlock = BigInt(market.blockNumber);
  const [funded, withdrawn, created, toppedUp, compensated] = await Promise.all([
    publicClient.getContractEvents({ address: vault, abi: appVaultAbi, eventName: "Funded", fromBlock }),
    publicClient.getContractEvents({ address: vault, abi: appVaultAbi, eventName: "Withdrawn", fromBlock }),
    publicClient.getContractEvents({
      address: market.address,
      abi: podnetMarketAbi,
      eventName: "LeaseCreated",
      args: { publisher: vault },
      fromBlock,
    }),
    publicClient.getContractEvents({
      address: market.address,
      abi: podnetMarketAbi,
      eventName: "LeaseToppedUp",
      args: { payer: vault },
      fromBlock,
    }),
    publicClient.getContractEvents({
      address: market.address,
      abi: podnetMarketAbi,
      eventName: "CompensationPaid",
      args: { publisher: vault },
      fromBlock,
    }),
  ]);
  const ours = new Set(created.map((log) => log.args.leaseId as bigint));
  const closed = await publicClient.getContractEvents({
    address: market.address,
    abi: podnetMarketAbi,
    eventName: "LeaseClosed",
    fromBlock,
  });
  const sum = (values: (bigint | undefined)[]) => values.reduce<bigint>((total, v) => total + (v ?? 0n), 0n);
  return (
    sum(funded.map((l) => l.args.amount)) -
    sum(withdrawn.map((l) => l.args.amount)) -
    sum(created.map((l) => l.args.deposit)) -
    sum(toppedUp.map((l) => l.args.amount)) +
    sum(closed.filter((l) => ours.has(l.args.leaseId as bigint)).map((l) => l.args.refund)) +
    sum(compensated.map((l) => l.args.amount))
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-autoscaler-"));
  const docker = localDocker();
  let tarball = "";
  await Promise.all([
    Devnet.start({ dir }).then((started) => {
      devnet = started;
    }),
    testImageTarball(docker, "podnet-test/autoscaler:1", join(dir, "app.tar"), { page: PAGE }).then((path) => {
      tarball = path;
    }),
  ]);
  providers = await Promise.all([
    devnet.startProvider({ index: 30, pricing: CHEAP }),
    devnet.startProvider({ index: 31, pricing: CHEAP }),
    devnet.startProvider({ index: 32, pricing: DEAR }),
  ]);
  await devnet.startIndexer({ schema: "autoscaler" });

  const app = await createAutoscaledApp(devnet, {
    dir,
    owner,
    controller,
    otherControllers: [controller2.account.address],
    tarball,
    manifest: webAppManifest,
    appYaml: {
      version: 1,
      instances: { min: 2, target: 2, maxPerProvider: 1 },
      price: { maxPerInstance: "1000" },
      // The cheapest candidate first, every time: which provider takes which slot is then known in advance.
      placement: { topK: 1 },
      // The market wants a deposit for 10 minutes at least (minLeaseDuration): 600 s at the cap.
      funding: { depositPerLease: "600000", keepFunded: "600s" },
      health: { type: "http", path: "/", interval: 1, timeout: 1, failuresBeforeReplace: 3 },
    },
    funded: FUNDED,
    salt: "autoscaler e2e",
    // The first test expects the cheaper A and B: C must not be the only one searchable when the first pass runs.
    searchable: providers.map((p) => p.address),
  });
  ({ vault, ownerClient, manifest, env: autoscalerEnv } = app);
  writeFileSync(join(dir, "controller2.key"), `${controller2.privateKey}\n`, { mode: 0o600 });
  await ensureGas(devnet.chain, controller2.account.address);
  await shareBlob(app.imageCid, join(app.dataDir, "blobs"), join(dir, "autoscaler2", "blobs"));
  autoscaler = await startAutoscalerProcess(autoscalerEnv);
}, 300_000);

/**
 * Gives the second controller the app's image with the product path (`podnet app share-keys`' function): the
 * ciphertext copied, the content key sealed to the second controller's cache key, as an owner hands an app to
 * another autoscaler.
 */
async function shareBlob(cid: string, fromDir: string, toDir: string) {
  const sign = (account: HDAccount) => (message: string) => account.signMessage({ message });
  const [self1, self2] = await Promise.all([
    deriveSelfEncryptionKey(sign(controller.account)),
    deriveSelfEncryptionKey(sign(controller2.account)),
  ]);
  await shareBlobKeys({
    from: new BlobCache(fromDir),
    self: self1,
    to: toDir,
    recipient: self2.publicKeyHex,
    cids: [cid],
  });
}

/** Leases of the app that are active on chain now. */
async function activeLeases(): Promise<bigint[]> {
  const market = ownerClient.deployment.contracts.podnetMarket;
  const created = await ownerClient.publicClient.getContractEvents({
    address: market.address,
    abi: podnetMarketAbi,
    eventName: "LeaseCreated",
    args: { publisher: vault },
    fromBlock: BigInt(market.blockNumber),
  });
  const ids = created.map((log) => log.args.leaseId as bigint);
  const leases = await Promise.all(ids.map((leaseId) => ownerClient.getLease({ leaseId })));
  return leases.filter((l) => l.status === "active").map((l) => l.leaseId);
}

afterAll(async () => {
  await autoscaler2?.stop();
  await autoscaler?.stop();
  await devnet?.stop();
});

describe("autoscaler", () => {
  let first: Status;

  it("brings an app with target 2 up on two distinct providers, serving through their ingress", async () => {
    first = await waitHealthy(2);
    const leases = first.instances.map((i) => BigInt(i.leaseId));
    expect(new Set(first.instances.map((i) => i.provider)).size).toBe(2);
    // The cheaper two: C is dearer and only a fallback.
    expect(first.instances.map((i) => i.provider).sort()).toEqual(
      [providers[0]?.address, providers[1]?.address].sort(),
    );
    expect((await vaultSlots()).sort()).toEqual(leases.sort());
    for (const instance of first.instances) {
      const provider = providers.find((p) => p.address === instance.provider) as RunningProvider;
      await provider.worker.waitForPage(BigInt(instance.leaseId), PAGE);
      expect(instance.hostUrl).toContain(`l${instance.leaseId}.`);
    }
    expect(first.problems).toEqual([]);
  }, 200_000);

  it("replaces the instance of a dead provider on C, leaves the healthy one alone, closes the old lease", async () => {
    const dead = first.instances[0] as Status["instances"][number];
    const kept = first.instances[1] as Status["instances"][number];
    const A = providers.find((p) => p.address === dead.provider) as RunningProvider;
    const C = providers[2] as RunningProvider;
    expect(await killProvider(devnet.docker, A)).toBeGreaterThan(0);

    const after = await waitHealthy(2, (s) => s.instances.some((i) => i.provider === C.address));
    const replacement = after.instances.find((i) => i.provider === C.address) as Status["instances"][number];
    expect(replacement.slot).toBe(dead.slot);
    await C.worker.waitForPage(BigInt(replacement.leaseId), PAGE);
    // The healthy instance kept its slot and lease.
    expect(after.instances.find((i) => i.slot === kept.slot)?.leaseId).toBe(kept.leaseId);
    const slots = await vaultSlots();
    expect(slots.map(String).sort()).toEqual([kept.leaseId, replacement.leaseId].sort());
    const old = await ownerClient.getLease({ leaseId: BigInt(dead.leaseId) });
    expect(old.status).toBe("closed");
  }, 200_000);

  it("keeps the vault's balance equal to funded - deposits - top-ups + refunds, to the base unit", async () => {
    await autoscaler?.stop();
    const onChain = await ownerClient.publicClient.readContract({
      address: ownerClient.deployment.contracts.paymentToken.address,
      abi: erc20Abi,
      functionName: "balanceOf",
      args: [vault],
    });
    expect(onChain).toBe(await balanceFromEvents());
    expect(onChain).toBeLessThan(FUNDED);
    expect(onChain).toBeGreaterThan(FUNDED - 10n * TOKEN);
  });

  it("restarted mid-replacement (SIGKILL right after replaceSlot), still runs exactly 2 instances", async () => {
    autoscaler = await startAutoscalerProcess(autoscalerEnv, "autoscaler-2.log");
    const before = await waitHealthy(2);
    const D = await devnet.startProvider({ index: 29, pricing: DEAR });
    const B = providers.find((p) => before.instances.some((i) => i.provider === p.address && p !== providers[2]));
    expect(B).toBeDefined();
    const log = (autoscaler as AutoscalerProcess).logFile;
    const placedLines = () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l.includes('"slot placed"')).length;
    const placedBefore = placedLines();
    await killProvider(devnet.docker, B as RunningProvider);
    // The moment the replacement lease exists on chain, before or while its manifest goes out: kill -9.
    await waitFor("the replacement's replaceSlot", async () => (placedLines() > placedBefore ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    await autoscaler?.stop("SIGKILL");
    autoscaler = await startAutoscalerProcess(autoscalerEnv, "autoscaler-3.log");
    const after = await waitHealthy(2, (s) => s.instances.some((i) => i.provider === D.address));
    expect(new Set(after.instances.map((i) => i.provider))).toEqual(new Set([providers[2]?.address, D.address]));
    expect((await activeLeases()).map(String).sort()).toEqual(after.instances.map((i) => i.leaseId).sort());
    expect((await vaultSlots()).filter((l) => l !== 0n)).toHaveLength(2);
  }, 240_000);

  it("two autoscalers racing for the same empty slot never run a third lease", async () => {
    autoscaler2 = await startAutoscalerProcess({
      ...autoscalerEnv,
      PODNET_AUTOSCALER_CONTROLLER_KEY_FILE: join(dir, "controller2.key"),
      PODNET_AUTOSCALER_DATA_DIR: join(dir, "autoscaler2"),
      // Passes five times a second: it sees the emptied slot while the first autoscaler is still filling it.
      PODNET_AUTOSCALER_RECONCILE_INTERVAL_SEC: "0.2",
    });
    await waitHealthy(2, () => true, 60_000);
    const [victim] = (await ownerClient.getApp({ vault })).slots.filter((s) => s.leaseId !== 0n);
    // The owner empties a slot: both autoscalers see it empty in their next pass and both try to fill it.
    const { request } = await ownerClient.publicClient.simulateContract({
      address: vault,
      abi: appVaultAbi,
      functionName: "clearSlot",
      args: [BigInt(victim?.slot ?? 0), victim?.leaseId ?? 0n],
      account: owner,
    });
    const cleared = await devnet.publisherClient(owner).walletClient?.writeContract(request);
    await ownerClient.publicClient.waitForTransactionReceipt({ hash: cleared as `0x${string}` });
    let most = 0;
    const refilled = await waitFor(
      "the cleared slot refilled",
      async () => {
        const active = await activeLeases();
        most = Math.max(most, active.length);
        const slots = (await vaultSlots()).filter((l) => l !== 0n);
        return slots.length === 2 && !slots.includes(victim?.leaseId ?? 0n) ? slots : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    await waitHealthy(2, (s) => s.instances.every((i) => refilled.map(String).includes(i.leaseId)), 60_000);
    expect(most).toBeLessThanOrEqual(2);
    expect((await activeLeases()).map(String).sort()).toEqual(refilled.map(String).sort());
    expect(await status(autoscaler2)).toMatchObject({ desired: 2 });
    // A lost race is recognised as one (VaultSlotMismatch: re-read, never retried with another quote), not taken for a
    // provider's refusal.
    for (const file of [autoscaler?.logFile, autoscaler2?.logFile]) {
      expect(readFileSync(file as string, "utf8")).not.toContain("reverted with the following signature");
    }
    await Promise.all([autoscaler?.stop(), autoscaler2?.stop()]);
    expect(await onChainMoneyMatches()).toBe(true);
  }, 200_000);

  it("reports an app it cannot place (empty balance, a price cap no provider meets) and leases nothing", async () => {
    const cases = [
      { name: "unfunded", maxPerInstance: "1000", fund: 0n, problem: /slot 0: cannot place \(balance: / },
      { name: "too cheap", maxPerInstance: "100", fund: 10_000_000n, problem: /slot 0: cannot place \(no provider: / },
    ];
    for (const c of cases) {
      const appYaml = {
        version: 1,
        instances: { min: 1, target: 1 },
        price: { maxPerInstance: c.maxPerInstance },
        funding: { depositPerLease: "600000", keepFunded: c.maxPerInstance === "100" ? "1h" : "600s" },
        health: { type: "http", path: "/" },
      };
      const config = parseAppConfig(appYaml);
      const file = join(dir, `app-${c.name.replace(" ", "-")}.yaml`);
      writeFileSync(file, JSON.stringify(appYaml));
      const { vault: other } = await ownerClient.createApp({
        salt: keccak256(stringToHex(`autoscaler e2e ${c.name}`)),
        specHash: manifestHash(parseManifest(manifest)),
        configHash: appConfigHash(config),
        limits: appConfigLimits(config),
        controllers: [controller.account.address],
      });
      if (c.fund > 0n) {
        await mint(devnet.chain, owner, c.fund);
        await ownerClient.fundApp({ vault: other, amount: c.fund });
      }
      const balance = (await ownerClient.getApp({ vault: other })).balance;
      const scaler = await startAutoscalerProcess({
        ...autoscalerEnv,
        PODNET_AUTOSCALER_VAULT: other,
        PODNET_AUTOSCALER_APP_YAML: file,
        PODNET_AUTOSCALER_DATA_DIR: join(dir, `autoscaler-${c.name.replace(" ", "-")}`),
      });
      try {
        const reported = await waitFor(
          `${c.name}: a cannot-place report`,
          async () => {
            const s = await status(scaler);
            return s.lastPass && s.problems.length > 0 ? s : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 200 },
        );
        expect(reported.problems.join("\n")).toMatch(c.problem);
        expect(reported.instances).toEqual([]);
      } finally {
        await scaler.stop();
      }
      const app = await ownerClient.getApp({ vault: other });
      expect(app.slots.map((s) => s.leaseId)).toEqual([0n]);
      expect(app.balance).toBe(balance);
    }
  }, 120_000);
});
