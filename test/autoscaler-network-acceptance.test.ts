/**
 * Issue 19's acceptance, end to end on real parts: anvil with the real contracts (the AutoscalerNetwork on a clock of
 * seconds), the real indexer, three provider workers on a real Docker Engine and three `podnet-autoscaler node run`
 * processes. Four apps in network mode, each created, funded and handed to the network by its owner with the SDK
 * (`handAppToNetwork`: the content keys re-wrapped to each node's registered key, the ciphertext uploaded, the bundle
 * signed). Then the node serving the most apps and a provider hosting one of its apps' instances are killed at the
 * same moment: every app is taken over by a live node and stays at target; each instance on the dead provider is
 * replaced once (never twice), and each replacement's fee is paid to exactly the node that placed the lease; every
 * app's balance reconciles to the base unit against the indexer's history. Every node serves the network's app zone
 * (podnet-dns): all live nodes as NS with glue, each app's `_podnet-lease` proof at its vault's label; the killed node
 * leaves the NS set and the replaced lease's proof follows.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AutoscalerNodeProcess,
  createNetworkApp,
  Devnet,
  devAccount,
  ensureGas,
  type Indexer,
  killProvider,
  localDocker,
  mint,
  type NetworkNode,
  nodeView,
  type RunningProvider,
  startNetworkNodes,
  TOKEN,
  testImageTarball,
  waitFor,
  waitForIndexedBlock,
  webAppManifest,
} from "@podnet/devnet";
import type { PodnetClientWithActions } from "@podnet/sdk";
import { type AppResponse, appVaultAbi, indexerApiRoutes, servingNode } from "@podnet/sdk/protocol";
import { type Address, erc20Abi, getAddress } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nameserverName, networkAppLabel } from "../autoscaler/src/dns/network-directory.js";
import { udpQuery } from "../autoscaler/src/dns/test-helpers.js";

const PAGE = "hello from the network";
const PRICING = { perCpuMilli: 3n, perMemoryMiB: 2n, perStorageMiB: 0n, flat: 0n };
const FUNDED = 50_000_000n;
const STAKE = 1_000n * TOKEN;
const FEE = 1_000n;
const HEARTBEAT_PERIOD = 2;
const LIVENESS_WINDOW = 4;
const APPS = 4;
const ZONE = "net.test";

const owner = devAccount(86);
const nodeKeys = [devAccount(83), devAccount(84), devAccount(85)];

let devnet: Devnet;
let dir: string;
let providers: RunningProvider[];
let ownerClient: PodnetClientWithActions;
const vaults: Address[] = [];
const nodes: NetworkNode[] = [];
const nodeAddresses = nodeKeys.map((k) => getAddress(k.account.address));

type AppStatus = {
  problems: string[];
  instances: { slot: number; leaseId: string; provider: Address; health: string }[];
};

const isRunning = (n: AutoscalerNodeProcess) => n.process.exitCode === null && n.process.signalCode === null;

async function appStatusOn(n: AutoscalerNodeProcess, vault: Address): Promise<AppStatus | undefined> {
  const response = await fetch(`${n.apiUrl}/v1/apps/${vault}/status`).catch(() => undefined);
  return response?.ok ? ((await response.json()) as AppStatus) : undefined;
}

/** The app's status from whichever running node runs it, once it has one healthy instance and no problem. */
async function atTarget(vault: Address, check: (s: AppStatus) => boolean = () => true) {
  for (const n of nodes.filter(isRunning)) {
    const s = await appStatusOn(n, vault);
    if (s && s.problems.length === 0 && s.instances.filter((i) => i.health === "healthy").length === 1 && check(s)) {
      return { node: n, status: s };
    }
  }
  return undefined;
}

/** The NS names and each app's lease proofs a node's DNS answers now. */
async function zoneOn(dnsPort: number) {
  const ns = await udpQuery(dnsPort, ZONE, { type: "NS" });
  const proofs = new Map<Address, string[]>();
  for (const vault of vaults) {
    const txt = await udpQuery(dnsPort, `_podnet-lease.${networkAppLabel(vault)}.${ZONE}`, { type: "TXT" });
    proofs.set(
      vault,
      (txt.answer.answers ?? []).map((a) => Buffer.concat(a.data as Buffer[]).toString()),
    );
  }
  return { ns: (ns.answer.answers ?? []).map((a) => a.data as string).sort(), proofs };
}

const nsNames = (addresses: readonly Address[]) => addresses.map((a) => nameserverName(a, ZONE)).sort();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-network-acceptance-"));
  let tarball = "";
  await Promise.all([
    Devnet.start({ dir, networkClock: { heartbeatPeriod: HEARTBEAT_PERIOD, livenessWindow: LIVENESS_WINDOW } }).then(
      (started) => {
        devnet = started;
      },
    ),
    testImageTarball(localDocker(), "podnet-test/network-acceptance:1", join(dir, "app.tar"), { page: PAGE }).then(
      (path) => {
        tarball = path;
      },
    ),
  ]);
  providers = await Promise.all([80, 81, 82].map((index) => devnet.startProvider({ index, pricing: PRICING })));
  await devnet.startIndexer({ schema: "network_acceptance" });

  // Three nodes, registered on chain with their API endpoints and DNS addresses, each serving the app zone.
  nodes.push(
    ...(await startNetworkNodes(devnet, {
      keys: nodeKeys,
      dir,
      stake: STAKE,
      dnsZone: ZONE,
      env: {
        PODNET_AUTOSCALER_RECONCILE_INTERVAL_SEC: "1",
        PODNET_AUTOSCALER_STARTUP_GRACE_SEC: "20",
        PODNET_AUTOSCALER_AVOID_FAILED_PROVIDER_SEC: "600",
      },
    })),
  );

  // The owner prepares the image once (its own blob cache), then creates, funds and hands over four apps.
  await mint(devnet.chain, owner.account, FUNDED * BigInt(APPS));
  await ensureGas(devnet.chain, owner.account.address);
  ownerClient = devnet.publisherClient(owner.account, { blobCacheDir: join(dir, "owner-blobs") });
  const image = await ownerClient.prepareImage({ tarball });
  devnet.untagBlobOnStop(image.cid);
  const manifest = webAppManifest(image.image);
  const appYaml = {
    version: 1,
    instances: { min: 1, target: 1, maxPerProvider: 1 },
    price: { maxPerInstance: "1000" },
    placement: { topK: 3 },
    funding: { depositPerLease: "600000", keepFunded: "600s" },
    health: { type: "http", path: "/", interval: 1, timeout: 1, failuresBeforeReplace: 3 },
  };
  for (let a = 0; a < APPS; a++) {
    vaults.push(
      await createNetworkApp(ownerClient, {
        dir: join(dir, `app-${a}`),
        manifest,
        appYaml,
        salt: `network acceptance ${a}`,
        funded: FUNDED,
        feePerReplacement: FEE,
        maxFeesPerDay: 100n * FEE,
      }),
    );
  }
}, 400_000);

afterAll(async () => {
  for (const n of nodes) await n.stop();
  await devnet?.stop();
});

describe("the autoscaler network (issue 19 acceptance)", () => {
  it("brings every app up on the node rendezvous hashing names", async () => {
    for (const vault of vaults) {
      const up = await waitFor(`app ${vault} at target`, () => atTarget(vault), {
        timeoutMs: 180_000,
        intervalMs: 500,
      });
      const index = nodes.indexOf(up.node);
      expect(nodeAddresses[index]).toBe(servingNode(vault, nodeAddresses));
    }
  }, 400_000);

  it("serves the app zone on every node: all live nodes as NS with glue, each app's lease proof", async () => {
    for (const [i, { dnsPort: port }] of nodes.entries()) {
      if (port === undefined) throw new Error(`node ${i} serves no DNS`);
      const zone = await waitFor(
        `node ${i}'s zone to list every node and every app's lease`,
        async () => {
          const z = await zoneOn(port);
          return z.ns.length === nodeAddresses.length && [...z.proofs.values()].every((p) => p.length === 1)
            ? z
            : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(zone.ns).toEqual(nsNames(nodeAddresses));
      for (const vault of vaults) {
        const lease = (await ownerClient.getApp({ vault })).slots[0]?.leaseId;
        expect(zone.proofs.get(vault)).toEqual([`lease=31337:${lease}`]);
      }
      const glue = await udpQuery(port, nameserverName(nodeAddresses[2] as Address, ZONE));
      expect(glue.answer.answers?.map((a) => a.data)).toEqual(["127.0.0.3"]);
    }
  }, 120_000);

  it("kill a node and a provider at once: apps taken over at target, replaced once, fees to the node that did it, balances reconcile", async () => {
    // The node serving the most apps, and the provider of one of its apps' instances.
    const served = nodeAddresses.map((node) => vaults.filter((v) => servingNode(v, nodeAddresses) === node));
    const victimIndex = served.reduce((best, list, i) => (list.length > (served[best]?.length ?? 0) ? i : best), 0);
    const victimNode = nodes[victimIndex] as NetworkNode;
    const victimApp = served[victimIndex]?.[0] as Address;
    const victimStatus = (await appStatusOn(victimNode, victimApp)) as AppStatus;
    const victimProvider = providers.find(
      (p) => p.address.toLowerCase() === victimStatus.instances[0]?.provider.toLowerCase(),
    ) as RunningProvider;
    const before = new Map<Address, bigint>();
    for (const vault of vaults) before.set(vault, (await ownerClient.getApp({ vault })).slots[0]?.leaseId ?? 0n);
    const onVictim = new Set<Address>();
    for (const vault of vaults) {
      const lease = await ownerClient.getLease({ leaseId: before.get(vault) as bigint });
      if (lease.provider.toLowerCase() === victimProvider.address.toLowerCase()) onVictim.add(vault);
    }
    expect(onVictim.has(victimApp)).toBe(true);
    const fromBlock = await ownerClient.publicClient.getBlockNumber();

    const killedAt = Date.now();
    await Promise.all([victimNode.stop("SIGKILL"), killProvider(devnet.docker, victimProvider)]);
    const live = nodeAddresses.filter((_, i) => i !== victimIndex);
    const survivors = nodes.filter((_, i) => i !== victimIndex);
    // Takeover: every app of the dead node runs on a live node (its next replacement is possible from then on).
    await waitFor(
      "the dead node's apps to run on live nodes",
      async () => {
        const views = await Promise.all(survivors.map(nodeView));
        const theirs = served[victimIndex] ?? [];
        return theirs.every((v) => views.some((w) => w?.apps.some((a) => a.vault === v && a.runningHere)))
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    console.log(
      `takeover: ${served[victimIndex]?.length} app(s) of the killed node run elsewhere ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill (heartbeat ${HEARTBEAT_PERIOD} s, liveness window ${LIVENESS_WINDOW} s)`,
    );
    for (const vault of vaults) {
      await waitFor(
        `app ${vault} back at target off the dead provider`,
        () =>
          atTarget(vault, (s) =>
            s.instances.every((i) => i.provider.toLowerCase() !== victimProvider.address.toLowerCase()),
          ),
        { timeoutMs: 120_000, intervalMs: 250 },
      );
    }
    console.log(`every app at target ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kills`);
    // Let a late second replacement, if any, show itself.
    await new Promise((resolve) => setTimeout(resolve, 2 * LIVENESS_WINDOW * 1000));

    for (const vault of vaults) {
      const [replaced, fees] = await Promise.all([
        ownerClient.publicClient.getContractEvents({
          address: vault,
          abi: appVaultAbi,
          eventName: "SlotReplaced",
          fromBlock,
        }),
        ownerClient.publicClient.getContractEvents({
          address: vault,
          abi: appVaultAbi,
          eventName: "NodeFeePaid",
          fromBlock,
        }),
      ]);
      // Replaced once (never twice) when its instance was on the dead provider; untouched otherwise.
      expect(replaced).toHaveLength(onVictim.has(vault) ? 1 : 0);
      const now = (await ownerClient.getApp({ vault })).slots[0]?.leaseId;
      if (!onVictim.has(vault)) expect(now).toBe(before.get(vault));
      // Each replacement paid exactly its fee to the live node that made it, for that lease.
      expect(fees.map((f) => f.args)).toEqual(
        replaced.map((r) => ({ node: r.args.by, slot: r.args.slot, newLease: r.args.newLease, amount: FEE })),
      );
      for (const r of replaced) expect(live).toContain(getAddress(r.args.by as Address));
    }

    // The survivors' zone: the dead node is no nameserver any more; each proof names the app's lease now.
    for (const [i, { dnsPort: port }] of nodes.entries()) {
      if (i === victimIndex || port === undefined) continue;
      const zone = await waitFor(
        `node ${i}'s zone without the dead node`,
        async () => {
          const z = await zoneOn(port);
          return z.ns.length === live.length ? z : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      expect(zone.ns).toEqual(nsNames(live));
      for (const vault of vaults) {
        const lease = (await ownerClient.getApp({ vault })).slots[0]?.leaseId;
        await waitFor(
          `node ${i}'s proof of app ${vault} to name lease ${lease}`,
          async () => ((await zoneOn(port)).proofs.get(vault)?.[0] === `lease=31337:${lease}` ? true : undefined),
          { timeoutMs: 30_000, intervalMs: 250 },
        );
      }
    }

    // Every app's balance, to the base unit: the chain's balanceOf = the indexer's balance = the indexer's flows.
    const client = ownerClient.publicClient;
    await waitForIndexedBlock(devnet.indexer as Indexer, await client.getBlockNumber());
    for (const vault of vaults) {
      const indexed = (await (
        await fetch(`${devnet.indexer?.url}${indexerApiRoutes.app.path(vault)}`)
      ).json()) as AppResponse;
      const balance = await client.readContract({
        address: ownerClient.deployment.contracts.paymentToken.address,
        abi: erc20Abi,
        functionName: "balanceOf",
        args: [vault],
      });
      expect(BigInt(indexed.balance)).toBe(balance);
      const flows =
        BigInt(indexed.fundedTotal) -
        BigInt(indexed.withdrawnTotal) -
        BigInt(indexed.spentTotal) +
        BigInt(indexed.returnedTotal) -
        BigInt(indexed.nodeFeesTotal);
      expect(flows).toBe(balance);
      const allFees = await client.getContractEvents({
        address: vault,
        abi: appVaultAbi,
        eventName: "NodeFeePaid",
        fromBlock: BigInt(ownerClient.deployment.contracts.appVaultFactory.blockNumber),
      });
      expect(BigInt(indexed.nodeFeesTotal)).toBe(allFees.reduce((sum, f) => sum + (f.args.amount as bigint), 0n));
    }
  }, 400_000);
});
