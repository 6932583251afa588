/**
 * The autoscaler network's node daemon end to end on real parts: anvil with the real contracts (the AutoscalerNetwork
 * with short heartbeat and liveness periods), the indexer, two provider workers on a real Docker Engine, and two
 * `podnet-autoscaler node run` processes with their own keys. One app in network mode, its bundle (pod.yaml, app.yaml,
 * the blob cache with the content keys sealed to each node's own X25519 key, bundle.json last) written into each
 * node's data dir as the handover would. The app runs on exactly the node `servingNode` names, the other reports it;
 * the serving node is killed (heartbeats stop) and, once its liveness window has passed, the other node takes the app
 * over: it adopts the running instances and keeps the app at target. The takeover time is measured.
 */

import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AutoscalerNodeProcess,
  autoscalerBin,
  createAutoscaledApp,
  Devnet,
  devAccount,
  killProvider,
  localDocker,
  type NetworkNode,
  nodeView,
  type RunningProvider,
  startNetworkNodes,
  TOKEN,
  testImageTarball,
  waitFor,
  webAppManifest,
} from "@podnet/devnet";
import { BlobCache, deriveSelfEncryptionKey, type PodnetClientWithActions, shareBlobKeys } from "@podnet/sdk";
import { appVaultAbi, servingNode } from "@podnet/sdk/protocol";
import { type Address, getAddress } from "viem";
import type { HDAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appLayout } from "../autoscaler/src/network/handover/app-layout.js";

const PAGE = "hello from a network-mode app";
const CHEAP = { perCpuMilli: 3n, perMemoryMiB: 2n, perStorageMiB: 0n, flat: 0n };
/** The third provider costs more: picked only when one of the cheap two cannot take an instance. */
const DEAR = { perCpuMilli: 3n, perMemoryMiB: 3n, perStorageMiB: 0n, flat: 50n };
const FUNDED = 50_000_000n;
const STAKE = 1_000n * TOKEN;
const FEE = 1_000n;
/** The network's periods on this chain (seconds): a node is dropped 6 s after its last heartbeat. */
const HEARTBEAT_PERIOD = 2;
const LIVENESS_WINDOW = 6;

const owner = devAccount(43).account;
const nodeKeys = [devAccount(44), devAccount(45)];

let devnet: Devnet;
let dir: string;
let providers: RunningProvider[];
let ownerClient: PodnetClientWithActions;
let vault: Address;
const nodes: NetworkNode[] = [];

type AppStatus = {
  desired: number;
  lastPass: string | null;
  problems: string[];
  instances: { slot: number; leaseId: string; provider: Address; health: string }[];
};

const appOn = (n: AutoscalerNodeProcess) => fetch(`${n.apiUrl}/v1/apps/${vault}/status`);

/** Waits until `n` runs the app with `count` healthy instances and a pass without problems. */
function waitAtTarget(
  n: AutoscalerNodeProcess,
  count: number,
  timeoutMs = 150_000,
  check: (s: AppStatus) => boolean = () => true,
) {
  return waitFor(
    `${count} healthy instances on ${n.apiUrl}`,
    async () => {
      const response = await appOn(n).catch(() => undefined);
      if (!response?.ok) return undefined;
      const s = (await response.json()) as AppStatus;
      const healthy = s.instances.filter((i) => i.health === "healthy");
      return healthy.length === count && s.problems.length === 0 && check(s) ? s : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** The node's data dir with the app's bundle, as the handover writes it: bundle.json last. */
async function writeBundle(nodeDir: string, node: HDAccount, from: { blobs: string; self: HDAccount; cid: string }) {
  const appDir = appLayout(nodeDir, vault).dir;
  mkdirSync(appDir, { recursive: true });
  cpSync(join(dir, "pod.yaml"), join(appDir, "pod.yaml"));
  cpSync(join(dir, "app.yaml"), join(appDir, "app.yaml"));
  const sign = (account: HDAccount) => (message: string) => account.signMessage({ message });
  const [self, recipient] = await Promise.all([
    deriveSelfEncryptionKey(sign(from.self)),
    deriveSelfEncryptionKey(sign(node)),
  ]);
  await shareBlobKeys({
    from: new BlobCache(from.blobs),
    self,
    to: join(appDir, "blobs"),
    recipient: recipient.publicKeyHex,
    cids: [from.cid],
  });
  writeFileSync(join(appDir, "bundle.json"), JSON.stringify({ vault }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-autoscaler-network-"));
  const docker = localDocker();
  let tarball = "";
  await Promise.all([
    Devnet.start({
      dir,
      networkClock: { heartbeatPeriod: HEARTBEAT_PERIOD, livenessWindow: LIVENESS_WINDOW },
    }).then((started) => {
      devnet = started;
    }),
    testImageTarball(docker, "podnet-test/autoscaler-network:1", join(dir, "app.tar"), { page: PAGE }).then((path) => {
      tarball = path;
    }),
  ]);
  providers = await Promise.all([
    devnet.startProvider({ index: 40, pricing: CHEAP }),
    devnet.startProvider({ index: 41, pricing: CHEAP }),
    devnet.startProvider({ index: 42, pricing: DEAR }),
  ]);
  await devnet.startIndexer({ schema: "autoscaler_network" });

  // The owner prepares the image with its own key (the owner is the app's only named controller: nodes are
  // accepted through network mode alone), then hands it to each node.
  const app = await createAutoscaledApp(devnet, {
    dir,
    owner,
    controller: devAccount(43),
    tarball,
    manifest: webAppManifest,
    appYaml: {
      version: 1,
      instances: { min: 2, target: 2, maxPerProvider: 1 },
      price: { maxPerInstance: "1000" },
      placement: { topK: 1 },
      funding: { depositPerLease: "600000", keepFunded: "600s" },
      health: { type: "http", path: "/", interval: 1, timeout: 1, failuresBeforeReplace: 3 },
    },
    funded: FUNDED,
    salt: "autoscaler network e2e",
    searchable: providers.map((p) => p.address),
  });
  ({ vault, ownerClient } = app);
  await ownerClient.setAppNetworkTerms({ vault, enabled: true, feePerReplacement: FEE, maxFeesPerDay: 10n * FEE });

  nodes.push(
    ...(await startNetworkNodes(devnet, {
      keys: nodeKeys,
      dir,
      stake: STAKE,
      env: { PODNET_AUTOSCALER_RECONCILE_INTERVAL_SEC: "1", PODNET_AUTOSCALER_STARTUP_GRACE_SEC: "120" },
    })),
  );
  for (const [i, key] of nodeKeys.entries()) {
    await writeBundle(join(dir, `node-${i}`), key.account, {
      blobs: join(app.dataDir, "blobs"),
      self: owner,
      cid: app.imageCid,
    });
  }
}, 300_000);

afterAll(async () => {
  for (const n of nodes) await n.stop();
  await devnet?.stop();
});

describe("autoscaler network node", () => {
  const addresses = nodeKeys.map((k) => getAddress(k.account.address));

  it("runs the app on exactly the node servingNode names; the other reports who serves it", async () => {
    const serving = servingNode(vault, addresses) as Address;
    const [server, other] = addresses[0] === serving ? [nodes[0], nodes[1]] : [nodes[1], nodes[0]];
    if (!server || !other) throw new Error("two nodes expected");
    const status = await waitAtTarget(server, 2);
    expect(new Set(status.instances.map((i) => i.provider.toLowerCase())).size).toBe(2);
    const view = await waitFor(
      "the other node to list the app",
      async () => {
        const v = await nodeView(other);
        return v?.apps.some((a) => a.vault === vault) ? v : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(view.live.map((a) => a.toLowerCase()).sort()).toEqual(addresses.map((a) => a.toLowerCase()).sort());
    const row = view.apps.find((a) => a.vault === vault);
    expect(row).toMatchObject({ servedBy: serving, runningHere: false });
    const refused = await appOn(other);
    expect(refused.status).toBe(404);
    expect(((await refused.json()) as { servedBy: Address }).servedBy).toBe(serving);
    expect((await nodeView(server))?.apps.find((a) => a.vault === vault)).toMatchObject({ runningHere: true });
    // Each lease placed paid its fee to the node that placed it, and only to it.
    const fees = await ownerClient.publicClient.getContractEvents({
      address: vault,
      abi: appVaultAbi,
      eventName: "NodeFeePaid",
      fromBlock: BigInt(ownerClient.deployment.contracts.appVaultFactory.blockNumber),
    });
    expect(fees.map((f) => [f.args.node, f.args.amount])).toEqual([
      [serving, FEE],
      [serving, FEE],
    ]);
  });

  it("refuses to run a node whose key is not registered, naming the command to run", () => {
    const stranger = devAccount(46);
    let output = "";
    try {
      execFileSync(process.execPath, [autoscalerBin, "node", "run"], {
        env: {
          ...process.env,
          PODNET_AUTOSCALER_NODE_KEY: stranger.privateKey,
          PODNET_AUTOSCALER_RPC_URL: devnet.chain.rpcUrl,
          PODNET_AUTOSCALER_DEPLOYMENTS_FILE: devnet.chain.deploymentsFile,
          PODNET_AUTOSCALER_INDEXER_URL: devnet.indexer?.url as string,
          PODNET_AUTOSCALER_DATA_DIR: join(dir, "stranger"),
          PODNET_AUTOSCALER_API_PORT: "0",
        },
        stdio: "pipe",
        timeout: 30_000,
      });
    } catch (error) {
      output = String((error as { stderr: Buffer }).stderr);
    }
    expect(output).toContain(`node ${stranger.account.address} is not registered`);
    expect(output).toContain("node register");
    expect(output).not.toContain(stranger.privateKey.slice(2));
  });

  it("moves the app to the other node once the serving node's heartbeats stop, and keeps it at target", async () => {
    const serving = servingNode(vault, addresses) as Address;
    const [server, other] = addresses[0] === serving ? [nodes[0], nodes[1]] : [nodes[1], nodes[0]];
    if (!server || !other) throw new Error("two nodes expected");
    const before = (await ownerClient.getApp({ vault })).slots.map((s) => s.leaseId);
    const killedAt = Date.now();
    await server.stop("SIGKILL");
    const takenOver = await waitFor(
      "the other node to run the app",
      async () => {
        const row = (await nodeView(other))?.apps.find((a) => a.vault === vault);
        return row?.runningHere ? Date.now() : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const status = await waitAtTarget(other, 2, 60_000);
    const firstPassAt = Date.now();
    // The instances the dead node placed are adopted, not replaced: same leases in the same slots.
    expect((await ownerClient.getApp({ vault })).slots.map((s) => s.leaseId)).toEqual(before);
    expect(status.instances.map((i) => BigInt(i.leaseId)).sort()).toEqual(before.filter((l) => l !== 0n).sort());
    const runnerSec = (takenOver - killedAt) / 1000;
    const passSec = (firstPassAt - killedAt) / 1000;
    console.log(
      `takeover: node killed → runner started on the other node ${runnerSec.toFixed(1)} s, → first pass at target ${passSec.toFixed(1)} s (heartbeat ${HEARTBEAT_PERIOD} s, liveness window ${LIVENESS_WINDOW} s)`,
    );
    // Liveness window + one heartbeat period (a block with the new time) + one tick, with slack for a loaded machine.
    expect(runnerSec).toBeLessThan(LIVENESS_WINDOW + 2 * HEARTBEAT_PERIOD + 10);
  });

  it("after the takeover, the new node replaces the instance of a dead provider once and is paid for it", async () => {
    const survivor = nodes.find((n) => n.process.exitCode === null && n.process.signalCode === null);
    if (!survivor) throw new Error("a running node expected");
    const survivorAddress = (await nodeView(survivor))?.node;
    const before = (await ownerClient.getApp({ vault })).slots;
    const status = (await (await appOn(survivor)).json()) as AppStatus;
    const victim = providers.find(
      (p) => p.address.toLowerCase() === status.instances[0]?.provider.toLowerCase(),
    ) as RunningProvider;
    const victimSlot = status.instances[0]?.slot as number;
    const dear = providers[2] as RunningProvider;
    await killProvider(devnet.docker, victim);
    const after = await waitAtTarget(survivor, 2, 120_000, (s) =>
      s.instances.every((i) => i.provider.toLowerCase() !== victim.address.toLowerCase()),
    );
    expect(after.instances.find((i) => i.slot === victimSlot)?.provider.toLowerCase()).toBe(dear.address.toLowerCase());
    const slots = (await ownerClient.getApp({ vault })).slots;
    for (const { slot, leaseId } of before) {
      if (slot === victimSlot) expect(slots[slot]?.leaseId).not.toBe(leaseId);
      else expect(slots[slot]?.leaseId).toBe(leaseId);
    }
    // Replaced once, never twice: one more fee, to the node that placed the new lease, for that lease.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const fees = await ownerClient.publicClient.getContractEvents({
      address: vault,
      abi: appVaultAbi,
      eventName: "NodeFeePaid",
      fromBlock: BigInt(ownerClient.deployment.contracts.appVaultFactory.blockNumber),
    });
    expect(fees).toHaveLength(3);
    expect(fees[2]?.args).toMatchObject({
      node: survivorAddress,
      slot: BigInt(victimSlot),
      newLease: slots[victimSlot]?.leaseId,
      amount: FEE,
    });
    expect((await ownerClient.getApp({ vault })).slots).toEqual(slots);
  });

  it("stops the app's runner when the owner takes the app out of network mode, and runs it again when put back", async () => {
    const survivor = nodes.find((n) => n.process.exitCode === null && n.process.signalCode === null);
    if (!survivor) throw new Error("a running node expected");
    await ownerClient.setAppNetworkTerms({ vault, enabled: false, feePerReplacement: FEE, maxFeesPerDay: 10n * FEE });
    await waitFor(
      "the node to drop the app",
      async () => ((await nodeView(survivor))?.apps.some((a) => a.vault === vault) ? undefined : true),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    expect((await appOn(survivor)).status).toBe(404);
    // The instances stay (the app is the owner's again); the node leaves them alone.
    const slots = (await ownerClient.getApp({ vault })).slots.map((s) => s.leaseId);
    expect(slots.filter((l) => l !== 0n)).toHaveLength(2);
    await ownerClient.setAppNetworkTerms({ vault, enabled: true, feePerReplacement: FEE, maxFeesPerDay: 10n * FEE });
    await waitAtTarget(survivor, 2, 60_000);
    expect((await ownerClient.getApp({ vault })).slots.map((s) => s.leaseId)).toEqual(slots);
  });
});
