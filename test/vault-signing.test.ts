/**
 * Leases published by an app's AppVault, end to end on real parts: anvil with the real contracts, an app created
 * through the AppVaultFactory, the worker as a child process and a real Docker Engine. The app's controller leases a
 * slot from the worker's quote (`replaceSlot`), sends the pod with its own key through the SDK and reads its status
 * and logs; the worker checks every such request with ERC-1271 on the vault. Hostile callers: a stranger, a removed
 * controller (after the worker's verdict TTL), a controller of another app, a signature over another lease, a replay.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  body,
  clients,
  contractHandles,
  Devnet,
  devAccount,
  type LocalChain,
  localDocker,
  mint,
  Publisher,
  type SealedBlob,
  sealTestImage,
  TOKEN,
  type WorkerProcess,
  waitFor,
  walletClient,
} from "@podnet/devnet";
import type { PodnetClientWithActions } from "@podnet/sdk";
import {
  appVaultAbi,
  manifestHash,
  type PodManifestInput,
  parseManifest,
  podnetMarketAbi,
  providerApiPaths,
  signRequest,
} from "@podnet/sdk/protocol";
import { type Address, getContract, type Hex, keccak256, parseEventLogs, stringToHex, zeroHash } from "viem";
import type { HDAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const docker = localDocker();
/** The worker's ERC-1271 verdict TTL (worker/src/api/contract-publishers.ts, `verdictTtlMs`). */
const VERDICT_TTL_MS = 10_000;
const PAGE = "hello from a vault";

let devnet: Devnet;
let chain: LocalChain;
let worker: WorkerProcess;
let provider: Address;
let encryptionKey: Hex;
let image: SealedBlob;
let manifest: PodManifestInput;

const owner = devAccount(2).account;
const controller = devAccount(3).account;
const stranger = devAccount(5).account;
/** Owner and controller of another app. */
const otherOwner = devAccount(6).account;
const otherController = devAccount(7).account;

let vault: Address;
let otherVault: Address;
let leaseId: bigint;

function webManifest(cid: string): PodManifestInput {
  return {
    version: 1,
    containers: [
      {
        name: "web",
        image: `blob:${cid}`,
        command: ["httpd", "-f", "-vv", "-p", "8080", "-h", "/www"],
        resources: { cpuMillis: 250, memoryMiB: 64, pids: 64 },
      },
    ],
    expose: { http: [{ container: "web", port: 8080 }] },
  };
}

async function waitReceipt(hash: Hex) {
  const receipt = await clients(chain).client.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
  return receipt;
}

function vaultAs(address: Address, account: HDAccount) {
  return getContract({ address, abi: appVaultAbi, client: walletClient(chain, account) });
}

/** Creates an app owned by `appOwner` with `controllers`, funded with 100 tokens; returns the vault's address. */
async function createFundedApp(appOwner: HDAccount, controllers: Address[], specHash: Hex): Promise<Address> {
  await mint(chain, appOwner, 100n * TOKEN);
  const { vaultFactory, token } = contractHandles(chain.deployment, walletClient(chain, appOwner));
  const salt = keccak256(stringToHex(`vault-signing ${appOwner.address}`));
  const address = await vaultFactory.read.predictApp([appOwner.address, salt]);
  const limits = { maxPricePerSecond: 10n ** 12n, maxDepositPerLease: 10n * TOKEN, maxInstances: 2 };
  await waitReceipt(await vaultFactory.write.createApp([salt, specHash, zeroHash, limits, controllers]));
  await waitReceipt(await token.write.approve([address, 100n * TOKEN]));
  await waitReceipt(await vaultAs(address, appOwner).write.fund([100n * TOKEN]));
  return address;
}

/** A signed GET of the lease's status by `account`, as the worker answers it. */
async function statusAs(account: HDAccount, id = leaseId) {
  return new Publisher(chain, account).signedFetch(worker.apiUrl, provider, providerApiPaths.status(id));
}

async function refusal(response: Response) {
  return { status: response.status, message: (await body(response)).error?.message as string };
}

beforeAll(async () => {
  devnet = await Devnet.start({ dir: mkdtempSync(join(tmpdir(), "podnet-vault-signing-")) });
  chain = devnet.chain;
  image = await sealTestImage(docker, "podnet-test/web:vault", { page: PAGE });
  devnet.untagBlobOnStop(image.cid);
  manifest = webManifest(image.cid);
  ({ address: provider, encryptionKey, worker } = await devnet.startProvider({ index: 100 }));
  const specHash = manifestHash(parseManifest(manifest));
  vault = await createFundedApp(owner, [controller.address], specHash);
  otherVault = await createFundedApp(otherOwner, [otherController.address], specHash);
  expect(await vaultAs(otherVault, otherOwner).read.isController([otherController.address])).toBe(true);
}, 240_000);

afterAll(() => devnet?.stop());

describe("a lease published by an AppVault", () => {
  let sdk: PodnetClientWithActions;

  it("is leased by the app's controller into a slot from the worker's quote bound to the vault", async () => {
    sdk = devnet.publisherClient(controller);
    const { quote, signature } = await sdk.getQuote({ provider, manifest, publisher: vault });
    expect(quote.publisher).toBe(vault);
    const receipt = await waitReceipt(
      await vaultAs(vault, controller).write.replaceSlot([0n, 0n, quote, signature, quote.pricePerSecond * 3600n]),
    );
    const [created] = parseEventLogs({ abi: podnetMarketAbi, eventName: "LeaseCreated", logs: receipt.logs });
    leaseId = created?.args.leaseId as bigint;
    const lease = await sdk.getLease({ leaseId });
    expect(lease.publisher).toBe(vault);
  });

  it("refuses a stranger's manifest and blob for the vault's lease (403 naming the reason), storing nothing", async () => {
    const hostile = new Publisher(chain, stranger);
    const blob = await hostile.uploadBlob(worker.apiUrl, provider, leaseId, image.cid, image.ciphertext);
    expect(await refusal(blob)).toEqual({
      status: 403,
      message: `lease ${leaseId}: ${stranger.address} is not its publisher ${vault}: not an owner or controller of that contract (ERC-1271 isValidSignature refused)`,
    });
    const sent = await hostile.sendManifest(worker.apiUrl, provider, encryptionKey, leaseId, manifest, {
      [image.cid]: image.key,
    });
    expect((await refusal(sent)).status).toBe(403);
    expect((await fetch(`${worker.apiUrl}${providerApiPaths.blob(image.cid)}`, { method: "HEAD" })).status).toBe(404);
    // The vault's refusal of this key is remembered: its next manifest is refused before its body is read (a body
    // past the route's limit gets 403, not 413).
    const big = JSON.stringify({ manifest: "x".repeat(1024 * 1024), keys: {} });
    const oversized = await hostile.signedFetch(worker.apiUrl, provider, providerApiPaths.manifest(leaseId), {
      method: "PUT",
      body: big,
    });
    expect((await refusal(oversized)).status).toBe(403);
  });

  it("refuses a controller of another app", async () => {
    const refused = await refusal(await statusAs(otherController));
    expect(refused.status).toBe(403);
    expect(refused.message).toContain("not an owner or controller of that contract");
  });

  it("runs the pod the controller sends with its own key through the SDK; status and logs work for it", async () => {
    // The blob goes up signed by the controller; deployPod then finds it at the provider and sends the manifest.
    const upload = await new Publisher(chain, controller).uploadBlob(
      worker.apiUrl,
      provider,
      leaseId,
      image.cid,
      image.ciphertext,
    );
    expect([200, 201]).toContain(upload.status);
    const deployed = await sdk.deployPod({ leaseId, manifest, contentKeys: { [image.cid]: image.key } });
    expect(deployed.blobs[image.cid]).toBe("present");
    expect(await worker.waitForPage(leaseId, PAGE)).toContain(PAGE);
    const status = await sdk.waitForPod({ leaseId, timeoutMs: 60_000 });
    expect(status.pod.phase).toBe("running");
    const lines = await waitFor("the pod's logs", async () => {
      const tail = [];
      for await (const line of await sdk.getPodLogs({ leaseId, tail: 50 })) tail.push(line);
      return tail.length > 0 ? tail : undefined;
    });
    expect(lines.length).toBeGreaterThan(0);
  }, 120_000);

  it("lets the app's owner in too", async () => {
    expect((await statusAs(owner)).status).toBe(200);
  });

  it("refuses a signature over another lease and a replayed request (401)", async () => {
    const headers = await signRequest(controller, 31337, {
      provider,
      method: "GET",
      path: providerApiPaths.status(leaseId + 1n),
    });
    const moved = await fetch(`${worker.apiUrl}${providerApiPaths.status(leaseId)}`, { headers });
    expect(await refusal(moved)).toEqual({
      status: 401,
      message: "x-podnet-signature: does not match the signer for this request",
    });

    const once = await signRequest(controller, 31337, {
      provider,
      method: "GET",
      path: providerApiPaths.events(leaseId),
    });
    const url = `${worker.apiUrl}${providerApiPaths.events(leaseId)}`;
    expect((await fetch(url, { headers: once })).status).toBe(200);
    expect(await refusal(await fetch(url, { headers: once }))).toEqual({
      status: 401,
      message: "x-podnet-nonce: already used (replayed request)",
    });
  });

  it("refuses a removed controller once the verdict TTL has passed", async () => {
    expect((await statusAs(controller)).status).toBe(200);
    await waitReceipt(await vaultAs(vault, owner).write.setController([controller.address, false]));
    const removedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, VERDICT_TTL_MS + 500 - (Date.now() - removedAt)));
    const refused = await refusal(await statusAs(controller));
    expect(refused.status).toBe(403);
    expect(refused.message).toContain("not an owner or controller of that contract");
    await expect(sdk.getPodStatus({ leaseId })).rejects.toThrow(/not an owner or controller/);
  }, 30_000);
});
