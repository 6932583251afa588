/**
 * The worker learns of a lease by push: with `rpcSubscribeUrl` (anvil's WebSocket endpoint) a new-head subscription
 * pokes its chain follower, so the lease is taken up (its pod network slot given) within moments of the createLease
 * receipt although the follower polls only every 30 s. A second worker without the subscription, polling every 10
 * minutes, is the control: it has not seen its lease when the first one has long acted. Real anvil, real contracts,
 * real workers on Docker.
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  anvilWsUrl,
  Devnet,
  devAccount,
  mint,
  type RunningProvider,
  TOKEN,
  waitFor,
  webAppManifest,
} from "@podnet/devnet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const POLL_MS = "30000";
/**
 * The control polls every 10 minutes: its only poll during the file is the one it makes as it starts. With 30 s, a
 * loaded run whose providers took long to start (the file 67 s instead of 10) made the lease near the control's
 * second poll, and the control took it up within the 3 s it is watched (2026-12-07).
 */
const CONTROL_POLL_MS = "600000";
const publisher = devAccount(93);
let dir: string;
let devnet: Devnet;
let pushed: RunningProvider;
let polled: RunningProvider;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-chain-push-"));
  devnet = await Devnet.start({ dir });
  const wsUrl = anvilWsUrl(devnet.chain.rpcUrl);
  [pushed, polled] = await Promise.all([
    devnet.startProvider({
      index: 113,
      env: { PODNET_POLL_INTERVAL_MS: POLL_MS, PODNET_RPC_SUBSCRIBE_URL: wsUrl },
    }),
    // workerEnv subscribes every devnet worker; the control's subscription is switched off by an empty value.
    devnet.startProvider({
      index: 114,
      env: { PODNET_POLL_INTERVAL_MS: CONTROL_POLL_MS, PODNET_RPC_SUBSCRIBE_URL: "" },
    }),
  ]);
  await mint(devnet.chain, publisher.account, 1_000_000n * TOKEN);
}, 240_000);

afterAll(async () => {
  await devnet?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * The lease's pod-network slot in the worker's state: the first thing a worker does when it sees a lease is to give it
 * one (a warm network, or a new one) and write that at once.
 */
function leaseSlotOf(provider: RunningProvider, leaseId: bigint): number | undefined {
  try {
    const state = JSON.parse(readFileSync(join(provider.worker.dataDir, "state.json"), "utf8"));
    return state.subnets?.[leaseId.toString()];
  } catch {
    return undefined;
  }
}

describe("chain push (new-head subscription)", () => {
  it("a worker subscribed to new heads acts on a lease at once; one that only polls has not yet", async () => {
    const alice = devnet.publisherClient(publisher.account);
    // No manifest is sent: the lease alone makes the worker create the pod's network (the step push moves earlier).
    const manifest = webAppManifest(`registry.example.com/web@sha256:${"a".repeat(64)}`);
    const lease = async (provider: RunningProvider) => {
      const quoted = await alice.getQuote({ provider: provider.address, manifest });
      const created = await alice.createLease({ ...quoted, deposit: quoted.quote.pricePerSecond * 3600n });
      return { leaseId: created.leaseId, at: performance.now() };
    };

    const fast = await lease(pushed);
    await waitFor("the subscribed worker to take up the lease", async () => leaseSlotOf(pushed, fast.leaseId), {
      timeoutMs: 5_000,
      intervalMs: 20,
    });
    const seenAfterMs = performance.now() - fast.at;
    console.log(`subscribed worker: lease taken up ${Math.round(seenAfterMs)} ms after the createLease receipt`);
    expect(seenAfterMs).toBeLessThan(5_000);

    const slow = await lease(polled);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    // The control: no subscription, so nothing tells the follower before its next poll (minutes away).
    expect(leaseSlotOf(polled, slow.leaseId)).toBeUndefined();
  });
});
