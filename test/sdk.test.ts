/**
 * The publisher SDK end to end, against real parts only: anvil with the real contracts, two provider workers as child
 * processes on the real Docker Engine, images built locally FROM scratch with busybox. Publishers use nothing but
 * `createPodnetClient` and its actions: quotes verified before paying, leases, the reverse market, "upload once,
 * deploy anywhere" through the blob cache, pod status and logs, updates, top-ups and closes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  clients,
  Devnet,
  devAccount,
  ingress,
  type LocalChain,
  leaseContainers,
  localDocker,
  mint,
  podHost,
  publisherClient,
  type RunningProvider,
  TOKEN,
  testImageTarball,
  tokenBalance,
  waitFor,
} from "@podnet/devnet";
import {
  attestationHash,
  ContractError,
  contentId,
  createPodnetClient,
  InvalidParameterError,
  ManifestError,
  manifestHash,
  manifestResources,
  NotPublisherError,
  type PodLogLine,
  type PodManifestInput,
  type PodnetClientWithActions,
  type Pricing,
  parseManifest,
  podnetMarketAbi,
  pricePerSecond,
  QuoteVerificationError,
  SpecHashMismatchError,
  WalletRequiredError,
} from "@podnet/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docker = localDocker();
const HOUR = 3600n;
const SECRET = `sdk-secret-${Math.random().toString(36).slice(2)}`;
const PRICING_A: Pricing = { perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 7n };
const PRICING_B: Pricing = { perCpuMilli: 900n, perMemoryMiB: 90n, perStorageMiB: 1n, flat: 5n };

const aliceAccount = devAccount(10).account;
const carolAccount = devAccount(11).account;

let dir: string;
let devnet: Devnet;
let chain: LocalChain;
let A: RunningProvider;
let B: RunningProvider;
let alice: PodnetClientWithActions;
let carol: PodnetClientWithActions;
let tarV1: string;
let tarV2: string;

function webManifest(image: string, extra: Partial<PodManifestInput> = {}): PodManifestInput {
  return {
    version: 1,
    containers: [
      {
        name: "web",
        image,
        // -vv: busybox httpd logs each request's path, which the log tests look for.
        command: ["httpd", "-f", "-vv", "-p", "8080", "-h", "/www"],
        resources: { cpuMillis: 100, memoryMiB: 32, pids: 64 },
      },
    ],
    expose: { http: [{ container: "web", port: 8080 }] },
    ...extra,
  };
}

/** An HTTP proxy in front of a provider API that lowers every quote's price on its way to the publisher. */
async function startTamperingProxy(target: string) {
  let altered = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const upstream = await fetch(`${target}${req.url}`, {
      method: req.method,
      headers: { "content-type": "application/json" },
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    let text = await upstream.text();
    if (req.url === "/v1/quote" && upstream.ok) {
      const json = JSON.parse(text);
      json.quote.pricePerSecond = (BigInt(json.quote.pricePerSecond) - 1n).toString();
      text = JSON.stringify(json);
      altered++;
    }
    res.writeHead(upstream.status, { "content-type": "application/json" });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`,
    altered: () => altered,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** The running container of lease `leaseId` on `provider`. */
async function leaseContainer(provider: RunningProvider, leaseId: bigint) {
  const [container] = (await leaseContainers(docker, provider.address, leaseId)).filter((c) => c.State === "running");
  if (!container) throw new Error(`no container for lease ${leaseId}`);
  return container;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-sdk-e2e-"));
  // The devnet is kept as soon as it runs, so afterAll stops it even when the image build failed.
  await Promise.all([
    Devnet.start({ dir }).then((started) => {
      devnet = started;
    }),
    (async () => {
      tarV1 = await testImageTarball(docker, "podnet-test/sdk:1", join(dir, "sdk-1.tar"), { page: "hello sdk" });
      tarV2 = await testImageTarball(docker, "podnet-test/sdk:2", join(dir, "sdk-2.tar"), { page: "hello sdk v2" });
    })(),
  ]);
  chain = devnet.chain;
  const common = {
    capacity: { cpuMillis: 4000, memoryMiB: 4096, storageMiB: 100_000 },
    attributes: ["region=eu"],
  };
  [A, B] = await Promise.all([
    devnet.startProvider({ index: 7, ...common, pricing: PRICING_A }),
    devnet.startProvider({ index: 8, ...common, pricing: PRICING_B }),
  ]);
  alice = publisherClient(chain, aliceAccount, { blobCacheDir: join(dir, "alice-blobs") });
  carol = publisherClient(chain, carolAccount, { blobCacheDir: join(dir, "carol-blobs") });
  // Tokens only: the SDK approves the market itself when an allowance is short.
  await mint(chain, aliceAccount, 1_000_000n * TOKEN);
  await mint(chain, carolAccount, 1_000_000n * TOKEN);
}, 240_000);

afterAll(() => devnet?.stop());

describe("sdk: quotes", () => {
  const manifest = () => webManifest(`blob:${contentId(new TextEncoder().encode("quote only"))}`);

  it("getQuote returns a quote it verified: signer, fields asked for, attestation", async () => {
    const { quote, signature, attestation, provider } = await alice.getQuote({
      provider: A.address,
      manifest: manifest(),
    });
    const resources = manifestResources(parseManifest(manifest()));
    expect(quote.provider).toBe(A.address);
    expect(quote.publisher).toBe(aliceAccount.address);
    expect(quote.specHash).toBe(manifestHash(manifest()));
    expect(quote.resources).toEqual(resources);
    expect(quote.pricePerSecond).toBe(pricePerSecond(PRICING_A, resources));
    expect(attestationHash(attestation)).toBe(quote.attestationHash);
    expect(attestation.provider).toBe(A.address);
    expect(signature).toMatch(/^0x[0-9a-f]{130}$/);
    expect(provider).toMatchObject({ endpoint: A.worker.apiUrl, encryptionKey: A.encryptionKey, status: "active" });
    expect(provider.attributes).toEqual(["region=eu"]);
  });

  it("refuses a quote altered in flight, and quotes outside the publisher's policy", async () => {
    const proxy = await startTamperingProxy(A.worker.apiUrl);
    try {
      const error = await alice
        .getQuote({ provider: A.address, manifest: manifest(), endpoint: proxy.url })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QuoteVerificationError);
      expect((error as QuoteVerificationError).check).toBe("signature");
      expect(proxy.altered()).toBe(1);
    } finally {
      await proxy.close();
    }
    const listed = pricePerSecond(PRICING_A, manifestResources(parseManifest(manifest())));
    const policies = [
      [{ requireTee: true }, "policy.requireTee"],
      [{ maxPricePerSecond: listed - 1n }, "policy.maxPricePerSecond"],
      [{ runtimes: ["kata"] }, "policy.runtimes"],
    ] as const;
    for (const [policy, check] of policies) {
      const error = await alice.getQuote({ provider: A.address, manifest: manifest(), policy }).catch((e) => e);
      expect(error, check).toBeInstanceOf(QuoteVerificationError);
      expect(error.check).toBe(check);
    }
    const ok = await alice.getQuote({
      provider: A.address,
      manifest: manifest(),
      // The test engine runs with userns-remap (script/toolchain/docker.sh), and the attestation says so.
      policy: { maxPricePerSecond: listed, runtimes: ["docker"], requireUserns: true },
    });
    expect(ok.quote.pricePerSecond).toBe(listed);
    expect(ok.attestation.sandbox.userns).toBe(true);
  });
});

describe("sdk: upload once, deploy anywhere", () => {
  let image: { cid: string; image: `blob:${string}` };
  let manifest: PodManifestInput;
  let leaseA: bigint;
  let leaseB: bigint;
  let depositB: bigint;

  it("deploys to provider A: prepareImage, getQuote, createLease, deployPod (one upload), waitForPod", async () => {
    image = await alice.prepareImage({ tarball: tarV1 });
    devnet.untagBlobOnStop(image.cid);
    manifest = webManifest(image.image);
    const quoted = await alice.getQuote({ provider: A.address, manifest });
    const cost = await alice.estimateCost({ pricePerSecond: quoted.quote.pricePerSecond, seconds: HOUR });
    const lease = await alice.createLease({ ...quoted, deposit: cost.total });
    // alice had approved nothing: the test token takes permits, so the lease is one createLeaseWithPermit
    expect(lease.funding).toBe("permit");
    expect(lease.approveTxHash).toBeUndefined();
    expect(lease.deposit).toBe(cost.total);
    leaseA = lease.leaseId;

    const deployed = await alice.deployPod({ leaseId: leaseA, manifest });
    expect(deployed.uploads).toBe(1);
    expect(deployed.blobs).toEqual({ [image.cid]: "uploaded" });
    expect(deployed.statusUrl).toBe(`${A.worker.apiUrl}/v1/leases/${leaseA}`);
    const status = await alice.waitForPod({ leaseId: leaseA, timeoutMs: 60_000, intervalMs: 200 });
    expect(status.pod.phase).toBe("running");
    expect(status.http.map((h) => h.host)).toContain(podHost(leaseA));
    expect(await A.worker.waitForPage(leaseA, "hello sdk")).toContain("hello sdk");
    expect(alice.blobCache.get(image.cid)?.sources).toEqual([`${A.worker.apiUrl}/v1/blobs/${image.cid}`]);

    const usage = await alice.getPodUsage({ leaseId: leaseA });
    expect(usage.containers).toHaveLength(1);
    expect(usage.containers[0]?.memoryLimitBytes).toBe(32 * 1024 * 1024);
    expect(typeof usage.containers[0]?.cpuNanos).toBe("bigint");
    const events = await alice.getPodEvents({ leaseId: leaseA });
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["manifest", "running"]));
  });

  it("deploys the same manifest to provider B with zero uploads: B fetches the blob from A", async () => {
    // Both workers share one Docker Engine here. Untag the image A loaded, so that B, like a separate machine, has
    // to fetch and decrypt the blob itself (A's container keeps running on the image id).
    await docker.getImage(`podnet-blob/${image.cid}:latest`).remove({ force: true, noprune: true });
    const atB = `${B.worker.apiUrl}/v1/blobs/${image.cid}`;
    expect((await fetch(atB, { method: "HEAD" })).status).toBe(404);

    const quoted = await alice.getQuote({ provider: B.address, manifest });
    depositB = quoted.quote.pricePerSecond * HOUR;
    const lease = await alice.createLease({ ...quoted, deposit: depositB });
    leaseB = lease.leaseId;
    const deployed = await alice.deployPod({ leaseId: leaseB, manifest });
    expect(deployed.uploads).toBe(0);
    expect(deployed.blobs).toEqual({ [image.cid]: "sources" });
    await alice.waitForPod({ leaseId: leaseB, timeoutMs: 60_000, intervalMs: 200 });
    expect(await B.worker.waitForPage(leaseB, "hello sdk")).toContain("hello sdk");

    // B stores the ciphertext now (fetched from A, verified by content id) and says so in its log.
    const stored = await fetch(atB);
    expect(stored.status).toBe(200);
    expect(contentId(new Uint8Array(await stored.arrayBuffer()))).toBe(image.cid);
    const log = readFileSync(B.worker.logFile, "utf8");
    expect(log).toContain("image loaded from encrypted blob");
    expect(log).toContain(image.cid);
    // The cache lists the URLs known to hold the blob when deployPod ran; B fetched it afterwards.
    expect(alice.blobCache.get(image.cid)?.sources).toEqual([`${A.worker.apiUrl}/v1/blobs/${image.cid}`]);
  });

  it("streams logs: tail, follow until the loop breaks, and follow until the signal aborts", async () => {
    await ingress(A.worker.ingressPort, podHost(leaseA), "/sdk-tail-marker");
    const tail: PodLogLine[] = [];
    await waitFor("the tail marker in the logs", async () => {
      tail.length = 0;
      for await (const line of await alice.getPodLogs({ leaseId: leaseA, tail: 50 })) tail.push(line);
      return tail.some((l) => l.text.includes("/sdk-tail-marker")) ? true : undefined;
    });
    expect(tail.every((l) => l.stream === "stdout" || l.stream === "stderr")).toBe(true);

    const follow = await alice.getPodLogs({
      leaseId: leaseA,
      tail: 0,
      follow: true,
      signal: AbortSignal.timeout(20_000),
    });
    // Requests keep coming until the line shows up: the log stream attaches asynchronously at the provider.
    const poke = setInterval(() => void ingress(A.worker.ingressPort, podHost(leaseA), "/sdk-follow-marker"), 250);
    let seen: PodLogLine | undefined;
    try {
      for await (const line of follow) {
        if (line.text.includes("/sdk-follow-marker")) {
          seen = line;
          break;
        }
      }
    } finally {
      clearInterval(poke);
    }
    expect(seen?.stream).toMatch(/stdout|stderr/);

    const controller = new AbortController();
    const quiet = await alice.getPodLogs({ leaseId: leaseA, tail: 0, follow: true, signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    for await (const _ of quiet) {
      // nothing to do: the loop ends when the signal aborts
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("updates the pod on A to a v2 image: updateLeaseSpec + the new manifest, one upload", async () => {
    const v2 = await alice.prepareImage({ tarball: tarV2 });
    devnet.untagBlobOnStop(v2.cid);
    const tooBig = webManifest(v2.image, { replicas: 2 });
    await expect(alice.updatePod({ leaseId: leaseA, manifest: tooBig })).rejects.toThrow(InvalidParameterError);
    expect((await alice.getLease({ leaseId: leaseA })).specHash).toBe(manifestHash(manifest));

    const manifest2 = webManifest(v2.image);
    const updated = await alice.updatePod({ leaseId: leaseA, manifest: manifest2 });
    expect(updated.txHash).toBeDefined();
    expect(updated.uploads).toBe(1);
    expect((await alice.getLease({ leaseId: leaseA })).specHash).toBe(manifestHash(manifest2));
    const status = await alice.waitForPod({ leaseId: leaseA, timeoutMs: 60_000, intervalMs: 200 });
    expect(status.containers.map((c) => c.specHash)).toEqual([manifestHash(manifest2)]);
    expect(await A.worker.waitForPage(leaseA, "hello sdk v2")).toContain("hello sdk v2");
  });

  it("tops up exactly, closes with an exact refund, and estimateCost matches the chain's accounting", async () => {
    const publisher = aliceAccount.address;
    const before = await alice.getLease({ leaseId: leaseB });
    const tokensBefore = await tokenBalance(chain, publisher);
    const amount = 123_456_789n;
    const { balance } = await alice.topUp({ leaseId: leaseB, amount });
    expect(balance).toBe(before.balance + amount);
    expect((await alice.getLease({ leaseId: leaseB })).balance).toBe(before.balance + amount);
    expect(await tokenBalance(chain, publisher)).toBe(tokensBefore - amount);

    const funds = await alice.getBalance();
    expect(funds.balance).toBe(tokensBefore - amount);
    expect(funds.activeLeases.sort()).toEqual([leaseA, leaseB].sort());
    const leases = await Promise.all(funds.activeLeases.map((leaseId) => alice.getLease({ leaseId })));
    expect(funds.escrow).toBe(leases.reduce((sum, l) => sum + l.balance, 0n));

    const beforeClose = await tokenBalance(chain, publisher);
    const closed = await alice.closeLease({ leaseId: leaseB });
    expect(await tokenBalance(chain, publisher)).toBe(beforeClose + closed.refund);
    const lease = await alice.getLease({ leaseId: leaseB });
    expect(lease.status).toBe("closed");
    expect(lease.endedAt).toBe(closed.endedAt);
    const { client } = clients(chain);
    const settled = await client.getContractEvents({
      address: chain.deployment.contracts.podnetMarket.address,
      abi: podnetMarketAbi,
      eventName: "LeaseSettled",
      args: { leaseId: leaseB },
      fromBlock: 0n,
    });
    const paid = settled.reduce((sum, e) => sum + (e.args.amount as bigint), 0n);
    const elapsed = lease.endedAt - lease.startedAt;
    const cost = await alice.estimateCost({ pricePerSecond: lease.pricePerSecond, seconds: elapsed });
    expect(closed.owed + paid).toBe(lease.pricePerSecond * BigInt(elapsed));
    expect(cost.total).toBe(closed.owed + paid);
    expect(closed.refund).toBe(depositB + amount - cost.total);
    expect(cost.protocolFee).toBe((cost.total * 100n) / 10_000n); // the local deployment's 1%
  });

  it("refuses bad input before sending anything", async () => {
    const calls: string[] = [];
    const counting = publisherClient(chain, aliceAccount, {
      blobCacheDir: alice.blobCache.dir,
      fetch: (input, init) => {
        calls.push(String(input));
        return fetch(input, init);
      },
    });
    const other = webManifest(image.image, { replicas: 2 });
    const mismatch = await counting.deployPod({ leaseId: leaseA, manifest: other }).catch((e) => e);
    expect(mismatch).toBeInstanceOf(SpecHashMismatchError);
    expect(mismatch.message).toContain(manifestHash(other));
    expect(mismatch.message).toContain(`lease ${leaseA}`);

    const invalid = webManifest(image.image);
    (invalid.containers[0] as { resources: { cpuMillis: number } }).resources.cpuMillis = 0;
    const refused = await counting.getQuote({ provider: A.address, manifest: invalid }).catch((e) => e);
    expect(refused).toBeInstanceOf(ManifestError);
    expect(refused.issues.map((i: { path: string }) => i.path)).toContain("containers[0].resources.cpuMillis");
    expect(calls).toEqual([]);

    // Contract errors surface with their custom error name.
    const alive = await alice.reportDark({ provider: A.address }).catch((e) => e);
    expect(alive).toBeInstanceOf(ContractError);
    expect(alive.errorName).toBe("MarketProviderAlive");
    const quoted = await alice.getQuote({ provider: B.address, manifest });
    const tooLow = await alice.createLease({ ...quoted, deposit: 1n }).catch((e) => e);
    expect(tooLow).toBeInstanceOf(ContractError);
    expect(tooLow.errorName).toBe("MarketDepositTooLow");

    // Read-only clients read; anything that signs names the missing walletClient.
    const readOnly = createPodnetClient({
      publicClient: clients(chain).client,
      deployment: chain.deployment,
      blobCacheDir: join(dir, "read-only"),
    });
    expect((await readOnly.getProvider({ address: B.address })).endpoint).toBe(B.worker.apiUrl);
    expect((await readOnly.getLease({ leaseId: leaseA })).publisher).toBe(aliceAccount.address);
    await expect(readOnly.createLease({ ...quoted, deposit: 10n ** 18n })).rejects.toThrow(WalletRequiredError);
    await expect(readOnly.getPodStatus({ leaseId: leaseA })).rejects.toThrow(/walletClient/);
    // Another publisher's lease is refused before any request.
    await expect(carol.getPodStatus({ leaseId: leaseA })).rejects.toThrow(NotPublisherError);
  });
});

describe("sdk: reverse market", () => {
  it("createOrder, both workers bid, getBids sorted by price, acceptBid the lowest, deploy with a secret", async () => {
    const image = await carol.prepareImage({ tarball: tarV1 });
    devnet.untagBlobOnStop(image.cid);
    const secret = await carol.prepareSecret({ value: SECRET });
    const base = webManifest(image.image);
    const manifest: PodManifestInput = {
      ...base,
      containers: [
        { ...(base.containers[0] as object), mounts: [{ volume: "creds", path: "/run/secrets", readOnly: true }] },
      ],
      volumes: [{ type: "secret", name: "creds", files: [{ path: "token", blob: secret.blob }] }],
    } as PodManifestInput;
    const resources = manifestResources(parseManifest(manifest));
    const priceA = pricePerSecond(PRICING_A, resources);
    const priceB = pricePerSecond(PRICING_B, resources);
    const order = await carol.createOrder({
      manifest,
      maxPricePerSecond: priceA,
      deposit: priceA * HOUR,
      bidWindowSeconds: 600,
      requirements: { attributes: ["region=eu"], minStake: 100n * TOKEN },
    });
    expect(order.specHash).toBe(manifestHash(manifest));

    const bids = await waitFor(
      "both workers to bid",
      async () => {
        const list = await carol.getBids({ orderId: order.orderId });
        return list.length === 2 ? list : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(bids.map((b) => [b.provider, b.pricePerSecond, b.status])).toEqual([
      [B.address, priceB, "active"],
      [A.address, priceA, "active"],
    ]);

    const accepted = await carol.acceptBid({ orderId: order.orderId });
    expect(accepted.provider).toBe(B.address);
    expect(accepted.pricePerSecond).toBe(priceB);
    expect(await carol.waitForLease({ orderId: order.orderId, timeoutMs: 5_000 })).toEqual({
      leaseId: accepted.leaseId,
      provider: B.address,
      pricePerSecond: priceB,
    });

    const deployed = await carol.deployPod({ leaseId: accepted.leaseId, manifest });
    expect(deployed.uploads).toBe(2);
    await carol.waitForPod({ leaseId: accepted.leaseId, timeoutMs: 60_000, intervalMs: 200 });
    expect(await B.worker.waitForPage(accepted.leaseId, "hello sdk")).toContain("hello sdk");
    const container = await leaseContainer(B, accepted.leaseId);
    expect(execFileSync("docker", ["exec", container.Id, "cat", "/run/secrets/token"], { encoding: "utf8" })).toBe(
      SECRET,
    );

    // The losing worker gives its reservation back once the order is matched.
    await waitFor("A's losing bid to be released", async () => {
      const after = await carol.getBids({ orderId: order.orderId });
      return after.find((b) => b.provider === A.address)?.status === "released" ? true : undefined;
    });
    expect((await carol.getBids({ orderId: order.orderId })).find((b) => b.provider === B.address)?.status).toBe("won");

    // A dispute over the lease takes the court's bond and holds the collateral.
    const before = await tokenBalance(chain, carolAccount.address);
    const dispute = await carol.openDispute({ leaseId: accepted.leaseId, evidenceURI: "ipfs://evidence/report.json" });
    expect(dispute.leaseId).toBe(accepted.leaseId);
    expect(dispute.bond).toBe(10n * TOKEN);
    expect(await tokenBalance(chain, carolAccount.address)).toBe(before - dispute.bond);
    expect((await carol.getLease({ leaseId: accepted.leaseId })).disputed).toBe(true);
  });
});
