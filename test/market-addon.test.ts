/**
 * The bidder as an addon, in a real worker process (anvil, the contracts, the Docker Engine): the worker starts it as
 * a child process with a token of its own; it bids on an order; then it is killed, and with `addons.restart: false`
 * it stays stopped. The trusted core goes on without it: the pod it won keeps serving, a lease made from a quote is
 * deployed and served, and a new order gets no bid (the worker decides no price on its own any more).
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  Devnet,
  devAccount,
  localDocker,
  mint,
  publisherClient,
  type RunningProvider,
  TOKEN,
  testImageTarball,
  waitFor,
  webAppManifest,
  workerBin,
} from "@podnet/devnet";
import { manifestResources, parseManifest, pricePerSecond } from "@podnet/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAdminOrigin } from "../worker/src/admin/origin-file.js";

const PAGE = "hello addons";
const HOUR = 3600n;
const pricing = { perCpuMilli: 1000n, perMemoryMiB: 100n, perStorageMiB: 1n, flat: 7n };
const publisher = devAccount(65).account;

let dir: string;
let net: Devnet;
let provider: RunningProvider;
let tarball: string;
let session: { origin: string; cookie: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "podnet-market-addon-"));
  net = await Devnet.start({ dir });
  tarball = await testImageTarball(localDocker(), "podnet-test/addons:1", join(dir, "addons-1.tar"), { page: PAGE });
  provider = await net.startProvider({
    index: 64,
    pricing,
    env: { PODNET_ADDONS: JSON.stringify({ restart: false }) },
  });
  await mint(net.chain, publisher, 1_000_000n * TOKEN);
  const { stdout } = await promisify(execFile)(process.execPath, [workerBin, "console"], { env: provider.env });
  const token = /#token=([\w-]+)/.exec(stdout)?.[1] as string;
  const origin = readAdminOrigin(provider.worker.dataDir) as string;
  const signIn = await fetch(`${origin}/admin/v1/sign-in/link`, {
    method: "POST",
    headers: { origin, "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  expect(signIn.status).toBe(200);
  session = {
    origin,
    cookie: `podnet_admin=${/podnet_admin=([^;]+)/.exec(signIn.headers.get("set-cookie") ?? "")?.[1]}`,
  };
}, 180_000);

afterAll(() => net?.stop(), 60_000);

interface AddonStatus {
  name: string;
  running: boolean;
  pid: number | null;
  restarts: number;
  scopes: string[];
}

async function addons(): Promise<AddonStatus[]> {
  const res = await fetch(`${session.origin}/admin/v1/addons`, { headers: { cookie: session.cookie } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { addons: AddonStatus[] }).addons;
}

/** The test image's web server, small enough for the providers' test capacity. */
const webManifest = (image: string) => webAppManifest(image, { cpuMillis: 100, memoryMiB: 32, pids: 64 });

describe("the bidder addon", () => {
  it("bids from its own process; killed and not restarted, the worker still runs and serves every pod", async () => {
    const [bidder] = await waitFor("the bidder to run", async () => {
      const list = await addons();
      return list[0]?.running ? list : undefined;
    });
    expect(bidder).toMatchObject({ name: "bidder", running: true, restarts: 0, scopes: ["read", "bids"] });
    expect(bidder?.pid).not.toBe(provider.worker.process.pid);

    const pub = publisherClient(net.chain, publisher, { blobCacheDir: join(dir, "pub-blobs") });
    const image = await pub.prepareImage({ tarball });
    net.untagBlobOnStop(image.cid);
    const manifest = webManifest(image.image);
    const price = pricePerSecond(pricing, manifestResources(parseManifest(manifest)));
    const order = await pub.createOrder({
      manifest,
      maxPricePerSecond: price,
      deposit: price * HOUR,
      bidWindowSeconds: 600,
    });
    const [bid] = await waitFor(
      "the bidder's bid",
      async () => {
        const list = await pub.getBids({ orderId: order.orderId });
        return list.length > 0 ? list : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect([bid?.provider, bid?.pricePerSecond]).toEqual([provider.address, price]);
    const won = await pub.acceptBid({ orderId: order.orderId });
    await pub.deployPod({ leaseId: won.leaseId, manifest });
    expect(await provider.worker.waitForPage(won.leaseId, PAGE)).toContain(PAGE);

    process.kill(bidder?.pid as number, "SIGKILL");
    await waitFor("the worker to see the bidder gone", async () => ((await addons())[0]?.running ? undefined : true));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await addons())[0]).toMatchObject({ running: false, pid: null, restarts: 0 });
    expect(await provider.worker.waitForPage(won.leaseId, PAGE)).toContain(PAGE);
    const health = (await (await fetch(`${provider.worker.apiUrl}/health`)).json()) as { status: string };
    expect(health.status).toBe("ok");

    // A direct lease needs no addon: quoted, created, deployed and served.
    const quoted = await pub.getQuote({ provider: provider.address, manifest });
    const direct = await pub.createLease({ ...quoted, deposit: quoted.quote.pricePerSecond * HOUR });
    await pub.deployPod({ leaseId: direct.leaseId, manifest });
    expect(await provider.worker.waitForPage(direct.leaseId, PAGE)).toContain(PAGE);
    expect(await provider.worker.waitForPage(won.leaseId, PAGE)).toContain(PAGE);

    // With no bidder, the worker bids on nothing: the order is seen (GET /orders) and left alone.
    const unbid = await pub.createOrder({
      manifest,
      maxPricePerSecond: price,
      deposit: price * HOUR,
      bidWindowSeconds: 600,
    });
    const seen = await waitFor("the worker to list the new order", async () => {
      const res = await fetch(`${session.origin}/admin/v1/orders`, { headers: { cookie: session.cookie } });
      const { orders } = (await res.json()) as { orders: { orderId: string }[] };
      return orders.some((o) => o.orderId === String(unbid.orderId)) ? true : undefined;
    });
    expect(seen).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await pub.getBids({ orderId: unbid.orderId })).toEqual([]);
  }, 180_000);
});
